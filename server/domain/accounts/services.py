"""Account rules: login, guest sessions, token issue/revoke, resolving a bearer token."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.clock import Clock
from server.contracts import api
from server.contracts.checkout import CustomerContact
from server.contracts.enums import Role, TokenKind
from server.db.models import ApiToken, User, UserTheater
from server.domain.accounts import queries
from server.domain.accounts.contact import (
    MAX_NAME,
    MIN_PHONE_DIGITS,
    checked_email,
    checked_phone,
    digits_of,
)
from server.domain.accounts.principal import Principal
from server.domain.accounts.security import (
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from server.domain.names import distinct_names
from server.infra.database import DriverPool
from server.infra.ttl_cache import TtlCache

SESSION_LIFETIME = timedelta(hours=12)
GUEST_LIFETIME = timedelta(hours=2)
MIN_PASSWORD_LENGTH = 8
# Ten years: beyond that a token's expiry is no expiry, and far enough out it overflows.
MAX_TOKEN_DAYS = 3650
# The accounts a theater admin manages, and so the only ones they may list.
THEATER_STAFF_ROLES = (Role.CLERK, Role.KIOSK, Role.THEATER_ADMIN)


async def issue_token(
    session: AsyncSession,
    user: User,
    *,
    kind: TokenKind,
    name: str,
    expires_at: datetime | None,
) -> tuple[str, ApiToken]:
    token = new_token()
    record = ApiToken(
        user_id=user.id,
        name=name,
        kind=kind.value,
        token_hash=token_digest(token),
        prefix=token[:12],
        expires_at=expires_at,
    )
    session.add(record)
    await session.flush()
    return token, record


async def _token_out(
    session: AsyncSession, user: User, token: str, expires_at: datetime | None
) -> api.TokenOut:
    return api.TokenOut(
        token=token,
        user_id=user.id,
        role=user.role,
        name=user.name,
        theater_ids=await queries.theater_ids_of(session, user.id),
        expires_at=expires_at,
    )


async def login(session: AsyncSession, clock: Clock, body: api.LoginRequest) -> api.TokenOut:
    user = await queries.user_by_email(session, body.email.strip())
    if user is None or not user.password_hash or not user.is_active:
        raise Unauthorized("E-mail or password is wrong; check both and try again.")
    if not verify_password(user.password_hash, body.password):
        raise Unauthorized("E-mail or password is wrong; check both and try again.")
    expires_at = clock.now() + SESSION_LIFETIME
    token, _ = await issue_token(
        session, user, kind=TokenKind.SESSION, name="login", expires_at=expires_at
    )
    return await _token_out(session, user, token, expires_at)


async def guest(
    session: AsyncSession,
    clock: Clock,
    body: api.GuestRequest,
    started_by: Principal | None = None,
) -> api.TokenOut:
    """A guest buyer: a customer account with no password, for kiosk and online walk-ups.
    A guest session started by a kiosk device sells through the kiosk channel."""
    preferences: dict[str, object] = {}
    if started_by is not None and started_by.role is Role.KIOSK:
        preferences["channel"] = "kiosk"
    if body.email and body.email.strip():
        # Guests keep their contact e-mail on the user row for notifications, unverified.
        preferences["contact_email"] = checked_email(body.email, "email")
    phone = body.phone.strip() if body.phone else ""
    user = User(
        name=(body.name or "Guest").strip()[:MAX_NAME] or "Guest",
        email=None,
        phone=checked_phone(phone, "phone") if phone else None,
        role=Role.CUSTOMER.value,
        is_guest=True,
        preferences=preferences,
    )
    session.add(user)
    await session.flush()
    expires_at = clock.now() + GUEST_LIFETIME
    token, _ = await issue_token(
        session, user, kind=TokenKind.SESSION, name="guest", expires_at=expires_at
    )
    return await _token_out(session, user, token, expires_at)


def contact_keys(email: str | None, phone_digits: str | None) -> list[int]:
    """Lock keys for a contact: its e-mail in any case, and the last digits of its phone
    number (two numbers that ``queries.phone_matches`` may take for one end in the same
    ``MIN_PHONE_DIGITS`` digits, whichever country code either has)."""
    names = []
    if email:
        names.append(f"email:{email.lower()}")
    if phone_digits:
        names.append(f"phone:{phone_digits[-MIN_PHONE_DIGITS:]}")
    return [
        int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), signed=True)
        for name in names
    ]


async def customer_for(conn: AsyncConnection, customer: CustomerContact) -> uuid.UUID:
    """The customer a clerk acts for (``customer`` already checked by
    ``contact.checked_customer``): the customer reached at that e-mail, else at that phone
    number, else a new guest customer with that name and contact. A guest found is completed
    with the addresses it lacked, so whatever the clerk took down reaches them.

    Two clerks taking down the same new customer at once must not make two guests of them:
    the lookup and the insert run under transaction-scoped locks on the contact's keys, so the
    second waits for the first's transaction and then finds the guest it created. (A unique
    index cannot say this: guest sessions keep a contact e-mail too, one new guest per
    session, and many guests may rightly share one.)"""
    digits = digits_of(customer.phone) if customer.phone else None
    await queries.lock_contacts(conn, contact_keys(customer.email, digits))
    found = await queries.customer_by_contact(conn, email=customer.email, phone_digits=digits)
    name = customer.name or "Guest"
    if found is None:
        return await queries.insert_guest_customer(
            conn, name=name, email=customer.email, phone=customer.phone
        )
    if found.is_guest:
        await queries.fill_in_guest(
            conn, found.id, name=name, email=customer.email, phone=customer.phone
        )
    user_id: uuid.UUID = found.id
    return user_id


def token_cache() -> TtlCache[str, Principal]:
    """Resolved principals for 10 s: a revoked token stays usable that long on a process that
    cached it (revoking through this process clears its cache at once)."""
    return TtlCache(ttl=10.0)


async def resolve(
    pool: DriverPool, clock: Clock, cache: TtlCache[str, Principal], token: str
) -> Principal:
    digest = token_digest(token)
    cached = cache.get(digest)
    if cached is not None:
        return cached
    async with pool.connection() as conn:
        found = await queries.active_token(conn, digest, clock.now())
    if found is None:
        raise Unauthorized("The bearer token is unknown, expired or revoked; log in again.")
    principal = Principal(
        user_id=found["user_id"],
        role=Role(found["role"]),
        name=found["name"],
        token_id=found["token_id"],
        theater_ids=frozenset(found["theater_ids"]),
        is_guest=found["is_guest"],
        channel=found["channel"],
    )
    cache.put(digest, principal)
    return principal


def _check_can_manage(actor: Principal, role: Role, theater_ids: list[uuid.UUID]) -> None:
    """The rule for creating an account (``_check_can_manage_account`` words it for one that
    exists)."""
    if actor.is_platform_admin:
        return
    if actor.role is not Role.THEATER_ADMIN:
        raise Forbidden("Only theater and platform admins manage users and tokens.")
    if role in {Role.PLATFORM_ADMIN, Role.CUSTOMER}:
        raise Forbidden(f"A theater admin cannot create {role.value} accounts.")
    if not theater_ids or not all(actor.can_act_for(t) for t in theater_ids):
        raise Forbidden(
            "You can only create staff for your own theaters; give only theaters of yours."
        )


def checked_password(password: str) -> str:
    """The one password rule, for new accounts and resets alike."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters, "
            "or leave it out to have one generated."
        )
    return password


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise Invalid(
            f"role {value!r} is unknown; use one of {', '.join(r.value for r in Role)}"
        ) from None


