"""SQL for cancellations: the booking under its lock, giving seats back, refund records, the
wallet and loyalty ledgers, coupon reversal, and the shows a theater cancels."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, cast, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.enums import RefundStatus
from server.db.models import (
    Booking,
    City,
    LoyaltyEntry,
    Payment,
    Refund,
    Show,
    Theater,
    User,
    WalletEntry,
)
from server.domain.booking.queries import EARNED

# The audit entries of an admin's hand on a refund. A refund paid out by other means (cash,
# a bank transfer) is SUCCEEDED without a gateway reference and carries who settled it, when
# and their note in its own columns (settled_manually_at, settled_manually_by,
# settlement_note); the REFUND_SETTLED_MANUALLY entry records the act in the audit log.
REFUND_RETRIED = "refund.retried"
REFUND_SETTLED_MANUALLY = "refund.settled_manually"

# Loyalty ledger reasons ("<reason> <booking code>"), beside checkout's EARNED and REDEEMED.
RETURNED = "returned on"
REVERSED = "reversed on"
SHORTFALL = "reversal shortfall on"

# -- the booking -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingRow:
    booking_id: uuid.UUID
    code: str
    status: str
    user_id: uuid.UUID
    show_id: uuid.UUID
    theater_id: uuid.UUID
    starts_at: datetime
    show_status: str
    currency: str
    seats_minor: int
    convenience_fee_minor: int
    tax_minor: int
    discount_minor: int
    loyalty_minor: int
    snacks_minor: int
    total_minor: int
    refunded_minor: int
    coupon_id: uuid.UUID | None
    cancellation_policy: dict[str, Any]
    coupon_seat_types: list[str] | None
    owner_role: str  # a staff owner: a walk-up sale, with no customer account behind it
    checked_in_at: datetime | None
    checkin_location: str | None
    timezone: str


_BOOKING = """
SELECT b.id, b.code, b.status, b.user_id, b.show_id, sh.theater_id, sh.starts_at,
       sh.status AS show_status, b.currency, b.seats_minor, b.convenience_fee_minor,
       b.tax_minor, b.discount_minor, b.loyalty_minor, b.snacks_minor, b.total_minor,
       b.refunded_minor, b.coupon_id, t.cancellation_policy, c.seat_types,
       u.role, tk.checked_in_at, tk.checkin_location, ci.timezone
  FROM bookings b
  JOIN users u ON u.id = b.user_id
  JOIN shows sh ON sh.id = b.show_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN cities ci ON ci.id = t.city_id
  LEFT JOIN coupons c ON c.id = b.coupon_id
  LEFT JOIN tickets tk ON tk.booking_id = b.id
 WHERE b.code = :code
