"""SQL for bookings: the confirmation transaction's statements, payment and refund records,
reading a booking back, and the ticket row check-in locks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.enums import BookingSeatStatus
from server.db.models import (
    AuditEntry,
    Booking,
    BookingSeat,
    CouponRedemption,
    LoyaltyEntry,
    Movie,
    Payment,
    Seat,
    Show,
    SnackOrder,
    Theater,
    User,
    WalletEntry,
)
from server.db.models.booking import AMOUNT_COLUMNS
from server.domain.accounts.queries import phone_matches
from server.infra.database import driver_of, fetchrow

# -- the confirmation transaction ----------------------------------------------------------


async def insert_booking(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(Booking).values(**values))


# The confirmation, all or nothing, in one statement (one round trip on the hot path): book
# every seat of the hold, whether the hold is still valid (its seats are BLOCKED by it) or
# expired but its seats are still free (the re-hold), locking the rows in seat order like
# every hold does; then write the booking, its seats at their hold prices, the transitions,
# the payments, the ticket and the outbox event, and convert the hold. Nothing at all is
# written unless every seat could be booked; the partial unique index on booking_seats is
# the last guard. (Foreign keys between these rows are checked at the end of the statement.)
_CONFIRM = """
WITH wanted AS (
    SELECT seat_id, seat_type, price_minor FROM hold_seats WHERE hold_id = :hold_id
), locked AS (
    SELECT ss.seat_id, ss.status AS was,
           NOT (ss.status = 'BLOCKED' AND ss.hold_id = :hold_id AND ss.held_until > :now)
               AS reheld
      FROM show_seats ss JOIN wanted w ON w.seat_id = ss.seat_id
     WHERE ss.show_id = :show_id
       AND ((ss.status = 'BLOCKED' AND ss.hold_id = :hold_id)
            OR ((ss.status = 'AVAILABLE' OR (ss.status = 'BLOCKED' AND ss.held_until <= :now))
                AND (NOT ss.accessible_only OR :accessible)))
     ORDER BY ss.seat_id
       FOR UPDATE OF ss
), complete AS (
    SELECT count(*) = (SELECT count(*) FROM wanted) AS ok FROM locked
), booking AS (
    INSERT INTO bookings (id, code, user_id, show_id, hold_id, status, channel, currency,
                          seats_minor, convenience_fee_minor, tax_minor, discount_minor,
                          loyalty_minor, snacks_minor, total_minor, coupon_id, contact_email,
                          contact_phone, review_reason, created_at, confirmed_at)
    SELECT :id, :code, :user_id, :show_id, :hold_id, :status, :channel, :currency,
           :seats_minor, :convenience_fee_minor, :tax_minor, :discount_minor,
           :loyalty_minor, :snacks_minor, :total_minor, :coupon_id, :contact_email,
           :contact_phone, :review_reason, :now, :now
     WHERE (SELECT ok FROM complete)
    RETURNING id
), booked AS (
    UPDATE show_seats ss
       SET status = 'BOOKED', booking_id = :id, hold_id = NULL, held_until = NULL,
           version = ss.version + 1
      FROM locked
     WHERE ss.show_id = :show_id AND ss.seat_id = locked.seat_id AND (SELECT ok FROM complete)
    RETURNING ss.seat_id, ss.version, locked.was, locked.reheld
), sold AS (
    INSERT INTO booking_seats (booking_id, seat_id, show_id, seat_type, price_minor, status)
    SELECT :id, w.seat_id, :show_id, w.seat_type, w.price_minor, 'ACTIVE'
      FROM booked b JOIN wanted w ON w.seat_id = b.seat_id
    RETURNING seat_id
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id,
                                  reason, hold_id, booking_id)
    SELECT :show_id, b.seat_id, b.was, 'BOOKED', :now, :actor_id,
           CASE WHEN b.reheld THEN 'booked after hold expired' ELSE 'booked' END,
           :hold_id, :id
      FROM booked b
    RETURNING seat_id
), converted AS (
    UPDATE holds SET status = 'CONVERTED', ended_at = :now
     WHERE id = :hold_id AND (SELECT ok FROM complete)
    RETURNING id
), paid AS (
    INSERT INTO payments (id, booking_id, hold_id, method, gateway, status, amount_minor,
                          currency, idempotency_key, gateway_ref, card_token, card_brand,
                          card_last4, payer_name, tendered_minor, change_minor, captured_at,
                          created_at)
    SELECT p.id, b.id, :hold_id, p.method, p.gateway, p.status, p.amount_minor, p.currency,
           p.idempotency_key, p.gateway_ref, p.card_token, p.card_brand, p.card_last4,
           p.payer_name, p.tendered_minor, p.change_minor, p.captured_at, :now
      FROM booking b,
           jsonb_to_recordset(CAST(:payments AS jsonb)) AS p(
               id uuid, method text, gateway text, status text, amount_minor bigint,
               currency text, idempotency_key text, gateway_ref text, card_token text,
               card_brand text, card_last4 text, payer_name text, tendered_minor bigint,
               change_minor bigint, captured_at timestamptz)
    RETURNING id
), ticket AS (
    INSERT INTO tickets (booking_id, payload, issued_at)
    SELECT id, :ticket_payload, :now FROM booking
    RETURNING id
), event AS (
    INSERT INTO outbox (topic, payload, created_at)
    SELECT 'booking.confirmed', CAST(:event AS jsonb), :now FROM booking
    RETURNING id
)
SELECT b.seat_id, b.version, (SELECT nextval('seat_events_seq')) AS sequence
  FROM booked b
