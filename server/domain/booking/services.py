"""Checkout: price a hold, take the payment, confirm the booking in one transaction, read it.

``book`` runs four stages, each usable on its own (tests drive them one by one):

1. ``price_hold``: the hold must be live and the caller's; the breakdown comes from the same
   pricing function the quote uses, so the quote and the charge always agree.
2. ``plan_parts`` and ``assess_risk``: payment parts checked, cards tokenized, fraud rules.
3. ``take_payment``: authorize every part, capture every part; any failure unwinds the others
   and answers 402 (or 503 when a gateway is down), with the attempt recorded.
4. ``confirm``: one transaction books the seats (re-holding them when the hold expired during
   payment but they are still free), writes the booking, payments, coupon, points, wallet,
   snacks, ticket and outbox event. If it cannot, the captured money is refunded and the
   answer says so.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.checkout import (
    Amounts,
    BookedSeat,
    BookingOut,
    BookingRequest,
    BookingSummary,
    Contact,
    PaymentOut,
    QuoteOut,
    QuoteRequest,
    SeatLine,
    SnackChoice,
    SnackLine,
    TicketOut,
)
from server.contracts.enums import (
    COUNTER_STAFF_ROLES,
    BookingStatus,
    Channel,
    HoldKind,
    HoldStatus,
    PaymentMethod,
    PaymentStatus,
    SeatStatus,
    ShowStatus,
)
from server.contracts.notifications import BookingConfirmed
from server.db.models.booking import AMOUNT_COLUMNS
from server.domain.accounts.contact import checked_contact, checked_email, phone_digits
from server.domain.accounts.principal import Principal
from server.domain.booking import queries
from server.domain.booking.queries import BookingHead
from server.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PaymentRequired,
)
from server.domain.inventory import queries as inventory_queries
from server.domain.inventory import services as inventory
from server.domain.live import waiting_room
from server.domain.payments import fraud
from server.domain.payments import services as payments
from server.domain.payments.services import Charge, PartPlan, Unwound
from server.domain.pricing import queries as pricing_queries
from server.domain.pricing.queries import HoldContext
from server.domain.pricing.services import (
    ROUNDING_RULE,
    Breakdown,
    CouponTerms,
    CouponUse,
    Order,
    SnackPrice,
    coupon_refusal,
    format_minor,
    price,
)
from server.domain.tickets import services as tickets
from server.infra.database import autocommit, violates_unique
from server.infra.state import Services

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread at a counter
CODE_LENGTH = 8
PICKUP_CODE_LENGTH = 6
MAX_SNACK_QUANTITY = 20
CHECKOUT_LOCK_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Checkout:
    """A live hold of the caller, priced: what the quote shows and the booking charges."""

    context: HoldContext
    snacks: tuple[SnackPrice, ...]
    coupon: CouponTerms | None
    breakdown: Breakdown

    @property
    def currency(self) -> str:
        return self.context.currency

    @property
    def total_minor(self) -> int:
        return self.breakdown.total_minor


# -- 1. pricing a hold -----------------------------------------------------------------------


async def price_hold(
    services: Services, principal: Principal, hold_id: uuid.UUID, body: QuoteRequest
) -> Checkout:
    now = services.clock.now()
    async with autocommit(services.engine).connect() as conn:
        context = await pricing_queries.hold_context(conn, hold_id)
        context = _check_hold(context, principal, hold_id, now)
        snacks = await _snacks(conn, context, body.snacks)
        coupon = await _coupon(conn, context, principal, body.coupon_code, now)
    _check_points(context, principal, body.loyalty_points)
    order = Order(
        seats=context.seats,
        fee_per_seat_minor=context.fee_per_seat_minor,
        tax_rate_bp=context.tax_rate_bp,
        snacks=snacks,
        coupon=coupon,
        loyalty_points=body.loyalty_points,
    )
    return Checkout(context, snacks, coupon, price(order))


def _check_hold(
    context: HoldContext | None, principal: Principal, hold_id: uuid.UUID, now: datetime
) -> HoldContext:
    if context is None:
        raise NotFound(f"There is no hold {hold_id}; hold seats first.")
    if context.buyer_id != principal.user_id:
        context = _sold_for_customer(context, principal)
    if context.hold_status == HoldStatus.CONVERTED.value:
        raise Conflict("That hold is already booked; find it under your bookings.")
    if context.hold_status != HoldStatus.ACTIVE.value or context.expires_at <= now:
        raise inventory.hold_ended(context.hold_status, context.expires_at)
    if context.show_status != ShowStatus.SCHEDULED.value or context.starts_at <= now:
        raise Conflict("This show is no longer on sale.")
    return context


def _sold_for_customer(context: HoldContext, principal: Principal) -> HoldContext:
    """Someone else's hold: only a waiting-list offer, which box-office staff of its theater
    may book at the counter for the customer it was made for. The booking stays the
    customer's; it is a box-office sale."""
    if context.kind != HoldKind.WAITLIST_OFFER.value or principal.role not in COUNTER_STAFF_ROLES:
        raise Conflict("That hold is not yours; hold seats under your own login.")
    if not principal.can_act_for(context.theater_id):
        raise Forbidden(
            f"That waiting-list offer is for a show at {context.theater_name}, not one of your "
            "theaters; the customer can book it there or online."
        )
    return replace(context, channel=Channel.BOX_OFFICE.value)