"""


async def booking(conn: AsyncConnection, code: str, *, lock: bool) -> BookingRow | None:
    """The booking with its show's terms; ``lock`` holds its row until the transaction ends,
    so two cancellations of one booking take turns and each sees what the other did."""
    sql = _BOOKING + (" FOR UPDATE OF b" if lock else "")
    row = (await conn.execute(text(sql), {"code": code.strip().upper()})).first()
    return BookingRow(*row) if row else None


@dataclass(frozen=True, slots=True)
class Points:
    balance: int
    earned: int
    returned: int
    reversed: int


async def points(
    conn: AsyncConnection, booking_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool
) -> Points:
    """The holder's points balance and this booking's loyalty history."""
    sql = f"""
        SELECT u.loyalty_points,
               coalesce(sum(l.points) FILTER (WHERE l.reason LIKE '{EARNED} %'), 0),
               coalesce(sum(l.points) FILTER (WHERE l.reason LIKE '{RETURNED} %'), 0),
               coalesce(-sum(l.points) FILTER (WHERE l.reason LIKE '{REVERSED} %'), 0)
          FROM users u LEFT JOIN loyalty_ledger l ON l.booking_id = :booking
         WHERE u.id = :user
         GROUP BY u.id
    """
    if lock:
        # Aggregates cannot be locked; lock the user row on its own first.
        await conn.execute(
            text("SELECT id FROM users WHERE id = :user FOR UPDATE"), {"user": user_id}
        )
    row = (await conn.execute(text(sql), {"booking": booking_id, "user": user_id})).one()
    return Points(*(int(value) for value in row))


@dataclass(frozen=True, slots=True)
class PaymentRow:
    payment_id: uuid.UUID
    method: str
    amount_minor: int
    left_minor: int  # not yet promised back by any refund record


async def refundable_payments(conn: AsyncConnection, booking_id: uuid.UUID) -> list[PaymentRow]:
    rows = await conn.execute(
        text(
            """
            SELECT p.id, p.method, p.amount_minor,
                   CAST(p.amount_minor - coalesce(sum(r.amount_minor), 0) AS bigint)
              FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id
             WHERE p.booking_id = :booking AND p.captured_at IS NOT NULL
             GROUP BY p.id
            """
        ),
        {"booking": booking_id},
    )
    return [PaymentRow(*row) for row in rows]


# -- giving seats back -----------------------------------------------------------------------

_RELEASE = """
WITH gone AS (
    UPDATE booking_seats SET status = 'CANCELLED', cancelled_at = :now
     WHERE booking_id = :booking AND seat_id = ANY(:seats) AND status = 'ACTIVE'
    RETURNING seat_id
), freed AS (
    UPDATE show_seats ss
       SET status = :to_status, booking_id = NULL, version = ss.version + 1,
           unavailable_reason = CAST(:unavailable_reason AS text)
      FROM gone
     WHERE ss.show_id = :show AND ss.seat_id = gone.seat_id
       AND ss.status = 'BOOKED' AND ss.booking_id = :booking
    RETURNING ss.seat_id, ss.version
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id,
                                  reason, booking_id)
    SELECT :show, seat_id, 'BOOKED', :to_status, :now, :actor, :reason, :booking FROM freed
    RETURNING seat_id
)
SELECT seat_id, version, (SELECT nextval('seat_events_seq')) AS sequence FROM freed
"""


@dataclass(frozen=True, slots=True)
class Released:
    seats: list[tuple[uuid.UUID, int]]  # (seat id, new version), for the live feed
    sequence: int | None


async def release_seats(
    conn: AsyncConnection,
    *,
    booking_id: uuid.UUID,
    show_id: uuid.UUID,
    seat_ids: Sequence[uuid.UUID],
    to_status: str,
    unavailable_reason: str | None,
    reason: str,
    actor_id: uuid.UUID,
    now: datetime,
) -> Released:
    """Cancel the booking's seats and turn their show seats BOOKED → ``to_status`` with the
    transitions, drawing one live-feed sequence number."""
    rows = (
        await conn.execute(
            text(_RELEASE),
            {
                "booking": booking_id,
                "show": show_id,
                "seats": list(seat_ids),
                "to_status": to_status,
                "unavailable_reason": unavailable_reason,
                "reason": reason,
                "actor": actor_id,
                "now": now,
            },
        )
    ).all()
    return Released([(r.seat_id, r.version) for r in rows], rows[0].sequence if rows else None)


async def update_booking(
    conn: AsyncConnection, booking_id: uuid.UUID, *, refunded_minor: int, status: str, now: datetime
) -> None:
    """Add to what was refunded and set the status; a booking keeps the moment it was first
    cancelled in full."""
    await conn.execute(
        text(
            "UPDATE bookings SET refunded_minor = refunded_minor + :refunded, status = :status,"
            " cancelled_at = coalesce(cancelled_at, CAST(:cancelled_at AS timestamptz))"
            " WHERE id = :booking"
        ),
        {
            "booking": booking_id,
            "refunded": refunded_minor,
            "status": status,
            "cancelled_at": now if status == "CANCELLED" else None,
        },
    )


async def reverse_coupon(conn: AsyncConnection, booking_id: uuid.UUID, now: datetime) -> None:
    """Give the coupon use back: the redemption is marked reversed and the count drops."""
    await conn.execute(
        text(
            """
            WITH undone AS (
                UPDATE coupon_redemptions SET reversed_at = :now
                 WHERE booking_id = :booking AND reversed_at IS NULL
                RETURNING coupon_id
            )
            UPDATE coupons c SET used_count = c.used_count - 1
              FROM undone WHERE c.id = undone.coupon_id AND c.used_count > 0
            """
        ),
        {"booking": booking_id, "now": now},
    )


async def move_points(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    booking_id: uuid.UUID,
    entries: Sequence[tuple[int, str]],
) -> None:
    """Ledger rows (points, reason) and the balance moved by their sum."""
    moved = [(points, reason) for points, reason in entries if points]
    if not moved:
        return
    await conn.execute(
        text("UPDATE users SET loyalty_points = loyalty_points + :change WHERE id = :user"),
        {"user": user_id, "change": sum(points for points, _ in moved)},
    )
    await conn.execute(
        insert(LoyaltyEntry),
        [
            {"user_id": user_id, "points": points, "reason": reason, "booking_id": booking_id}
            for points, reason in moved
        ],
    )


# -- refund records, the wallet, the payments ------------------------------------------------


async def insert_refunds(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(Refund), list(rows))


async def credit_wallet(
    conn: AsyncConnection,
    *,
    user_id: uuid.UUID,
    booking_id: uuid.UUID,
    refund_id: uuid.UUID,
    amount_minor: int,
    reason: str,
    now: datetime,
) -> None:
    await conn.execute(
        text(
            "UPDATE users SET wallet_balance_minor = wallet_balance_minor + :amount"
            " WHERE id = :user"
        ),
        {"user": user_id, "amount": amount_minor},
    )
    await conn.execute(
        insert(WalletEntry).values(
            user_id=user_id,
            amount_minor=amount_minor,
            reason=reason,
            booking_id=booking_id,
            refund_id=refund_id,
            at=now,
        )
    )


async def mark_payment_refunded(
    conn: AsyncConnection, payment_id: uuid.UUID, amount_minor: int
) -> None:
    await conn.execute(
        text(
            """
            UPDATE payments
               SET refunded_minor = refunded_minor + :amount,
                   status = CASE WHEN refunded_minor + :amount >= amount_minor
                                 THEN 'REFUNDED' ELSE 'PARTIALLY_REFUNDED' END
             WHERE id = :payment
            """
        ),
        {"payment": payment_id, "amount": amount_minor},
    )


@dataclass(frozen=True, slots=True)
class RefundRow:
    refund_id: uuid.UUID
    booking_id: uuid.UUID
    payment_id: uuid.UUID | None
    amount_minor: int
    fee_kept_minor: int
    destination: str
    status: str
    reason: str
    idempotency_key: str | None
    created_at: datetime
    completed_at: datetime | None
    method: str | None
    gateway_ref: str | None
    code: str
    currency: str
    gateway_refund_ref: str | None
    attempts: int
    next_attempt_at: datetime | None
    failure_code: str | None
    failure_reason: str | None
    theater_id: uuid.UUID
    theater_name: str
    # Paid out by other means: when, by whom (the admin's name), and the admin's note.
    settled_manually_at: datetime | None
    settled_by: str | None
    settlement_note: str | None


@dataclass(frozen=True, slots=True)
class RefundFilter:
    """Which refund records to read; an empty field does not filter. Dates are local to each
    refund's theater (the day it was made, on the theater's wall clock)."""

    refund_ids: Collection[uuid.UUID] = ()
    booking_id: uuid.UUID | None = None
    show_id: uuid.UUID | None = None
    theater_ids: Collection[uuid.UUID] | None = None
    statuses: Collection[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    limit: int | None = None


async def refunds(conn: AsyncConnection, where: RefundFilter) -> list[RefundRow]:
    query = (
        select(
            Refund.id,
            Refund.booking_id,
            Refund.payment_id,
            Refund.amount_minor,
            Refund.fee_kept_minor,
            Refund.destination,
            Refund.status,
            Refund.reason,
            Refund.idempotency_key,
            Refund.created_at,
            Refund.completed_at,
            Payment.method,
            Payment.gateway_ref,
            Booking.code,
            Booking.currency,
            Refund.gateway_refund_ref,
            Refund.attempts,
            Refund.next_attempt_at,
            Refund.failure_code,
            Refund.failure_reason,
            Theater.id,
            Theater.name,
            Refund.settled_manually_at,
            User.name,
            Refund.settlement_note,
        )
        .select_from(Refund)
        .join(Booking, Booking.id == Refund.booking_id)
        .join(Show, Show.id == Booking.show_id)
        .join(Theater, Theater.id == Show.theater_id)
        .join(City, City.id == Theater.city_id)
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .outerjoin(User, User.id == Refund.settled_manually_by)
        .order_by(Refund.created_at, Refund.amount_minor.desc(), Refund.id)
    )
    if where.refund_ids:
        query = query.where(Refund.id.in_(where.refund_ids))
    if where.booking_id is not None:
        query = query.where(Refund.booking_id == where.booking_id)
    if where.show_id is not None:
        query = query.where(Booking.show_id == where.show_id)
    if where.theater_ids is not None:
        query = query.where(Show.theater_id.in_(where.theater_ids))
    if where.statuses:
        query = query.where(Refund.status.in_(where.statuses))
    local_day = cast(func.timezone(City.timezone, Refund.created_at), Date)
    if where.date_from is not None:
        query = query.where(local_day >= where.date_from)
    if where.date_to is not None:
        query = query.where(local_day <= where.date_to)
    if where.limit is not None:
        query = query.limit(where.limit)
    return [RefundRow(*tuple(row)) for row in await conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one send of a refund came to (see ``refunds.py``)."""

    status: RefundStatus
    now: datetime
    next_attempt_at: datetime | None = None  # PENDING: when to send it again
    reference: str | None = None  # SUCCEEDED: the gateway's refund id
    failure_code: str | None = None  # FAILED: why
    failure_reason: str | None = None