async def create_user(session: AsyncSession, actor: Principal, body: api.UserCreate) -> api.UserOut:
    role = parse_role(body.role)
    _check_can_manage(actor, role, body.theater_ids)
    if role in {Role.CLERK, Role.KIOSK, Role.THEATER_ADMIN} and not body.theater_ids:
        raise Invalid(f"A {role.value} must be scoped to at least one theater (theater_ids).")
    name = body.name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"name must be 1 to {MAX_NAME} characters; it is {len(name)}.")
    email = checked_email(body.email, "email") if body.email is not None else None
    phone = checked_phone(body.phone, "phone") if body.phone is not None else None
    password = checked_password(body.password) if body.password is not None else None
    unknown = await queries.unknown_theaters(session, body.theater_ids)
    if unknown:
        raise NotFound(
            f"There is no theater {', '.join(map(str, unknown))}; `bms admin theater list` "
            "shows them."
        )
    if email and await queries.user_by_email(session, email):
        raise Conflict(f"A user with e-mail {email} already exists.")
    user = User(
        name=name,
        email=email,
        phone=phone,
        role=role.value,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    await session.flush()
    for theater_id in body.theater_ids:
        session.add(UserTheater(user_id=user.id, theater_id=theater_id))
    await session.commit()
    return user_out(user, body.theater_ids)


def user_out(user: User, theater_ids: list[uuid.UUID]) -> api.UserOut:
    return api.UserOut(
        user_id=user.id,
        name=user.name,
        role=user.role,
        email=user.email,
        phone=user.phone,
        theater_ids=theater_ids,
        wallet_balance_minor=user.wallet_balance_minor,
        loyalty_points=user.loyalty_points,
    )


async def me(session: AsyncSession, principal: Principal) -> api.UserOut:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    return user_out(user, sorted(principal.theater_ids))


async def create_api_token(
    session: AsyncSession, clock: Clock, actor: Principal, body: api.ApiTokenCreate
) -> api.ApiTokenOut:
    try:
        kind = TokenKind(body.kind)
    except ValueError:
        raise Invalid("kind must be 'api' or 'kiosk'.") from None
    if kind is TokenKind.SESSION:
        raise Invalid("Session tokens come from login; create an 'api' or 'kiosk' token.")
    owner_id = body.user_id or actor.user_id
    owner = await session.get(User, owner_id)
    if owner is None:
        raise NotFound(f"No user {owner_id}.")
    if owner_id != actor.user_id:
        owner_theaters = await queries.theater_ids_of(session, owner.id)
        _check_can_manage_account(actor, Role(owner.role), owner_theaters, "create a token for")
    if kind is TokenKind.KIOSK and owner.role != Role.KIOSK.value:
        raise Invalid("Kiosk tokens belong to kiosk device users; create one with role 'kiosk'.")
    if body.expires_in_days is not None and not 0 <= body.expires_in_days <= MAX_TOKEN_DAYS:
        raise Invalid(
            f"expires_in_days must be 1–{MAX_TOKEN_DAYS} (or left out for a token that does "
            "not expire).",
            field="expires_in_days",
        )
    expires_at = (
        clock.now() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    )
    token, record = await issue_token(
        session, owner, kind=kind, name=body.name, expires_at=expires_at
    )
    await session.commit()
    out = token_out(record)
    out.token = token
    return out


def token_out(record: ApiToken) -> api.ApiTokenOut:
    return api.ApiTokenOut(
        token_id=record.id,
        name=record.name,
        kind=record.kind,
        prefix=record.prefix,
        user_id=record.user_id,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
    )


async def list_tokens(session: AsyncSession, actor: Principal) -> list[api.ApiTokenOut]:
    if actor.is_platform_admin:
        records = await queries.tokens_of(session, None)
    elif actor.role is Role.THEATER_ADMIN:
        staff = await session.scalars(
            select(UserTheater.user_id).where(UserTheater.theater_id.in_(actor.theater_ids))
        )
        records = await queries.tokens_of(session, [*set(staff), actor.user_id])
    else:
        records = await queries.tokens_of(session, [actor.user_id])
    return [token_out(r) for r in records if r.kind != TokenKind.SESSION.value]


async def revoke_token(
    session: AsyncSession, clock: Clock, actor: Principal, token_id: uuid.UUID
) -> None:
    record = await session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"No token {token_id}.")
    if record.user_id != actor.user_id:
        owner = await session.get(User, record.user_id)
        assert owner is not None
        _check_can_manage_account(
            actor,
            Role(owner.role),
            await queries.theater_ids_of(session, owner.id),
            "revoke a token of",
        )
    record.revoked_at = record.revoked_at or clock.now()
    await session.commit()


