"""Cancelling bookings (the arithmetic is in ``policy.py``, sending refunds in ``refunds.py``).

A cancellation is one transaction under the booking's row lock: the seats leave the booking
(``booking_seats`` CANCELLED, ``show_seats`` BOOKED → AVAILABLE with their transitions, or
UNAVAILABLE when the show itself is cancelled), the booking's ``refunded_minor`` and status
move, the refund records are written (PENDING for a gateway, SUCCEEDED for wallet credit,
which moves in the same transaction), the coupon use and loyalty points are reversed and the
customer's notification is queued. After the commit the freed seats are announced on the live
feed and offered to the waiting list, and the PENDING refunds go to their gateways under their
own idempotency keys: a refund the gateway does not answer stays PENDING for the retry job,
one it refuses becomes FAILED, and an admin (``refund_desk``, or a re-run of a show
cancellation) sends them again, never lost and never paid twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.cancellation import (
    BulkCancelOut,
    BulkCancelRequest,
    CancellationOut,
    CancelRequest,
    RefundOut,
    RefundQuote,
    SeatRefundLine,
    ShowCancellationOut,
    ShowCancelRequest,
)
from server.contracts.checkout import Amounts
from server.contracts.enums import (
    BookingSeatStatus,
    BookingStatus,
    PaymentMethod,
    RefundDestination,
    RefundStatus,
    Role,
    SeatStatus,
    ShowStatus,
)
from server.contracts.notifications import BookingCancelled, RefundIssued, ShowCancelled
from server.domain.accounts.guards import require_role, require_theater
from server.domain.accounts.principal import STAFF_ROLES, Principal
from server.domain.booking import queries as booking_queries
from server.domain.cancellation import queries, refund_desk, refunds
from server.domain.cancellation.policy import (
    ROUNDING_RULE,
    Charged,
    Policy,
    Refundable,
    RefundPlan,
    SeatCharge,
    Terms,
    Tier,
    allocate,
    plan_full_refund,
    plan_refund,
)
from server.domain.cancellation.queries import RefundFilter
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.inventory import services as inventory
from server.domain.notifications import outbox
from server.domain.tickets import services as tickets
from server.domain.waitlist import services as waitlist
from server.infra.database import autocommit
from server.infra.state import Services

log = logging.getLogger("bms.cancellation")

CANCELLABLE = {
    BookingStatus.CONFIRMED.value,
    BookingStatus.REVIEW.value,
    BookingStatus.PARTIALLY_CANCELLED.value,
}
MAX_REASON_LENGTH = 200
MAX_RANGE_DAYS = 366
SHOW_CANCELLED = "show cancelled"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A booking as the refund rules see it."""

    booking: queries.BookingRow
    charged: Charged
    points: queries.Points

    @property
    def refunded_in_full(self) -> bool:
        row = self.booking
        return _nothing_left(
            row.status,
            row.total_minor - row.refunded_minor,
            row.loyalty_minor - self.points.returned,
        )


def _nothing_left(status: str, money_left: int, points_left: int) -> bool:
    """Nothing more to give back: a show cancellation skips such a booking."""
    return status == BookingStatus.CANCELLED.value and money_left <= 0 and points_left <= 0


async def _load(conn: AsyncConnection, code: str, *, lock: bool) -> Loaded | None:
    row = await queries.booking(conn, code, lock=lock)
    if row is None:
        return None
    seats = await booking_queries.booking_seats(conn, row.booking_id)
    points = await queries.points(conn, row.booking_id, row.user_id, lock=lock)
    charged = Charged(
        seats=tuple(
            SeatCharge(
                s.seat_id, s.label, s.seat_type, s.price_minor, s.status == BookingSeatStatus.ACTIVE
            )
            for s in seats
        ),
        convenience_fee_minor=row.convenience_fee_minor,
        tax_minor=row.tax_minor,
        total_minor=row.total_minor,
        discount_minor=row.discount_minor,
        loyalty_minor=row.loyalty_minor,
        snacks_minor=row.snacks_minor,
        refunded_minor=row.refunded_minor,
        coupon_seat_types=frozenset(row.coupon_seat_types) if row.coupon_seat_types else None,
        points_earned=points.earned,
        points_returned=points.returned,
        points_reversed=points.reversed,
    )
    return Loaded(row, charged, points)