async def record_attempt(conn: AsyncConnection, refund_id: uuid.UUID, attempt: Attempt) -> bool:
    """Count a send of a PENDING refund and keep its outcome; False when another process
    finished the refund first."""
    done = await conn.execute(
        text(
            """
            UPDATE refunds
               SET attempts = attempts + 1, status = :status,
                   completed_at = :completed_at,
                   next_attempt_at = :next, gateway_refund_ref = :reference,
                   failure_code = :code, failure_reason = :why
             WHERE id = :refund AND status = 'PENDING'
         RETURNING id
            """
        ),
        {
            "refund": refund_id,
            "status": attempt.status,
            "completed_at": None if attempt.status == RefundStatus.PENDING else attempt.now,
            "next": attempt.next_attempt_at,
            "reference": attempt.reference,
            "code": attempt.failure_code,
            "why": attempt.failure_reason,
        },
    )
    return done.first() is not None


async def claim_due_refunds(
    conn: AsyncConnection, *, now: datetime, lease_until: datetime, limit: int
) -> list[uuid.UUID]:
    """Gateway refunds due for another send, pushed to ``lease_until`` so that no other
    process takes them meanwhile (SKIP LOCKED: concurrent claims never wait or overlap)."""
    claimed = await conn.execute(
        text(
            """
            UPDATE refunds SET next_attempt_at = :lease_until
             WHERE id IN (SELECT id FROM refunds
                           WHERE status = 'PENDING' AND next_attempt_at <= :now
                             AND payment_id IS NOT NULL
                           ORDER BY next_attempt_at
                           LIMIT :limit
                             FOR UPDATE SKIP LOCKED)
         RETURNING id
            """
        ),
        {"now": now, "lease_until": lease_until, "limit": limit},
    )
    return list(claimed.scalars())