def _for_customer(context: HoldContext, principal: Principal) -> bool:
    return context.buyer_id != principal.user_id


async def _snacks(
    conn: AsyncConnection, context: HoldContext, choices: Sequence[SnackChoice]
) -> tuple[SnackPrice, ...]:
    if not choices:
        return ()
    ids = [choice.item_id for choice in choices]
    if len(set(ids)) != len(ids):
        raise Invalid("snacks lists an item twice; send each item once with its quantity.")
    menu = await pricing_queries.menu_items(conn, context.theater_id, ids)
    lines = []
    for index, choice in enumerate(choices):
        item = menu.get(choice.item_id)
        if item is None or not item.available:
            raise Invalid(
                f"snacks[{index}]: item {choice.item_id} is not on this theater's menu today.",
                field=f"snacks[{index}].item_id",
            )
        if not 1 <= choice.quantity <= MAX_SNACK_QUANTITY:
            raise Invalid(
                f"snacks[{index}].quantity must be 1–{MAX_SNACK_QUANTITY}.",
                field=f"snacks[{index}].quantity",
            )
        lines.append(SnackPrice(item.item_id, item.name, item.price_minor, choice.quantity))
    return tuple(lines)


async def _coupon(
    conn: AsyncConnection,
    context: HoldContext,
    principal: Principal,
    code: str | None,
    now: datetime,
) -> CouponTerms | None:
    if not code or not code.strip():
        return None
    # A per-customer limit counts the uses of whoever the booking is for: the buyer, or the
    # customer a clerk books a waiting-list offer for; never the clerk's own account.
    found = await pricing_queries.coupon_for(conn, code, context.buyer_id)
    if found is None:
        # Echo only what a coupon code can be (40 characters), not whatever was pasted.
        shown = code.strip()[:41]
        raise Invalid(f"There is no coupon {shown!r}; check the code.", field="coupon_code")
    coupon, used_by_user = found
    if (
        coupon.per_user_limit is not None
        and principal.is_staff
        and not _for_customer(context, principal)
    ):
        raise Invalid(
            f"Coupon {coupon.code} is limited to {coupon.per_user_limit} use(s) per customer, "
            "and a walk-up sale at the counter has no customer account to count them on; "
            "the customer can use it online or at a kiosk under their own login.",
            field="coupon_code",
        )
    use = CouponUse(now, context.movie_id, context.theater_id, used_by_user)
    refusal = coupon_refusal(coupon, use, context.seats, context.currency)
    if refusal is not None:
        raise Invalid(refusal, field="coupon_code")
    return coupon


def _check_points(context: HoldContext, principal: Principal, points: int) -> None:
    if points < 0:
        raise Invalid("loyalty_points cannot be negative.", field="loyalty_points")
    if points and _for_customer(context, principal):
        raise Invalid(
            "Loyalty points are the customer's own to spend, in the app; leave "
            "loyalty_points out when booking for them at the counter.",
            field="loyalty_points",
        )
    if points > context.buyer_points:
        raise Invalid(
            f"You have {context.buyer_points} loyalty points; you asked to redeem {points}.",
            field="loyalty_points",
        )


