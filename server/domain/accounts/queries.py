"""SQL for accounts."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, and_, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.contracts.enums import Role, TokenKind
from server.db.models import ApiToken, Theater, User, UserTheater
from server.domain.accounts.contact import MIN_PHONE_DIGITS
from server.infra.database import fetchrow


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def unknown_theaters(
    session: AsyncSession, theater_ids: Collection[uuid.UUID]
) -> list[uuid.UUID]:
    """The ids among ``theater_ids`` that no theater has, in the order given."""
    found = set(await session.scalars(select(Theater.id).where(Theater.id.in_(theater_ids))))
    return [t for t in theater_ids if t not in found]


async def theater_ids_of(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(UserTheater.theater_id).where(UserTheater.user_id == user_id)
    )
    return list(rows)


# One round trip per cache miss: the token, its user and their theaters, and a touch of
# last_used_at only when it is a minute stale (a token used all day is not rewritten per call).
# On asyncpg directly: every buyer's first request of a release night runs it.
_RESOLVE = """
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


async def active_token(conn: asyncpg.Connection, digest: str, now: datetime) -> Any:
    """The live token with this digest and its active user (an asyncpg record), or None."""
    return await fetchrow(conn, _RESOLVE, {"digest": digest, "now": now})


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


# -- customers by how they are reached ------------------------------------------------------

USERS = User.__table__.c
# Guests keep the e-mail they leave in their preferences (users.email is for logins).
GUEST_EMAIL = USERS.preferences["contact_email"].astext


def _digits(column: Any) -> Any:
    return func.regexp_replace(column, "[^0-9]", "", "g")


def phone_matches(column: Any, digits: str) -> ColumnElement[bool]:
    """A stored phone number is the one typed (as digits) when their digits agree, either
    side perhaps with a country code the other left out (a suffix match). A stored number
    with too few digits to be one never matches."""
    stored = _digits(column)
    return and_(
        func.length(stored) >= MIN_PHONE_DIGITS,
        or_(
            stored == digits,
            func.right(stored, len(digits)) == digits,
            func.right(digits, func.length(stored)) == stored,
        ),
    )


def _reached_at(*, email: str | None = None, phone_digits: str | None = None) -> Any:
    """Reached at this e-mail (a login, or the contact e-mail a guest left; any case), or at
    this phone number."""
    if email is not None:
        wanted = email.lower()
        return or_(func.lower(USERS.email) == wanted, func.lower(GUEST_EMAIL) == wanted)
    assert phone_digits is not None, "an e-mail or a phone number"
    return phone_matches(USERS.phone, phone_digits)


CUSTOMERS = select(USERS.id, USERS.name, USERS.is_guest).where(
    USERS.role == Role.CUSTOMER.value, USERS.is_active
)


async def customer_by_contact(
    conn: AsyncConnection, *, email: str | None, phone_digits: str | None
) -> Any:
    """The customer reached at this e-mail; else the one at this phone number who has no
    other e-mail on file. Registered customers come before guests, then the newest."""
    first = CUSTOMERS.order_by(USERS.is_guest, USERS.created_at.desc(), USERS.id).limit(1)
    if email is not None:
        found = (await conn.execute(first.where(_reached_at(email=email)))).first()
        if found is not None or phone_digits is None:
            return found
    if phone_digits is None:
        return None
    by_phone = first.where(_reached_at(phone_digits=phone_digits))
    if email is not None:
        by_phone = by_phone.where(func.coalesce(USERS.email, GUEST_EMAIL).is_(None))
    return (await conn.execute(by_phone)).first()


async def customers_reached_at(
    conn: AsyncConnection, *, email: str | None = None, phone_digits: str | None = None
) -> list[uuid.UUID]:
    """Every customer reached at this e-mail or this phone number."""
    rows = await conn.execute(CUSTOMERS.where(_reached_at(email=email, phone_digits=phone_digits)))
    return [row.id for row in rows]


# The first of pg_advisory_xact_lock's two keys for "finding or creating a customer by a
# contact" ("bmsc"); the second is the contact's own key (services.contact_keys).
CONTACT_LOCK_SPACE = 0x626D7363


async def lock_contacts(conn: AsyncConnection, keys: Collection[int]) -> None:
    """Hold a lock on each contact key until the transaction ends, in key order, so that two
    transactions wanting overlapping keys take turns and never deadlock."""
    for key in sorted(set(keys)):
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": CONTACT_LOCK_SPACE, "key": key},
        )


async def insert_guest_customer(
    conn: AsyncConnection, *, name: str, email: str | None, phone: str | None
) -> uuid.UUID:
    """A customer with no login, known by the contact a clerk took down."""
    user_id = await conn.scalar(
        insert(User)
        .values(
            name=name,
            email=None,
            phone=phone,
            role=Role.CUSTOMER.value,
            is_guest=True,
            preferences={"contact_email": email} if email else {},
        )
        .returning(User.id)
    )
    assert user_id is not None
    return user_id


async def fill_in_guest(
    conn: AsyncConnection, user_id: uuid.UUID, *, name: str, email: str | None, phone: str | None
) -> None:
    """Complete a guest's record with what it lacks (a phone, an e-mail, a name other than
    "Guest"); what it has is kept. Registered accounts are never changed."""
    await conn.execute(
        text(
            """
            UPDATE users
               SET phone = COALESCE(phone, CAST(:phone AS text)),
                   preferences = CASE
                       WHEN CAST(:email AS text) IS NULL
                         OR preferences->>'contact_email' IS NOT NULL THEN preferences
                       ELSE preferences || jsonb_build_object('contact_email', CAST(:email AS text))
                   END,
                   name = CASE WHEN name = 'Guest' THEN :name ELSE name END
             WHERE id = :id AND is_guest
            """
        ),
        {"id": user_id, "name": name, "email": email, "phone": phone},
    )


async def preferences_of(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    found = await session.scalar(select(User.preferences).where(User.id == user_id))
    return dict(found or {})


async def set_tastes(
    session: AsyncSession, user_id: uuid.UUID, tastes: dict[str, list[str]]
) -> None:
    """Replace the user's genres and languages; the rest of ``preferences`` (a guest's contact
    e-mail, a kiosk session's channel) stays as it is."""
    await session.execute(
        text("UPDATE users SET preferences = preferences || CAST(:tastes AS jsonb) WHERE id = :id"),
        {"id": user_id, "tastes": json.dumps(tastes)},
    )