"""


# Parsed once: text() scans the statement for its parameters on every call otherwise.
_CONFIRM_STATEMENT = text(_CONFIRM)


@dataclass(frozen=True, slots=True)
class BookedSeats:
    seats: list[tuple[uuid.UUID, int]]  # (seat id, new version), for the live feed
    sequence: int


async def confirm_booking(
    conn: AsyncConnection,
    booking: dict[str, Any],
    *,
    payments: Sequence[dict[str, Any]],
    ticket_payload: str,
    event: dict[str, Any],
    actor_id: uuid.UUID,
    accessible: bool,
    now: datetime,
) -> BookedSeats | None:
    """Book the hold's seats and write the booking with everything it carries, or None
    (nothing written) when any of the seats is gone."""
    params = booking | {
        "payments": json.dumps(list(payments), default=str),
        "ticket_payload": ticket_payload,
        "event": json.dumps(event),
        "actor_id": actor_id,
        "accessible": accessible,
        "now": now,
    }
    rows = (await conn.execute(_CONFIRM_STATEMENT, params)).all()
    if not rows:
        return None
    return BookedSeats(
        seats=[(row.seat_id, row.version) for row in rows],
        sequence=int(rows[0].sequence),
    )


async def use_coupon(conn: AsyncConnection, coupon_id: uuid.UUID) -> bool:
    """Count one more use, unless that would pass the limit. The row lock this takes lasts to
    the end of the transaction, so concurrent redemptions of one coupon queue up behind it
    and the per-user count read after it is exact."""
    result = await conn.execute(
        text(
            "UPDATE coupons SET used_count = used_count + 1 WHERE id = :coupon"
            " AND (total_limit IS NULL OR used_count < total_limit) RETURNING id"
        ),
        {"coupon": coupon_id},
    )
    return result.first() is not None


async def redemptions_by_user(
    conn: AsyncConnection, coupon_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    count = await conn.scalar(
        text(
            "SELECT count(*) FROM coupon_redemptions WHERE coupon_id = :coupon"
            " AND user_id = :user AND reversed_at IS NULL"
        ),
        {"coupon": coupon_id, "user": user_id},
    )
    return int(count or 0)


async def insert_redemption(
    conn: AsyncConnection,
    *,
    coupon_id: uuid.UUID,
    booking_id: uuid.UUID,
    user_id: uuid.UUID,
    discount_minor: int,
) -> None:
    await conn.execute(
        insert(CouponRedemption).values(
            coupon_id=coupon_id,
            booking_id=booking_id,
            user_id=user_id,
            discount_minor=discount_minor,
        )
    )


# Loyalty ledger reasons, each followed by the booking code ("earned on K7Q2M9XD").
EARNED = "earned on"
REDEEMED = "redeemed on"


async def move_points(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    booking_id: uuid.UUID,
    code: str,
    *,
    redeemed: int,
    earned: int,
) -> bool:
    """Take redeemed points and add earned ones, with ledger rows; False (nothing written)
    when the user no longer has the points to redeem."""
    changed = await conn.execute(
        text(
            "UPDATE users SET loyalty_points = loyalty_points - :redeemed + :earned"
            " WHERE id = :user AND loyalty_points >= :redeemed RETURNING id"
        ),
        {"user": user_id, "redeemed": redeemed, "earned": earned},
    )
    if changed.first() is None:
        return False
    entries = [
        {"user_id": user_id, "points": points, "reason": f"{why} {code}", "booking_id": booking_id}
        for points, why in ((-redeemed, REDEEMED), (earned, EARNED))
        if points
    ]
    await conn.execute(insert(LoyaltyEntry), entries)
    return True


async def wallet_balance(conn: AsyncConnection, user_id: uuid.UUID) -> int:
    balance = await conn.scalar(
        text("SELECT wallet_balance_minor FROM users WHERE id = :user"), {"user": user_id}
    )
    return int(balance or 0)


async def debit_wallet(
    conn: AsyncConnection, user_id: uuid.UUID, booking_id: uuid.UUID, code: str, amount: int
) -> bool:
    """Debit the wallet with a ledger row; False (nothing written) if the balance is short."""
    changed = await conn.execute(
        text(
            "UPDATE users SET wallet_balance_minor = wallet_balance_minor - :amount"
            " WHERE id = :user AND wallet_balance_minor >= :amount RETURNING id"
        ),
        {"user": user_id, "amount": amount},
    )
    if changed.first() is None:
        return False
    await conn.execute(
        insert(WalletEntry).values(
            user_id=user_id, amount_minor=-amount, reason=f"booking {code}", booking_id=booking_id
        )
    )
    return True


async def insert_snack_order(
    conn: AsyncConnection,
    booking_id: uuid.UUID,
    pickup_code: str,
    lines: list[dict[str, Any]],
    total_minor: int,
) -> None:
    await conn.execute(
        insert(SnackOrder).values(
            booking_id=booking_id, pickup_code=pickup_code, lines=lines, total_minor=total_minor
        )
    )


async def insert_payments(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Payment records; a row whose idempotency key is already recorded is kept as it was."""
    if rows:
        statement = pg_insert(Payment).on_conflict_do_nothing(index_elements=["idempotency_key"])
        await conn.execute(statement, list(rows))