async def quote(
    services: Services, principal: Principal, hold_id: uuid.UUID, body: QuoteRequest
) -> QuoteOut:
    checkout = await price_hold(services, principal, hold_id, body)
    context, breakdown = checkout.context, checkout.breakdown
    return QuoteOut(
        hold_id=context.hold_id,
        show_id=context.show_id,
        expires_at=context.expires_at,
        seats=[
            SeatLine(seat_id=s.seat_id, label=s.label, type=s.seat_type, price_minor=s.price_minor)
            for s in context.seats
        ],
        snacks=_snack_lines(checkout.snacks),
        convenience_fee_per_seat_minor=context.fee_per_seat_minor,
        tax_rate_bp=context.tax_rate_bp,
        coupon_code=checkout.coupon.code if checkout.coupon else None,
        loyalty_points_used=breakdown.points_redeemed,
        loyalty_points_earned=breakdown.points_earned if _earns(principal) else 0,
        amounts=_amounts(checkout.currency, breakdown),
        rounding=ROUNDING_RULE,
    )


def _snack_lines(snacks: Sequence[SnackPrice]) -> list[SnackLine]:
    return [
        SnackLine(
            item_id=s.item_id,
            name=s.name,
            quantity=s.quantity,
            unit_price_minor=s.unit_price_minor,
            amount_minor=s.amount_minor,
        )
        for s in snacks
    ]


def _amounts(currency: str, breakdown: Breakdown) -> Amounts:
    return Amounts(
        currency=currency,
        seats_minor=breakdown.seats_minor,
        convenience_fee_minor=breakdown.convenience_fee_minor,
        tax_minor=breakdown.tax_minor,
        snacks_minor=breakdown.snacks_minor,
        discount_minor=breakdown.discount_minor,
        loyalty_minor=breakdown.loyalty_minor,
        total_minor=breakdown.total_minor,
    )


# -- the whole checkout ----------------------------------------------------------------------


async def book(
    services: Services,
    principal: Principal,
    body: BookingRequest,
    *,
    attempt: str,
    client_address: str,
) -> BookingOut:
    """Price, check, pay and confirm; ``attempt`` names this checkout at the gateways, so
    a retry under the same attempt can never charge twice."""
    _check_contact(body)
    async with _checkout_lock(services, body.hold_id):
        checkout = await price_hold(services, principal, body.hold_id, body)
        if _for_customer(checkout.context, principal):
            _check_counter_payment(body)
            body = _with_customer_contact(body, checkout.context)
        plans = await payments.plan_parts(
            services,
            principal,
            body.payments,
            total_minor=checkout.total_minor,
            currency=checkout.currency,
            theater_id=checkout.context.theater_id,
        )
        review_reason = await assess_risk(services, principal, checkout, plans, client_address)
        charges = await take_payment(services, principal, checkout, plans, attempt)
        return await confirm(services, principal, checkout, body, charges, review_reason)


def _check_contact(body: BookingRequest) -> None:
    if body.contact is not None:
        checked_contact(body.contact, "contact")


def _check_counter_payment(body: BookingRequest) -> None:
    """Booking for a customer at the counter: the wallet (like loyalty points) is the
    customer's own to spend, and not the clerk's to spend for them."""
    for index, part in enumerate(body.payments):
        if part.method == PaymentMethod.WALLET:
            raise Invalid(
                f"payments[{index}]: the customer's wallet can only be spent by the customer, "
                "in the app; take cash, card or UPI at the counter.",
                field=f"payments[{index}].method",
            )


def _with_customer_contact(body: BookingRequest, context: HoldContext) -> BookingRequest:
    """A booking made for a customer at the counter is theirs to be found and told about:
    with no contact given, it carries the customer's own."""
    if body.contact is not None and (body.contact.email or body.contact.phone):
        return body
    contact = Contact(email=context.buyer_email, phone=context.buyer_phone)
    return msgspec.structs.replace(body, contact=contact)


