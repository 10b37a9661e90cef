"""SQL for accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApiToken, User, UserTheater


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def theater_ids_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(UserTheater.theater_id).where(UserTheater.user_id == user_id)
    )
    return list(rows)


async def active_token(
    session: AsyncSession, digest: str, now: datetime
) -> tuple[ApiToken, User] | None:
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == digest,
                ApiToken.revoked_at.is_(None),
                User.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    token, user = row
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return token, user


async def touch_token(session: AsyncSession, token_id: uuid.UUID, now: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


async def tokens_of(session: AsyncSession, user_ids: list[uuid.UUID] | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at)
    if user_ids is not None:
        query = query.where(ApiToken.user_id.in_(user_ids))
    return list(await session.scalars(query))