async def reopen_refund(
    conn: AsyncConnection, refund_id: uuid.UUID, key: str, next_attempt_at: datetime
) -> bool:
    """FAILED → PENDING under ``key``, its attempts and failure cleared."""
    done = await conn.execute(
        text(
            """
            UPDATE refunds
               SET status = 'PENDING', idempotency_key = :key, completed_at = NULL,
                   attempts = 0, next_attempt_at = :next, failure_code = NULL,
                   failure_reason = NULL
             WHERE id = :refund AND status = 'FAILED'
         RETURNING id
            """
        ),
        {"refund": refund_id, "key": key, "next": next_attempt_at},
    )
    return done.first() is not None


async def settle_refund(
    conn: AsyncConnection, refund_id: uuid.UUID, *, now: datetime, by: uuid.UUID, note: str
) -> bool:
    """FAILED → SUCCEEDED without a gateway reference: the money went back by other means,
    recorded with when, by whom and the note. The payment keeps what the gateway refunded of
    it (nothing more went through there)."""
    done = await conn.execute(
        text(
            """
            UPDATE refunds
               SET status = 'SUCCEEDED', completed_at = :now, next_attempt_at = NULL,
                   failure_code = NULL, failure_reason = NULL,
                   settled_manually_at = :now, settled_manually_by = :by,
                   settlement_note = :note
             WHERE id = :refund AND status = 'FAILED'
         RETURNING id
            """
        ),
        {"refund": refund_id, "now": now, "by": by, "note": note},
    )
    return done.first() is not None