def _may_see(principal: Principal, row: queries.BookingRow) -> bool:
    """The holder, counter staff of the show's theater, or a platform admin."""
    return row.user_id == principal.user_id or principal.serves_customers_of(row.theater_id)


async def _visible(conn: AsyncConnection, principal: Principal, code: str, *, lock: bool) -> Loaded:
    loaded = await _load(conn, code, lock=lock)
    if loaded is None or not _may_see(principal, loaded.booking):
        # Not "forbidden": that would confirm to a stranger that the code exists.
        raise NotFound(f"There is no booking {code.strip().upper()}; check the code.")
    return loaded


# -- a customer's cancellation ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quoted:
    plan: RefundPlan
    tier: str
    time_left: timedelta


@dataclass(frozen=True, slots=True)
class How:
    """How one cancellation is carried out."""

    reason: str | None  # told to the customer; None when they cancelled themselves
    destination: RefundDestination
    key: str  # refund records' idempotency keys start with it
    seat_status: SeatStatus  # what the freed show seats become
    actor_id: uuid.UUID
    now: datetime
    show_cancelled: bool = False
    # The seats of the ticket reissued for what is left (a partial cancellation).
    ticket_seats: tuple[str, ...] = ()

    @property
    def record_reason(self) -> str:
        """Why, as the refund records keep it."""
        if self.show_cancelled:
            return f"{SHOW_CANCELLED}: {self.reason}"[:MAX_REASON_LENGTH]
        return self.reason or "cancelled by the customer"


async def cancel_booking(
    services: Services, principal: Principal, code: str, body: CancelRequest
) -> CancellationOut:
    """The refund quote (``confirm`` false: nothing changes) or the cancellation itself."""
    destination = _destination(body.refund_to)
    now = services.clock.now()
    if not body.confirm:
        async with autocommit(services.engine).connect() as conn:
            loaded = await _visible(conn, principal, code, lock=False)
        _check_destination(loaded.booking, destination)
        quoted = _quote(loaded, body.seat_ids, now)
        return _cancellation_out(loaded, quoted, destination, confirmed=False, refunds=[])
    async with services.engine.begin() as conn:
        loaded = await _visible(conn, principal, code, lock=True)
        _check_destination(loaded.booking, destination)
        quoted = _quote(loaded, body.seat_ids, now)
        ticket_seats: list[str] = []
        if not quoted.plan.whole_booking:
            ticket_seats = await tickets.reissue(
                services, conn, loaded.booking.code, _seats_left(loaded, quoted.plan), now
            )
        how = How(
            reason=_customer_reason(principal, loaded.booking),
            destination=destination,
            key=f"cancel:{loaded.booking.booking_id}:{uuid.uuid4().hex[:12]}",
            seat_status=SeatStatus.AVAILABLE,
            actor_id=principal.user_id,
            now=now,
            ticket_seats=tuple(ticket_seats),
        )
        written = await _write(conn, loaded, quoted.plan, how)
    await _after_commit(services, loaded, written, how)
    refunds = await refund_desk.refunds_out(
        services, RefundFilter(refund_ids=written.refund_ids), staff=principal.is_staff
    )
    return _cancellation_out(loaded, quoted, destination, confirmed=True, refunds=refunds)


def _seats_left(loaded: Loaded, plan: RefundPlan) -> list[str]:
    cancelled = set(plan.seat_ids)
    return [s.label for s in loaded.charged.seats if s.active and s.seat_id not in cancelled]


def _destination(refund_to: str) -> RefundDestination:
    try:
        return RefundDestination(refund_to)
    except ValueError:
        raise Invalid(
            f"refund_to must be 'original' (back to how you paid) or 'wallet' (bms wallet "
            f"credit), not {refund_to!r}.",
            field="refund_to",
        ) from None


def _check_destination(row: queries.BookingRow, destination: RefundDestination) -> None:
    """A walk-up sale belongs to the staff account that sold it: its refund goes back the way
    the customer paid, never into that account's wallet."""
    if destination is RefundDestination.WALLET and Role(row.owner_role) in STAFF_ROLES:
        raise Invalid(
            f"Booking {row.code} was sold at the counter without a customer account, so there "
            "is no bms wallet to credit; refund it with refund_to 'original' (back to how the "
            "customer paid).",
            field="refund_to",
        )