@asynccontextmanager
async def _checkout_lock(services: Services, hold_id: uuid.UUID) -> AsyncIterator[None]:
    """One checkout per hold at a time: a double-click cannot pay twice for one hold."""
    key = f"bms:checkout:{hold_id}"
    if not await services.redis.set(key, b"1", nx=True, ex=CHECKOUT_LOCK_SECONDS):
        raise Conflict("A payment for this hold is already in progress; wait for its answer.")
    try:
        yield
    finally:
        await services.redis.delete(key)


# -- 2. fraud rules (payments/fraud.py) ------------------------------------------------------


async def assess_risk(
    services: Services,
    principal: Principal,
    checkout: Checkout,
    plans: Sequence[PartPlan],
    client_address: str,
) -> str | None:
    """The reason to hold the booking for review, None when it is clean; a refused checkout
    is recorded (REFUSED) and answered 403."""
    verdict = await fraud.assess(
        services,
        principal,
        plans,
        seat_count=len(checkout.context.seats),
        client_address=client_address,
    )
    if verdict.refusal is not None:
        await _refuse(services, principal, checkout, verdict.refusal)
    return verdict.review


async def _refuse(
    services: Services, principal: Principal, checkout: Checkout, reason: str
) -> None:
    """Record a REFUSED booking with the reason, free the hold's seats, answer 403."""
    context, now = checkout.context, services.clock.now()
    async with services.engine.begin() as conn:
        await queries.insert_booking(
            conn,
            _booking_row(
                checkout,
                uuid.uuid4(),
                _new_code(),
                BookingStatus.REFUSED,
                now,
                review_reason=reason,
                contact=None,
            ),
        )
        show_id, seats, sequence = await inventory_queries.release_hold(
            conn,
            context.hold_id,
            now=now,
            actor_id=principal.user_id,
            final_status=HoldStatus.RELEASED.value,
            reason="refused",
        )
    if show_id is not None and sequence is not None:
        inventory.feed(services).publish(show_id, sequence, SeatStatus.AVAILABLE.value, seats)
    raise Forbidden(
        f"This booking was refused: {reason}. The seats were released; contact support or "
        "buy at the box office.",
        reason=reason,
    )


# -- 3. payment ------------------------------------------------------------------------------


async def take_payment(
    services: Services,
    principal: Principal,
    checkout: Checkout,
    plans: Sequence[PartPlan],
    attempt: str,
) -> list[Charge]:
    """Every part captured, or the failure recorded and answered (402/503)."""
    try:
        return await payments.collect(services, plans, currency=checkout.currency, attempt=attempt)
    except Unwound as failed:
        await fraud.note_declines(services, principal, failed.charges)
        await _record_failure(services, principal, checkout, failed.charges, failed.error.detail)
        raise failed.error from None


async def _record_failure(
    services: Services,
    principal: Principal,
    checkout: Checkout,
    charges: Sequence[Charge],
    reason: str,
) -> None:
    """Payment rows (no booking) and an audit entry for a checkout that did not complete."""
    async with services.engine.begin() as conn:
        await queries.insert_payments(conn, _payment_rows(checkout, charges, None))
        await queries.insert_audit(
            conn,
            actor_id=principal.user_id,
            action="checkout.failed",
            entity="hold",
            entity_id=str(checkout.context.hold_id),
            detail={"reason": reason, "total_minor": checkout.total_minor},
        )