async def insert_audit(
    conn: AsyncConnection,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    entity: str,
    entity_id: str,
    detail: dict[str, Any],
) -> None:
    await conn.execute(
        insert(AuditEntry).values(
            actor_id=actor_id, action=action, entity=entity, entity_id=entity_id, detail=detail
        )
    )


# -- reading a booking back ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingHead:
    """A booking's own columns plus what a reader wants to know about its show."""

    booking_id: uuid.UUID
    code: str
    status: str
    user_id: uuid.UUID
    show_id: uuid.UUID
    theater_id: uuid.UUID
    movie_title: str
    theater_name: str
    starts_at: datetime
    timezone: str
    channel: str
    currency: str
    amounts: dict[str, int]
    coupon_code: str | None
    review_reason: str | None
    contact_email: str | None
    contact_phone: str | None
    confirmed_at: datetime | None


_BOOKING_HEAD = f"""
SELECT b.id AS booking_id, b.code, b.status, b.user_id, b.show_id, sh.theater_id,
       m.title AS movie_title, t.name AS theater_name, sh.starts_at, c.timezone, b.channel,
       b.currency, {", ".join(f"b.{name}" for name in AMOUNT_COLUMNS)},
       cp.code AS coupon_code, b.review_reason, b.contact_email, b.contact_phone,
       b.confirmed_at
  FROM bookings b
  JOIN shows sh ON sh.id = b.show_id
  JOIN movies m ON m.id = sh.movie_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN cities c ON c.id = t.city_id
  LEFT JOIN coupons cp ON cp.id = b.coupon_id
 WHERE b.code = :code
"""