def _customer_reason(principal: Principal, row: queries.BookingRow) -> str | None:
    """None when customers cancel their own booking; otherwise who did it, for the records."""
    if principal.user_id == row.user_id and not principal.is_staff:
        return None
    return f"cancelled by {principal.role.value} {principal.name}"[:MAX_REASON_LENGTH]


def _quote(loaded: Loaded, seat_ids: list[uuid.UUID] | None, now: datetime) -> Quoted:
    row = loaded.booking
    if row.show_status == ShowStatus.CANCELLED.value:
        raise Conflict(
            "The theater cancelled this show; the booking is refunded in full without you "
            "doing anything.",
            reason="show_cancelled",
        )
    if row.status not in CANCELLABLE:
        raise Conflict(
            f"Booking {row.code} is {row.status.lower().replace('_', ' ')}; only confirmed "
            "bookings can be cancelled.",
            reason="not_cancellable",
        )
    if row.checked_in_at is not None:
        # Its people are inside: refunding them would also put their seats back on sale.
        when = tickets.local_time(row.checked_in_at, row.timezone)
        where = f" at {row.checkin_location}" if row.checkin_location else ""
        raise Conflict(
            f"Booking {row.code} was admitted on {when}{where}; a used ticket cannot be cancelled.",
            reason="already_used",
        )
    time_left = row.starts_at - now
    if time_left <= timedelta(0):
        raise Conflict(
            "The show has started; its bookings can no longer be cancelled.", reason="started"
        )
    wanted = _seats_to_cancel(loaded.charged, seat_ids)
    policy = Policy.from_document(row.cancellation_policy)
    tier = policy.tier_for(time_left)
    terms = Terms(tier.refund_percent if tier else 0, policy.convenience_fee_refundable)
    plan = plan_refund(loaded.charged, wanted, terms, loaded.points.balance)
    return Quoted(plan, _tier_sentence(tier, policy), time_left)


def _seats_to_cancel(charged: Charged, seat_ids: list[uuid.UUID] | None) -> set[uuid.UUID]:
    active = {seat.seat_id for seat in charged.seats if seat.active}
    if not seat_ids:
        return active
    if len(set(seat_ids)) != len(seat_ids):
        raise Invalid("seat_ids lists a seat twice; send each seat once.", field="seat_ids")
    labels = {seat.seat_id: seat.label for seat in charged.seats}
    strangers = [str(seat) for seat in seat_ids if seat not in labels]
    if strangers:
        raise Invalid(
            f"seat_ids: {', '.join(strangers)} is not in this booking; send seats of the "
            "booking (GET /api/v1/bookings/{code} lists them).",
            field="seat_ids",
        )
    gone = [labels[seat] for seat in seat_ids if seat not in active]
    if gone:
        raise Conflict(
            f"Seat {', '.join(gone)} is already cancelled; leave it out.", reason="seat_cancelled"
        )
    return set(seat_ids)


def _tier_sentence(tier: Tier | None, policy: Policy) -> str:
    fee = "refunded too" if policy.convenience_fee_refundable else "kept"
    if tier is not None and tier.refund_percent:
        return (
            f"Cancelling at least {tier.min_hours_before} h before the show refunds "
            f"{tier.refund_percent} % of the ticket price; the convenience fee is {fee}."
        )
    earlier = [
        t.min_hours_before
        for t in policy.tiers
        if tier is None or t.min_hours_before > tier.min_hours_before
    ]
    if earlier:
        return (
            f"Cancelling less than {min(earlier)} h before the show refunds nothing of the "
            f"ticket price; the convenience fee is {fee}."
        )
    return f"This theater refunds nothing of the ticket price; the convenience fee is {fee}."


# -- one cancellation's transaction ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    released: queries.Released
    refund_ids: list[uuid.UUID]