def _payment_rows(
    checkout: Checkout, charges: Sequence[Charge], booking_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    rows = []
    for charge in charges:
        if charge.status is None:
            continue  # never sent: an earlier part failed first
        plan, card = charge.plan, charge.plan.instrument.card
        rows.append(
            {
                "id": charge.payment_id,
                "booking_id": booking_id,
                "hold_id": checkout.context.hold_id,
                "method": plan.method,
                "gateway": plan.gateway.name,
                "status": charge.status.value,
                "amount_minor": plan.amount_minor,
                "refunded_minor": plan.amount_minor
                if charge.status is PaymentStatus.REFUNDED
                else 0,
                "currency": checkout.currency,
                "idempotency_key": charge.idempotency_key,
                "gateway_ref": charge.reference,
                "card_token": card.token if card else None,
                "card_brand": card.brand if card else None,
                "card_last4": card.last4 if card else None,
                "payer_name": plan.payer_name,
                "tendered_minor": plan.instrument.tendered_minor,
                "change_minor": charge.change_minor,
                "failure_reason": charge.failure,
                "captured_at": charge.captured_at,
            }
        )
    return rows


# -- 4. confirmation -------------------------------------------------------------------------


class Unconfirmable(Exception):
    """The money is in, but the booking cannot be written; ``error`` says why."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.detail)
        self.error = error


@dataclass(frozen=True, slots=True)
class Confirmation:
    booking_id: uuid.UUID
    code: str
    status: BookingStatus
    now: datetime
    payload: str
    pickup_code: str | None
    review_reason: str | None


async def confirm(
    services: Services,
    principal: Principal,
    checkout: Checkout,
    body: BookingRequest,
    charges: list[Charge],
    review_reason: str | None,
) -> BookingOut:
    context, now = checkout.context, services.clock.now()
    code = _new_code()
    payload, claims = tickets.issue(
        services,
        code=code,
        show_id=context.show_id,
        show_date=tickets.local_date(context.starts_at, context.timezone),
        seats=[seat.label for seat in context.seats],
        now=now,
    )
    done = Confirmation(
        booking_id=uuid.uuid4(),
        code=code,
        status=BookingStatus.REVIEW if review_reason else BookingStatus.CONFIRMED,
        now=now,
        payload=payload,
        pickup_code=_new_code(PICKUP_CODE_LENGTH) if checkout.snacks else None,
        review_reason=review_reason,
    )
    try:
        booked = await _write(services, principal, checkout, body, charges, done)
    except Unconfirmable as why:
        await payments.unwind(services, charges)
        await _record_failure(services, principal, checkout, charges, why.error.detail)
        raise _with_refund_note(why.error, charges, checkout.currency) from None
    except Exception as exc:
        # The money is in but the database refused or failed the write (a lock wait past
        # lock_timeout, a lost connection): give the money back before answering, so nobody
        # is ever charged for a booking that does not exist.
        await payments.unwind(services, charges)
        with contextlib.suppress(Exception):  # the database may be what is failing
            await _record_failure(services, principal, checkout, charges, f"not written: {exc}")
        raise
    inventory.feed(services).publish(
        context.show_id, booked.sequence, SeatStatus.BOOKED.value, booked.seats
    )
    await waiting_room.finish(services, context.show_id, principal.user_id)
    head = _head(checkout, body, done)
    ticket = tickets.ticket_out(
        payload, claims, pickup_code=done.pickup_code, checked_in_at=None, checkin_location=None
    )
    seats = [
        BookedSeat(seat_id=s.seat_id, label=s.label, type=s.seat_type, price_minor=s.price_minor)
        for s in context.seats
    ]
    _, earned = _points(checkout, principal, done)
    return _booking_out(
        head,
        seats,
        [_payment_out(row) for row in _payment_rows(checkout, charges, done.booking_id)],
        _snack_lines(checkout.snacks),
        ticket,
        earned,
    )


async def _write(
    services: Services,
    principal: Principal,
    checkout: Checkout,
    body: BookingRequest,
    charges: list[Charge],
    done: Confirmation,
) -> queries.BookedSeats:
    """One statement books the seats and writes the booking; coupon, points, wallet and
    snacks, when there are any, follow it in the same transaction. Without them the
    statement commits on its own, saving the BEGIN and COMMIT round trips."""
    booking = _confirmed_row(checkout, done, body)
    more_to_write = (
        checkout.coupon is not None
        or bool(checkout.snacks)
        or _points(checkout, principal, done) != (0, 0)
        or any(charge.plan.method == PaymentMethod.WALLET for charge in charges)
    )
    engine = services.engine if more_to_write else autocommit(services.engine)
    try:
        async with engine.begin() as conn:
            booked = await queries.confirm_booking(
                conn,
                booking,
                payments=_payment_rows(checkout, charges, done.booking_id),
                ticket_payload=done.payload,
                event=_confirmed_event(checkout, done),
                actor_id=principal.user_id,
                # The hold already decided which seats this buyer may have.
                accessible=True,
                now=done.now,
            )
            if booked is None:
                raise Unconfirmable(_seats_gone())
            await _redeem_coupon(conn, checkout, done)
            await _move_points(conn, checkout, principal, done)
            await _debit_wallet(conn, checkout, charges, principal, done)
            await _order_snacks(conn, checkout, done)
    except IntegrityError as exc:
        if violates_unique(exc, "uq_booking_seats_active_seat"):
            raise Unconfirmable(_seats_gone()) from None
        raise
    return booked


def _seats_gone() -> Conflict:
    return Conflict(
        "Your hold expired while you paid and some of its seats were sold to someone else.",
        reason="seats_gone",
    )


async def _redeem_coupon(conn: AsyncConnection, checkout: Checkout, done: Confirmation) -> None:
    coupon = checkout.coupon
    if coupon is None:
        return
    gone = Conflict(f"Coupon {coupon.code} was used up while you paid.", reason="coupon_used_up")
    if not await queries.use_coupon(conn, coupon.coupon_id):
        raise Unconfirmable(gone)
    customer = checkout.context.buyer_id
    used = await queries.redemptions_by_user(conn, coupon.coupon_id, customer)
    if coupon.per_user_limit is not None and used >= coupon.per_user_limit:
        raise Unconfirmable(gone)
    await queries.insert_redemption(
        conn,
        coupon_id=coupon.coupon_id,
        booking_id=done.booking_id,
        user_id=customer,
        discount_minor=checkout.breakdown.discount_minor,
    )


def _earns(principal: Principal) -> bool:
    """Registered customers earn points; guests (no account to keep points in) and staff
    selling at a till do not. The quote says so too, so no one is promised points."""
    return not principal.is_staff and not principal.is_guest


def _points(checkout: Checkout, principal: Principal, done: Confirmation) -> tuple[int, int]:
    """(points redeemed, points earned) by this booking."""
    confirmed = done.status is BookingStatus.CONFIRMED  # a booking held for review earns nothing
    earned = checkout.breakdown.points_earned if confirmed and _earns(principal) else 0
    return checkout.breakdown.points_redeemed, earned


async def _move_points(
    conn: AsyncConnection, checkout: Checkout, principal: Principal, done: Confirmation
) -> None:
    redeemed, earned = _points(checkout, principal, done)
    if not redeemed and not earned:
        return
    moved = await queries.move_points(
        conn, principal.user_id, done.booking_id, done.code, redeemed=redeemed, earned=earned
    )
    if not moved:
        raise Unconfirmable(
            Conflict("Your loyalty points were spent elsewhere while you paid.", reason="points")
        )


async def _debit_wallet(
    conn: AsyncConnection,
    checkout: Checkout,
    charges: Sequence[Charge],
    principal: Principal,
    done: Confirmation,
) -> None:
    amount = sum(c.plan.amount_minor for c in charges if c.plan.method == "wallet")
    if amount and not await queries.debit_wallet(
        conn, principal.user_id, done.booking_id, done.code, amount
    ):
        raise Unconfirmable(
            PaymentRequired(
                "Your wallet balance dropped below the amount asked of it while you paid.",
                reason="insufficient_funds",
                method="wallet",
            )
        )


async def _order_snacks(conn: AsyncConnection, checkout: Checkout, done: Confirmation) -> None:
    if done.pickup_code is None:
        return
    lines = [
        {
            "item_id": str(s.item_id),
            "name": s.name,
            "quantity": s.quantity,
            "unit_price_minor": s.unit_price_minor,
        }
        for s in checkout.snacks
    ]
    await queries.insert_snack_order(
        conn, done.booking_id, done.pickup_code, lines, checkout.breakdown.snacks_minor
    )


def _confirmed_event(checkout: Checkout, done: Confirmation) -> dict[str, Any]:
    """The outbox payload, in the shape the notifications worker reads."""
    context = checkout.context
    event = BookingConfirmed(
        booking_id=done.booking_id,
        code=done.code,
        status=done.status.value,
        user_id=context.buyer_id,
        show_id=context.show_id,
        seats=[seat.label for seat in context.seats],
        total_minor=checkout.total_minor,
        currency=checkout.currency,
    )
    return msgspec.to_builtins(event)


def _booking_row(
    checkout: Checkout,
    booking_id: uuid.UUID,
    code: str,
    status: BookingStatus,
    now: datetime,
    *,
    review_reason: str | None,
    contact: Contact | None,
) -> dict[str, Any]:
    context, breakdown = checkout.context, checkout.breakdown
    return {
        "id": booking_id,
        "code": code,
        "user_id": context.buyer_id,
        "show_id": context.show_id,
        "hold_id": context.hold_id,
        "status": status.value,
        "channel": context.channel,
        "currency": context.currency,
        "seats_minor": breakdown.seats_minor,
        "convenience_fee_minor": breakdown.convenience_fee_minor,
        "tax_minor": breakdown.tax_minor,
        "discount_minor": breakdown.discount_minor,
        "loyalty_minor": breakdown.loyalty_minor,
        "snacks_minor": breakdown.snacks_minor,
        "total_minor": breakdown.total_minor,
        "coupon_id": checkout.coupon.coupon_id if checkout.coupon else None,
        "contact_email": contact.email.strip() if contact and contact.email else None,
        "contact_phone": contact.phone.strip() if contact and contact.phone else None,
        "review_reason": review_reason,
        "created_at": now,
        "confirmed_at": now if status is not BookingStatus.REFUSED else None,
    }


def _confirmed_row(checkout: Checkout, done: Confirmation, body: BookingRequest) -> dict[str, Any]:
    return _booking_row(
        checkout,
        done.booking_id,
        done.code,
        done.status,
        done.now,
        review_reason=done.review_reason,
        contact=body.contact,
    )


def _with_refund_note(error: DomainError, charges: Sequence[Charge], currency: str) -> DomainError:
    refunded = sum(c.plan.amount_minor for c in charges if c.status is PaymentStatus.REFUNDED)
    stuck = [c for c in charges if c.status is PaymentStatus.CAPTURED]
    note = f" We refunded {format_minor(refunded, currency)} to where it came from; nothing was booked."
    if stuck:
        note += " Part of the refund could not be sent yet; support will complete it."
    error.detail += note
    error.extra["refunded_minor"] = refunded
    return error


def _new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


# -- reading bookings ------------------------------------------------------------------------


def _head(checkout: Checkout, body: BookingRequest, done: Confirmation) -> BookingHead:
    context = checkout.context
    row = _confirmed_row(checkout, done, body)
    return BookingHead(
        booking_id=done.booking_id,
        code=done.code,
        status=done.status.value,
        user_id=context.buyer_id,
        show_id=context.show_id,
        theater_id=context.theater_id,
        movie_title=context.movie_title,
        theater_name=context.theater_name,
        starts_at=context.starts_at,
        timezone=context.timezone,
        channel=context.channel,
        currency=context.currency,
        amounts={name: row.get(name, 0) for name in AMOUNT_COLUMNS},
        coupon_code=checkout.coupon.code if checkout.coupon else None,
        review_reason=done.review_reason,
        contact_email=row["contact_email"],
        contact_phone=row["contact_phone"],
        confirmed_at=done.now,
    )


def _payment_out(row: dict[str, Any]) -> PaymentOut:
    return PaymentOut(
        payment_id=row["id"],
        method=row["method"],
        amount_minor=row["amount_minor"],
        status=row["status"],
        reference=row["gateway_ref"],
        card_brand=row["card_brand"],
        card_last4=row["card_last4"],
        tendered_minor=row["tendered_minor"],
        change_minor=row["change_minor"],
    )


def _booking_out(
    head: BookingHead,
    seats: list[BookedSeat],
    paid: list[PaymentOut],
    snacks: list[SnackLine],
    ticket: TicketOut | None,
    points_earned: int,
) -> BookingOut:
    changes = [p.change_minor for p in paid if p.change_minor is not None]
    return BookingOut(
        booking_id=head.booking_id,
        code=head.code,
        status=head.status,
        show_id=head.show_id,
        movie_title=head.movie_title,
        theater_name=head.theater_name,
        starts_at=head.starts_at,
        channel=head.channel,
        seats=seats,
        amounts=Amounts(currency=head.currency, **head.amounts),
        payments=paid,
        snacks=snacks,
        ticket=ticket,
        change_minor=sum(changes) if changes else None,
        coupon_code=head.coupon_code,
        loyalty_points_earned=points_earned,
        review_reason=head.review_reason,
        contact_email=head.contact_email,
        contact_phone=head.contact_phone,
        confirmed_at=head.confirmed_at,
    )


async def _visible_head(conn: AsyncConnection, principal: Principal, code: str) -> BookingHead:
    head = await queries.booking_head(conn, code)
    missing = NotFound(f"There is no booking {code.strip().upper()}; check the code.")
    if head is None:
        raise missing
    if head.user_id != principal.user_id and not principal.serves_customers_of(head.theater_id):
        raise missing  # not "forbidden": that would confirm the code exists
    return head


async def get_booking(services: Services, principal: Principal, code: str) -> BookingOut:
    async with autocommit(services.engine).connect() as conn:
        head = await _visible_head(conn, principal, code)
        seat_rows = await queries.booking_seats(conn, head.booking_id)
        payment_rows = await queries.payments_of(conn, head.booking_id)
        extras = await queries.extras_of(conn, head.booking_id)
    ticket = None
    if extras.payload is not None:
        ticket = tickets.ticket_out(
            extras.payload,
            tickets.read(services, extras.payload),
            pickup_code=extras.pickup_code,
            checked_in_at=extras.checked_in_at,
            checkin_location=extras.checkin_location,
        )
    seats = [
        BookedSeat(
            seat_id=r.seat_id,
            label=r.label,
            type=r.seat_type,
            price_minor=r.price_minor,
            status=r.status,
        )
        for r in seat_rows
    ]
    snacks = [
        SnackPrice(
            uuid.UUID(line["item_id"]), line["name"], line["unit_price_minor"], line["quantity"]
        )
        for line in extras.lines or []
    ]
    paid = [_payment_out(dict(row._mapping)) for row in payment_rows]
    earned = int(extras.points_earned or 0)
    return _booking_out(head, seats, paid, _snack_lines(snacks), ticket, earned)


async def ticket_payload(services: Services, principal: Principal, code: str) -> str:
    """The signed QR payload of a booking the caller may see."""
    async with autocommit(services.engine).connect() as conn:
        head = await _visible_head(conn, principal, code)
        extras = await queries.extras_of(conn, head.booking_id)
    if extras.payload is None:
        raise NotFound(f"Booking {head.code} has no ticket.")
    return str(extras.payload)


# -- staff lookup ----------------------------------------------------------------------------


def lookup_filter(
    principal: Principal, *, code: str | None, phone: str | None, email: str | None
) -> queries.LookupFilter:
    """Check who asks and what for: one of code, phone or e-mail, each sensible."""
    if principal.role not in COUNTER_STAFF_ROLES:
        raise Forbidden(
            "Looking bookings up is for box-office staff; open your own booking with its code "
            "at /api/v1/bookings/{code}."
        )
    given = (("code", code), ("phone", phone), ("email", email))
    asked = {name: value.strip() for name, value in given if value and value.strip()}
    if len(asked) != 1:
        raise Invalid(
            "Look a booking up by exactly one of code, phone or email, "
            "e.g. /api/v1/bookings?phone=9820012345."
        )
    scope = None if principal.is_platform_admin else frozenset(principal.theater_ids)
    if "code" in asked:
        code_text = asked["code"].upper()
        if not code_text.isalnum() or len(code_text) > CODE_LENGTH + 4:
            raise Invalid(f"{asked['code']!r} is not a booking code; codes are like K7Q2M9XD.")
        return queries.LookupFilter(scope, code=code_text)
    if "phone" in asked:
        return queries.LookupFilter(scope, phone_digits=phone_digits(asked["phone"], "phone"))
    return queries.LookupFilter(scope, email=checked_email(asked["email"], "email").casefold())


async def lookup(
    services: Services,
    principal: Principal,
    *,
    code: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> list[BookingSummary]:
    """The bookings of the caller's theaters (every theater for platform admins) matching a
    code, a phone number (on its digits) or an e-mail (any case)."""
    where = lookup_filter(principal, code=code, phone=phone, email=email)
    async with autocommit(services.engine).connect() as conn:
        rows = await queries.lookup_bookings(conn, where)
    return [BookingSummary(**dict(row._mapping)) for row in rows]
