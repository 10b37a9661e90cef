"""SQL for accounts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.contracts.enums import Role, TokenKind
from server.db.models import ApiToken, User, UserTheater


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def theater_ids_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(UserTheater.theater_id).where(UserTheater.user_id == user_id)
    )
    return list(rows)


# One round trip per cache miss: the token, its user and their theaters, and a touch of
# last_used_at only when it is a minute stale (a token used all day is not rewritten per call).
_RESOLVE = text(
    """
    WITH found AS (
        SELECT t.id AS token_id, t.last_used_at, u.id AS user_id, u.role, u.name, u.is_guest,
               u.preferences ->> 'channel' AS channel,
               ARRAY(SELECT ut.theater_id FROM user_theaters ut WHERE ut.user_id = u.id)
                   AS theater_ids
          FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = :digest AND t.revoked_at IS NULL AND u.is_active
           AND (t.expires_at IS NULL OR t.expires_at > :now)
    ), touched AS (
        UPDATE api_tokens SET last_used_at = :now
          FROM found
         WHERE api_tokens.id = found.token_id
           AND (found.last_used_at IS NULL
                OR found.last_used_at < CAST(:now AS timestamptz) - interval '1 minute')
    )
    SELECT token_id, user_id, role, name, is_guest, channel, theater_ids FROM found
    """
)


async def active_token(conn: AsyncConnection, digest: str, now: datetime) -> Row[Any] | None:
    """The live token with this digest and its active user, or None."""
    return (await conn.execute(_RESOLVE, {"digest": digest, "now": now})).first()


async def tokens_of(session: AsyncSession, user_ids: list[uuid.UUID] | None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at)
    if user_ids is not None:
        query = query.where(ApiToken.user_id.in_(user_ids))
    return list(await session.scalars(query))


async def users_matching(
    session: AsyncSession,
    *,
    roles: Collection[Role] | None,
    theater_ids: Collection[uuid.UUID] | None,
    email: str | None,
    limit: int,
) -> list[User]:
    """Registered users (never guest sessions), by name; ``None`` means "do not filter"."""
    query = (
        select(User)
        .where(User.is_guest.is_(False))
        .order_by(func.lower(User.name), User.id)
        .limit(limit)
    )
    if roles is not None:
        query = query.where(User.role.in_([role.value for role in roles]))
    if theater_ids is not None:
        scoped = select(UserTheater.user_id).where(UserTheater.theater_id.in_(theater_ids))
        query = query.where(User.id.in_(scoped))
    if email is not None:
        query = query.where(func.lower(User.email) == email.strip().lower())
    return list(await session.scalars(query))


async def theater_ids_by_user(
    session: AsyncSession, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(UserTheater.user_id, UserTheater.theater_id)
        .where(UserTheater.user_id.in_(user_ids))
        .order_by(UserTheater.theater_id)
    )
    scopes: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for user_id, theater_id in rows:
        scopes[user_id].append(theater_id)
    return scopes


async def revoke_sessions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID
) -> int:
    """Revoke the user's live login sessions except ``keep``; returns how many were revoked."""
    result = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.kind == TokenKind.SESSION.value,
            ApiToken.revoked_at.is_(None),
            ApiToken.id != keep,
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