async def _write(conn: AsyncConnection, loaded: Loaded, plan: RefundPlan, how: How) -> Written:
    row = loaded.booking
    released = await queries.release_seats(
        conn,
        booking_id=row.booking_id,
        show_id=row.show_id,
        seat_ids=plan.seat_ids,
        to_status=how.seat_status.value,
        unavailable_reason=SHOW_CANCELLED if how.show_cancelled else None,
        reason=SHOW_CANCELLED if how.show_cancelled else "cancelled",
        actor_id=how.actor_id,
        now=how.now,
    )
    status = BookingStatus.CANCELLED if plan.whole_booking else BookingStatus.PARTIALLY_CANCELLED
    await queries.update_booking(
        conn, row.booking_id, refunded_minor=plan.money_minor, status=status.value, now=how.now
    )
    refund_ids = await _record_refunds(conn, loaded, plan, how)
    if plan.whole_booking and row.coupon_id is not None:
        await queries.reverse_coupon(conn, row.booking_id, how.now)
    await queries.move_points(
        conn,
        row.user_id,
        row.booking_id,
        [
            (plan.points_returned, f"{queries.RETURNED} {row.code}"),
            (-plan.points_reversed, f"{queries.REVERSED} {row.code}"),
            (plan.points_shortfall, f"{queries.SHORTFALL} {row.code}"),
        ],
    )
    await _notify_cancelled(conn, loaded, plan, how)
    await booking_queries.insert_audit(
        conn,
        actor_id=how.actor_id,
        action="show.cancelled" if how.show_cancelled else "booking.cancelled",
        entity="booking",
        entity_id=str(row.booking_id),
        detail={
            "code": row.code,
            "seats": [line.seat.label for line in plan.seats],
            "refund_percent": plan.refund_percent,
            "refund_minor": plan.money_minor,
            "points_returned": plan.points_returned,
            "points_reversed": plan.points_reversed,
            "reason": how.record_reason,
        },
    )
    return Written(released, refund_ids)


async def _record_refunds(
    conn: AsyncConnection, loaded: Loaded, plan: RefundPlan, how: How
) -> list[uuid.UUID]:
    """The refund records: one per original payment (largest first) or one wallet credit.
    Wallet money moves here, in the cancelling transaction; gateway refunds are PENDING until
    their gateway answers. A cancellation that refunds nothing still gets one record, for the
    fee it kept."""
    row = loaded.booking
    shares: dict[uuid.UUID, int] = {}
    methods: dict[uuid.UUID, str] = {}
    to_wallet = plan.money_minor
    if how.destination is RefundDestination.ORIGINAL:
        paid = await queries.refundable_payments(conn, row.booking_id)
        methods = {p.payment_id: p.method for p in paid}
        shares, to_wallet = allocate(
            plan.money_minor,
            [Refundable(p.payment_id, p.amount_minor, p.left_minor) for p in paid],
        )
    records = [
        _refund_record(
            how,
            row,
            payment_id=payment_id,
            amount_minor=amount,
            in_house=methods[payment_id] == PaymentMethod.WALLET,
        )
        for payment_id, amount in shares.items()
    ]
    if to_wallet or not records:
        # Money no original payment can take back (a booking sold without payment records)
        # is credited to the wallet rather than lost.
        records.append(_refund_record(how, row, payment_id=None, amount_minor=to_wallet))
    records[0]["fee_kept_minor"] = plan.fee_kept_minor
    await queries.insert_refunds(conn, records)
    credited = 0
    for record in records:
        if record["status"] == RefundStatus.SUCCEEDED and record["amount_minor"]:
            await _credit(conn, row, record, how.now)
            credited += record["amount_minor"]
    if credited:
        event = RefundIssued(
            booking_id=row.booking_id, amount_minor=credited, destination=RefundDestination.WALLET
        )
        await outbox.enqueue(conn, "refund.issued", event)
    return [record["id"] for record in records]


def _refund_record(
    how: How,
    row: queries.BookingRow,
    *,
    payment_id: uuid.UUID | None,
    amount_minor: int,
    in_house: bool = True,
) -> dict[str, Any]:
    """A refund record; ``in_house`` ones (wallet credit) are done at once."""
    return {
        "id": uuid.uuid4(),
        "booking_id": row.booking_id,
        "payment_id": payment_id,
        "amount_minor": amount_minor,
        "fee_kept_minor": 0,
        "destination": _destination_of(how, payment_id, amount_minor).value,
        "status": (RefundStatus.SUCCEEDED if in_house else RefundStatus.PENDING).value,
        "reason": how.record_reason,
        "idempotency_key": f"{how.key}:{payment_id or 'wallet'}",
        "created_at": how.now,
        "completed_at": how.now if in_house else None,
        "next_attempt_at": None if in_house else refunds.first_retry_at(how.now),
    }