async def logout(session: AsyncSession, clock: Clock, principal: Principal) -> None:
    record = await session.get(ApiToken, principal.token_id)
    if record is None or record.kind != TokenKind.SESSION.value:
        raise Invalid(
            "Only login sessions log out; revoke an api or kiosk token with "
            "DELETE /api/v1/tokens/{token_id}."
        )
    record.revoked_at = record.revoked_at or clock.now()
    await session.commit()


async def list_users(
    session: AsyncSession,
    actor: Principal,
    *,
    role: str | None,
    theater_id: uuid.UUID | None,
    email: str | None,
    limit: int,
) -> list[api.UserOut]:
    """Platform admins see every registered user; theater admins only their own theaters' staff."""
    roles: Collection[Role] | None = [parse_role(role)] if role else None
    theaters: Collection[uuid.UUID] | None = [theater_id] if theater_id else None
    if not actor.is_platform_admin:
        if roles is not None and not set(roles) <= set(THEATER_STAFF_ROLES):
            raise Forbidden(
                "Theater admins list only clerks, kiosks and theater admins; "
                "ask a platform admin about other accounts."
            )
        roles = roles or THEATER_STAFF_ROLES
        theaters = theaters or actor.theater_ids
    users = await queries.users_matching(
        session, roles=roles, theater_ids=theaters, email=email, limit=limit
    )
    scopes = await queries.theater_ids_by_user(session, [u.id for u in users])
    return [
        user_out(user, [t for t in scopes.get(user.id, []) if actor.can_act_for(t)])
        for user in users
    ]