async def booking_head(conn: AsyncConnection, code: str) -> BookingHead | None:
    """A booking by its code, with its show's facts (asyncpg directly: every ticket shown and
    every booking opened reads it)."""
    row = await fetchrow(await driver_of(conn), _BOOKING_HEAD, {"code": code.strip().upper()})
    if row is None:
        return None
    values = dict(row)
    amounts = {name: int(values.pop(name)) for name in AMOUNT_COLUMNS}
    return BookingHead(**values, amounts=amounts)


async def booking_seats(conn: AsyncConnection, booking_id: uuid.UUID) -> list[Any]:
    query = (
        select(
            BookingSeat.seat_id,
            Seat.label,
            BookingSeat.seat_type,
            BookingSeat.price_minor,
            BookingSeat.status,
        )
        .join(Seat, Seat.id == BookingSeat.seat_id)
        .where(BookingSeat.booking_id == booking_id)
        .order_by(Seat.y, Seat.x)
    )
    return list(await conn.execute(query))


async def payments_of(conn: AsyncConnection, booking_id: uuid.UUID) -> list[Any]:
    query = (
        select(Payment).where(Payment.booking_id == booking_id).order_by(Payment.idempotency_key)
    )
    return list(await conn.execute(query))


# A cancellation adds more positive rows to a booking's ledger (points returned, a reversal
# shortfall): what the booking earned is its one "earned on" row.
_EXTRAS = f"""
SELECT tk.payload, tk.checked_in_at, tk.checkin_location, so.pickup_code, so.lines,
       (SELECT le.points FROM loyalty_ledger le
         WHERE le.booking_id = b.id AND le.reason LIKE '{EARNED} %') AS points_earned
  FROM bookings b
  LEFT JOIN tickets tk ON tk.booking_id = b.id
  LEFT JOIN snack_orders so ON so.booking_id = b.id
 WHERE b.id = :booking
"""


@dataclass(frozen=True, slots=True)
class Extras:
    """What a booking carries besides seats and payments; None where it has none."""

    payload: str | None
    checked_in_at: datetime | None
    checkin_location: str | None
    pickup_code: str | None
    lines: list[dict[str, Any]] | None
    points_earned: int | None


async def extras_of(conn: AsyncConnection, booking_id: uuid.UUID) -> Extras:
    row = await fetchrow(await driver_of(conn), _EXTRAS, {"booking": booking_id})
    return Extras(**row)


# -- check-in --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket_id: uuid.UUID
    payload: str
    checked_in_at: datetime | None
    checkin_location: str | None
    booking_status: str
    theater_id: uuid.UUID
    timezone: str


async def lock_ticket(conn: AsyncConnection, code: str) -> TicketRow | None:
    """The ticket of a booking, locked until the transaction ends, so two scans of one ticket
    at two doors take turns and only the first admits."""
    row = (
        await conn.execute(
            text(
                """
                SELECT tk.id, tk.payload, tk.checked_in_at, tk.checkin_location, b.status,
                       sh.theater_id, c.timezone
                  FROM tickets tk
                  JOIN bookings b ON b.id = tk.booking_id
                  JOIN shows sh ON sh.id = b.show_id
                  JOIN theaters t ON t.id = sh.theater_id
                  JOIN cities c ON c.id = t.city_id
                 WHERE b.code = :code
                   FOR UPDATE OF tk
                """
            ),
            {"code": code},
        )
    ).first()
    return TicketRow(*row) if row else None


async def mark_checked_in(
    conn: AsyncConnection,
    ticket_id: uuid.UUID,
    *,
    at: datetime,
    by: uuid.UUID,
    location: str | None,
) -> None:
    await conn.execute(
        text(
            "UPDATE tickets SET checked_in_at = :at, checked_in_by = :by,"
            " checkin_location = :location WHERE id = :ticket"
        ),
        {"ticket": ticket_id, "at": at, "by": by, "location": location},
    )


async def replace_ticket(
    conn: AsyncConnection, ticket_id: uuid.UUID, payload: str, issued_at: datetime
) -> None:
    await conn.execute(
        text("UPDATE tickets SET payload = :payload, issued_at = :at WHERE id = :ticket"),
        {"ticket": ticket_id, "payload": payload, "at": issued_at},
    )


# -- staff lookup ----------------------------------------------------------------------------