def _destination_of(how: How, payment_id: uuid.UUID | None, amount_minor: int) -> RefundDestination:
    if payment_id is not None:
        return RefundDestination.ORIGINAL
    return RefundDestination.WALLET if amount_minor else how.destination


async def _credit(
    conn: AsyncConnection, row: queries.BookingRow, record: dict[str, Any], now: datetime
) -> None:
    await queries.credit_wallet(
        conn,
        user_id=row.user_id,
        booking_id=row.booking_id,
        refund_id=record["id"],
        amount_minor=record["amount_minor"],
        reason=f"refund {row.code}",
        now=now,
    )
    if record["payment_id"] is not None:
        await queries.mark_payment_refunded(conn, record["payment_id"], record["amount_minor"])


async def _notify_cancelled(
    conn: AsyncConnection, loaded: Loaded, plan: RefundPlan, how: How
) -> None:
    row = loaded.booking
    event: msgspec.Struct
    if how.show_cancelled:
        event = ShowCancelled(
            booking_id=row.booking_id, reason=how.reason, refund_minor=plan.money_minor
        )
        await outbox.enqueue(conn, "show.cancelled", event)
        return
    seats = [] if plan.whole_booking else [line.seat.label for line in plan.seats]
    event = BookingCancelled(
        booking_id=row.booking_id,
        seats=seats,
        refund_minor=plan.money_minor,
        reason=how.reason,
        ticket_seats=list(how.ticket_seats),
    )
    await outbox.enqueue(conn, "booking.cancelled", event)


async def _after_commit(services: Services, loaded: Loaded, written: Written, how: How) -> None:
    """Announce the seats, send the gateway refunds, let the waiting list at the seats."""
    released = written.released
    if released.sequence is not None:
        inventory.feed(services).publish(
            loaded.booking.show_id, released.sequence, how.seat_status.value, released.seats
        )
    await refunds.settle(services, written.refund_ids, how.actor_id)
    if released.seats and how.seat_status is SeatStatus.AVAILABLE:
        try:
            await waitlist.offer_freed_seats(services)
        except Exception:
            # The cancellation is committed; the waiting-list job retries every second.
            log.exception("offering freed seats of show %s failed", loaded.booking.show_id)


def _cancellation_out(
    loaded: Loaded,
    quoted: Quoted,
    destination: RefundDestination,
    *,
    confirmed: bool,
    refunds: list[RefundOut],
) -> CancellationOut:
    row, plan = loaded.booking, quoted.plan
    status = row.status
    refunded = row.refunded_minor
    if confirmed:
        status = (
            BookingStatus.CANCELLED if plan.whole_booking else BookingStatus.PARTIALLY_CANCELLED
        ).value
        refunded += plan.money_minor
    return CancellationOut(
        confirmed=confirmed,
        booking_status=status,
        quote=_quote_out(row, quoted, destination),
        amounts=Amounts(
            currency=row.currency,
            seats_minor=row.seats_minor,
            convenience_fee_minor=row.convenience_fee_minor,
            tax_minor=row.tax_minor,
            snacks_minor=row.snacks_minor,
            discount_minor=row.discount_minor,
            loyalty_minor=row.loyalty_minor,
            total_minor=row.total_minor,
            refunded_minor=refunded,
        ),
        refunds=refunds,
        detail=_detail(plan, refunds, confirmed),
    )