def _check_can_manage_account(
    actor: Principal, role: Role, theater_ids: list[uuid.UUID], doing: str
) -> None:
    """The rule for creating an account, worded for ``doing`` something to one that exists
    ("revoke a token of"), so a refusal names the action it refused."""
    try:
        _check_can_manage(actor, role, theater_ids)
    except Forbidden:
        raise Forbidden(
            f"You cannot {doing} that account: it is not one you manage (theater admins manage "
            "the clerks, kiosks and theater admins of their own theaters only)."
        ) from None


async def reset_password(
    session: AsyncSession,
    clock: Clock,
    actor: Principal,
    user_id: uuid.UUID,
    body: api.PasswordReset,
) -> api.PasswordResetOut:
    """Set a new password (generated when none is given) and end the user's login sessions.

    The caller's own session survives, so admins can reset their own password and carry on.
    """
    user = await session.get(User, user_id)
    if user is None or user.is_guest:
        raise NotFound(f"No user {user_id}; find users with GET /api/v1/admin/users.")
    if user.id != actor.user_id:
        _check_can_manage_account(
            actor,
            Role(user.role),
            await queries.theater_ids_of(session, user.id),
            "reset the password of",
        )
    if user.role == Role.KIOSK.value:
        raise Invalid(
            "Kiosk devices sign in with kiosk tokens, not passwords; create one with "
            "POST /api/v1/tokens and kind 'kiosk'."
        )
    password = checked_password(
        body.password if body.password is not None else secrets.token_urlsafe(12)
    )
    user.password_hash = hash_password(password)
    revoked = await queries.revoke_sessions(session, user.id, clock.now(), keep=actor.token_id)
    await session.commit()
    generated = password if body.password is None else None
    return api.PasswordResetOut(user_id=user.id, sessions_revoked=revoked, password=generated)


async def preferences(session: AsyncSession, principal: Principal) -> api.Preferences:
    stored = await queries.preferences_of(session, principal.user_id)
    return msgspec.convert(
        {key: stored.get(key, []) for key in ("genres", "languages")}, api.Preferences
    )


async def set_preferences(
    session: AsyncSession, principal: Principal, body: api.Preferences
) -> api.Preferences:
    tastes = {
        "genres": distinct_names(body.genres),
        "languages": distinct_names(body.languages),
    }
    await queries.set_tastes(session, principal.user_id, tastes)
    return api.Preferences(**tastes)