LOOKUP_LIMIT = 50


@dataclass(frozen=True, slots=True)
class LookupFilter:
    """Exactly one of code, phone digits or a lower-cased e-mail; ``theater_ids`` None means
    every theater (platform admins)."""

    theater_ids: frozenset[uuid.UUID] | None
    code: str | None = None
    phone_digits: str | None = None
    email: str | None = None


def _match(where: LookupFilter) -> Any:
    booking = Booking.__table__.c
    if where.code is not None:
        return booking.code == where.code
    if where.phone_digits is not None:
        return phone_matches(booking.contact_phone, where.phone_digits)
    return or_(
        func.lower(booking.contact_email) == where.email,
        func.lower(User.email) == where.email,
    )


async def lookup_bookings(conn: AsyncConnection, where: LookupFilter) -> list[Any]:
    """Newest show first; seats still booked, or every seat once none is."""
    booking = Booking.__table__.c
    active = BookingSeat.status == BookingSeatStatus.ACTIVE.value
    seats = (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(Seat.label, Seat.y, Seat.x)).filter(active),
                func.array_agg(aggregate_order_by(Seat.label, Seat.y, Seat.x)),
            )
        )
        .select_from(BookingSeat)
        .join(Seat, Seat.id == BookingSeat.seat_id)
        .where(BookingSeat.booking_id == booking.id)
        .scalar_subquery()
    )
    query = (
        select(
            booking.code,
            booking.status,
            booking.show_id,
            Movie.title.label("movie_title"),
            Theater.name.label("theater_name"),
            Show.starts_at,
            seats.label("seats"),
            booking.currency,
            booking.total_minor,
            booking.refunded_minor,
            booking.contact_email,
            booking.contact_phone,
        )
        .join(Show, Show.id == booking.show_id)
        .join(Movie, Movie.id == Show.movie_id)
        .join(Theater, Theater.id == Show.theater_id)
        .join(User, User.id == booking.user_id)
        .where(_match(where))
        .order_by(Show.starts_at.desc(), booking.code)
        .limit(LOOKUP_LIMIT)
    )
    if where.theater_ids is not None:
        query = query.where(Show.theater_id.in_(where.theater_ids))
    return list(await conn.execute(query))


# -- show reminders -------------------------------------------------------------------------

# Picks the bookings due a reminder and marks them reminded in one statement, so a booking is
# picked once however many processes run the job at once: SKIP LOCKED passes over rows
# another run is marking, and a row it marked and committed meanwhile fails the
# ``reminded_at IS NULL`` re-check the lock makes. Bookings sold by staff without a contact
# are left out: the worker tells their buyer's clerk nothing (see notifications' audience).
CLAIM_REMINDERS = text(
    """
    UPDATE bookings b SET reminded_at = :now
     WHERE b.reminded_at IS NULL
       AND b.id IN (SELECT b.id FROM bookings b
                      JOIN shows sh ON sh.id = b.show_id
                      JOIN users u ON u.id = b.user_id
                     WHERE b.reminded_at IS NULL
                       AND b.status IN ('CONFIRMED', 'PARTIALLY_CANCELLED')
                       AND sh.status = 'SCHEDULED'
                       AND sh.starts_at > :last_call AND sh.starts_at <= :window_end
                       AND b.created_at + CAST(:lead AS interval) <= sh.starts_at
                       AND (u.role = 'customer' OR b.contact_email IS NOT NULL
                            OR b.contact_phone IS NOT NULL)
                     ORDER BY sh.starts_at, b.id
                     LIMIT :limit
                       FOR UPDATE OF b SKIP LOCKED)
    RETURNING b.id
    """
)


async def claim_reminders(
    conn: AsyncConnection, *, now: datetime, lead: timedelta, last_call: timedelta, limit: int
) -> list[uuid.UUID]:
    """Up to ``limit`` bookings whose show starts within ``lead`` but not within
    ``last_call`` and that were made before the reminder window opened, now marked reminded."""
    rows = await conn.execute(
        CLAIM_REMINDERS,
        {
            "now": now,
            "lead": lead,
            "last_call": now + last_call,
            "window_end": now + lead,
            "limit": limit,
        },
    )
    return [row.id for row in rows]