def _quote_out(
    row: queries.BookingRow, quoted: Quoted, destination: RefundDestination
) -> RefundQuote:
    plan = quoted.plan
    return RefundQuote(
        code=row.code,
        currency=row.currency,
        show_starts_at=row.starts_at,
        minutes_before_show=int(quoted.time_left.total_seconds() // 60),
        refund_percent=plan.refund_percent,
        tier=quoted.tier,
        seats=[
            SeatRefundLine(
                seat_id=line.seat.seat_id,
                label=line.seat.label,
                type=line.seat.seat_type,
                price_minor=line.seat.price_minor,
                refund_percent=line.refund_percent,
                discount_share_minor=line.discount_share_minor,
                fee_kept_minor=line.fee_kept_minor,
                refund_minor=line.refund_minor,
            )
            for line in plan.seats
        ],
        snacks_refund_minor=plan.snacks_refund_minor,
        fee_kept_minor=plan.fee_kept_minor,
        refund_value_minor=plan.value_minor,
        loyalty_points_returned=plan.points_returned,
        loyalty_points_reversed=plan.points_reversed,
        shortfall_deducted_minor=plan.shortfall_deducted_minor,
        refund_minor=plan.money_minor,
        refund_to=destination.value,
        whole_booking=plan.whole_booking,
        rounding=ROUNDING_RULE,
    )


def _detail(plan: RefundPlan, refunds: Sequence[RefundOut], confirmed: bool) -> str:
    if not confirmed:
        return "This is a quote; send the same request with confirm: true to cancel."
    waiting = [r for r in refunds if r.status != RefundStatus.SUCCEEDED]
    if waiting:
        return (
            "Cancelled. Part of the refund is not confirmed by the payment gateway yet; it "
            "is kept and sent again until it is."
        )
    if plan.money_minor:
        return "Cancelled and refunded."
    return "Cancelled; no money is due back under the cancellation policy."


# -- a booking's refunds ---------------------------------------------------------------------


async def list_refunds(services: Services, principal: Principal, code: str) -> list[RefundOut]:
    async with autocommit(services.engine).connect() as conn:
        loaded = await _visible(conn, principal, code, lock=False)
    where = RefundFilter(booking_id=loaded.booking.booking_id)
    return await refund_desk.refunds_out(services, where, staff=principal.is_staff)


# -- a theater cancels shows -----------------------------------------------------------------


async def cancel_show(
    services: Services, principal: Principal, show_id: uuid.UUID, body: ShowCancelRequest
) -> ShowCancellationOut:
    reason = _reason(body.reason)
    require_role(principal, Role.THEATER_ADMIN)
    async with autocommit(services.engine).connect() as conn:
        show = await queries.show(conn, show_id)
    if show is None:
        raise NotFound(f"There is no show {show_id}.")
    require_theater(principal, show.theater_id)
    if show.status == ShowStatus.COMPLETED.value or (
        show.status == ShowStatus.SCHEDULED.value and show.ends_at <= services.clock.now()
    ):
        raise Conflict("This show is over; there is nothing left to cancel.")
    return await _cancel_show(services, principal, show, reason, dry_run=False)


async def cancel_shows(
    services: Services, principal: Principal, body: BulkCancelRequest
) -> BulkCancelOut:
    """Every show of a theater or screen over local dates; safe to run again."""
    require_role(principal, Role.THEATER_ADMIN)
    reason = _reason(body.reason)
    _check_range(body.date_from, body.date_to)
    if (body.theater_id is None) == (body.screen_id is None):
        raise Invalid("Give either theater_id or screen_id (one of them) to say which shows.")
    async with autocommit(services.engine).connect() as conn:
        theater_id = body.theater_id
        if body.screen_id is not None:
            theater_id = await queries.screen_theater(conn, body.screen_id)
            if theater_id is None:
                raise NotFound(f"There is no screen {body.screen_id}.")
        require_theater(principal, theater_id)
        shows = await queries.shows_in_range(
            conn,
            theater_id=body.theater_id,
            screen_id=body.screen_id,
            date_from=body.date_from,
            date_to=body.date_to,
            now=services.clock.now(),
        )
    outcomes = [
        await _cancel_show(services, principal, show, reason, dry_run=body.dry_run)
        for show in shows
    ]
    return BulkCancelOut(
        dry_run=body.dry_run,
        shows=outcomes,
        shows_cancelled=sum(o.newly_cancelled for o in outcomes),
        bookings_refunded=sum(o.bookings_refunded for o in outcomes),
        bookings_skipped=sum(o.bookings_skipped for o in outcomes),
        refund_minor=sum(o.refund_minor for o in outcomes),
        loyalty_points_returned=sum(o.loyalty_points_returned for o in outcomes),
        refunds_pending=sum(o.refunds_pending for o in outcomes),
        refunds_failed=sum(o.refunds_failed for o in outcomes),
        currency=shows[0].currency if shows else "",
    )


def _reason(text: str) -> str:
    reason = text.strip()
    if not reason:
        raise Invalid("Give a reason; every customer is told it.", field="reason")
    return reason[:MAX_REASON_LENGTH]


def _check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise Invalid(f"from {date_from} is after to {date_to}.")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise Invalid(f"Cancel at most {MAX_RANGE_DAYS} days at once.")


async def _cancel_show(
    services: Services,
    principal: Principal,
    show: queries.ShowRow,
    reason: str,
    *,
    dry_run: bool,
) -> ShowCancellationOut:
    async with autocommit(services.engine).connect() as conn:
        bookings = await queries.bookings_of_show(conn, show.show_id)
    outcome = ShowCancellationOut(
        show_id=show.show_id,
        starts_at=show.starts_at,
        movie_title=show.movie_title,
        screen_name=show.screen_name,
        newly_cancelled=show.status == ShowStatus.SCHEDULED.value,
        bookings_refunded=0,
        bookings_skipped=0,
        refund_minor=0,
        loyalty_points_returned=0,
        currency=show.currency,
    )
    if dry_run:
        due = [b for b in bookings if not _settled(b)]
        return msgspec.structs.replace(
            outcome,
            bookings_refunded=len(due),
            bookings_skipped=len(bookings) - len(due),
            refund_minor=sum(b.total_minor - b.refunded_minor for b in due),
            loyalty_points_returned=sum(b.loyalty_minor - b.points_returned for b in due),
        )
    async with services.engine.begin() as conn:
        newly = await queries.mark_show_cancelled(conn, show.show_id, reason)
        # Refunds an interrupted run committed but never sent go out first, under their keys.
        unsent = await queries.refunds(
            conn, RefundFilter(show_id=show.show_id, statuses=[RefundStatus.PENDING.value])
        )
    await refunds.settle(services, [refund.refund_id for refund in unsent], principal.user_id)
    plans = [
        await _refund_in_full(services, principal, booking.code, reason)
        for booking in bookings
        if not _settled(booking)
    ]
    done = [plan for plan in plans if plan is not None]
    async with autocommit(services.engine).connect() as conn:
        open_refunds = await queries.refunds(
            conn,
            RefundFilter(
                show_id=show.show_id,
                statuses=[RefundStatus.PENDING.value, RefundStatus.FAILED.value],
            ),
        )
    statuses = [refund.status for refund in open_refunds]
    return msgspec.structs.replace(
        outcome,
        newly_cancelled=newly,
        bookings_refunded=len(done),
        bookings_skipped=len(bookings) - len(done),
        refund_minor=sum(plan.money_minor for plan in done),
        loyalty_points_returned=sum(plan.points_returned for plan in done),
        refunds_pending=statuses.count(RefundStatus.PENDING),
        refunds_failed=statuses.count(RefundStatus.FAILED),
    )


def _settled(booking: queries.ShowBooking) -> bool:
    return _nothing_left(
        booking.status,
        booking.total_minor - booking.refunded_minor,
        booking.loyalty_minor - booking.points_returned,
    )


async def _refund_in_full(
    services: Services, principal: Principal, code: str, reason: str
) -> RefundPlan | None:
    """One booking of a cancelled show, in its own transaction; None when another run got
    there first. Its refund keys derive from the booking id, so nothing is refunded twice."""
    async with services.engine.begin() as conn:
        loaded = await _load(conn, code, lock=True)
        if loaded is None or loaded.refunded_in_full:
            return None
        plan = plan_full_refund(loaded.charged, loaded.points.balance)
        how = How(
            reason=reason,
            destination=RefundDestination.ORIGINAL,
            key=f"show-cancel:{loaded.booking.booking_id}",
            seat_status=SeatStatus.UNAVAILABLE,
            actor_id=principal.user_id,
            now=services.clock.now(),
            show_cancelled=True,
        )
        written = await _write(conn, loaded, plan, how)
    await _after_commit(services, loaded, written, how)
    return plan