# -- shows a theater cancels -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowRow:
    show_id: uuid.UUID
    theater_id: uuid.UUID
    status: str
    starts_at: datetime
    ends_at: datetime
    movie_title: str
    screen_name: str
    currency: str


_SHOWS = """
SELECT sh.id, sh.theater_id, sh.status, sh.starts_at, sh.ends_at, m.title, sc.name, c.currency
  FROM shows sh
  JOIN movies m ON m.id = sh.movie_id
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN cities c ON c.id = t.city_id
"""


async def show(conn: AsyncConnection, show_id: uuid.UUID) -> ShowRow | None:
    row = (await conn.execute(text(_SHOWS + " WHERE sh.id = :show"), {"show": show_id})).first()
    return ShowRow(*row) if row else None


async def shows_in_range(
    conn: AsyncConnection,
    *,
    theater_id: uuid.UUID | None,
    screen_id: uuid.UUID | None,
    date_from: date,
    date_to: date,
    now: datetime,
) -> list[ShowRow]:
    """Shows of the theater or screen on those local dates that are not over, and the ones
    already cancelled (a re-run finishes them)."""
    rows = await conn.execute(
        text(
            _SHOWS
            + """
             WHERE (CAST(:theater AS uuid) IS NULL OR sh.theater_id = :theater)
               AND (CAST(:screen AS uuid) IS NULL OR sh.screen_id = :screen)
               AND CAST(timezone(c.timezone, sh.starts_at) AS date) BETWEEN :from AND :to
               AND (sh.status = 'CANCELLED' OR (sh.status = 'SCHEDULED' AND sh.ends_at > :now))
             ORDER BY sh.starts_at, sc.name
            """
        ),
        {
            "theater": theater_id,
            "screen": screen_id,
            "from": date_from,
            "to": date_to,
            "now": now,
        },
    )
    return [ShowRow(*row) for row in rows]


async def screen_theater(conn: AsyncConnection, screen_id: uuid.UUID) -> uuid.UUID | None:
    theater = await conn.scalar(
        text("SELECT theater_id FROM screens WHERE id = :screen"), {"screen": screen_id}
    )
    return theater if isinstance(theater, uuid.UUID) else None


async def mark_show_cancelled(conn: AsyncConnection, show_id: uuid.UUID, reason: str) -> bool:
    """SCHEDULED → CANCELLED with the reason, closing its waiting list; False when it was
    not scheduled (already cancelled)."""
    done = await conn.execute(
        text(
            "UPDATE shows SET status = 'CANCELLED', cancel_reason = :reason,"
            " version = version + 1 WHERE id = :show AND status = 'SCHEDULED' RETURNING id"
        ),
        {"show": show_id, "reason": reason},
    )
    await conn.execute(
        text(
            "UPDATE waitlist_entries SET status = 'CANCELLED'"
            " WHERE show_id = :show AND status IN ('WAITING', 'OFFERED')"
        ),
        {"show": show_id},
    )
    return done.first() is not None


@dataclass(frozen=True, slots=True)
class ShowBooking:
    code: str
    status: str
    total_minor: int
    refunded_minor: int
    loyalty_minor: int
    points_returned: int


async def bookings_of_show(conn: AsyncConnection, show_id: uuid.UUID) -> list[ShowBooking]:
    """Every sold booking of the show (refused ones never took money), oldest first."""
    rows = await conn.execute(
        text(
            f"""
            SELECT b.code, b.status, b.total_minor, b.refunded_minor, b.loyalty_minor,
                   CAST(coalesce((SELECT sum(l.points) FROM loyalty_ledger l
                                   WHERE l.booking_id = b.id AND l.reason LIKE '{RETURNED} %'),
                                 0) AS bigint)
              FROM bookings b
             WHERE b.show_id = :show
               AND b.status IN ('CONFIRMED', 'REVIEW', 'PARTIALLY_CANCELLED', 'CANCELLED')
             ORDER BY b.created_at, b.id
            """
        ),
        {"show": show_id},
    )
    return [ShowBooking(*row) for row in rows]
