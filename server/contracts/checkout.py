"""Checkout shapes: price quotes, bookings with (split) payments, tickets and check-in.

Money is integer minor units (``*_minor``) with the currency beside it. Card numbers appear
only in requests (``CardIn``); no response ever carries more than the brand and last four.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class SnackChoice(msgspec.Struct, kw_only=True):
    item_id: UUID
    quantity: int = 1


class QuoteRequest(msgspec.Struct, kw_only=True):
    coupon_code: str | None = None
    # Loyalty points to redeem (1 point = 1 minor unit off); capped at the amount payable.
    loyalty_points: int = 0
    snacks: list[SnackChoice] = []


class SeatLine(msgspec.Struct, kw_only=True):
    seat_id: UUID
    label: str
    type: str
    price_minor: int


class SnackLine(msgspec.Struct, kw_only=True):
    item_id: UUID
    name: str
    quantity: int
    unit_price_minor: int
    amount_minor: int


class Amounts(msgspec.Struct, kw_only=True):
    """total = seats + convenience fee + tax + snacks - discount - loyalty, always."""

    currency: str
    seats_minor: int
    convenience_fee_minor: int
    tax_minor: int
    snacks_minor: int
    discount_minor: int
    loyalty_minor: int
    total_minor: int
    refunded_minor: int = 0


class QuoteOut(msgspec.Struct, kw_only=True):
    hold_id: UUID
    show_id: UUID
    expires_at: datetime
    seats: list[SeatLine]
    snacks: list[SnackLine]
    convenience_fee_per_seat_minor: int
    tax_rate_bp: int
    coupon_code: str | None
    loyalty_points_used: int
    loyalty_points_earned: int
    amounts: Amounts
    # How the amounts were rounded, in one sentence.
    rounding: str


class CardIn(msgspec.Struct, kw_only=True):
    number: str
    exp_month: int
    exp_year: int
    cvv: str
    name: str = ""

    def __repr__(self) -> str:
        # Never let a card number or CVV reach a log line through a repr.
        return f"CardIn(last4={self.number[-4:]!r})"


class PaymentPart(msgspec.Struct, kw_only=True):
    """One part of a payment: ``method`` is card, upi, wallet, net_banking or cash.

    ``amount_minor`` may be left out when there is only one part (it then pays the total).
    """

    method: str
    amount_minor: int | None = None
    card: CardIn | None = None
    upi_id: str | None = None
    bank: str | None = None
    tendered_minor: int | None = None
    payer_name: str | None = None


class Contact(msgspec.Struct, kw_only=True):
    email: str | None = None
    phone: str | None = None


class CustomerContact(Contact, kw_only=True):
    """The customer a box-office clerk acts for (e.g. on a waiting list): how to reach them,
    an e-mail and/or a phone number (at least one), and the name to greet them by."""

    name: str | None = None


class BookingRequest(QuoteRequest, kw_only=True):
    hold_id: UUID
    payments: list[PaymentPart] = []
    contact: Contact | None = None


class PaymentOut(msgspec.Struct, kw_only=True):
    payment_id: UUID
    method: str
    amount_minor: int
    status: str
    reference: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    tendered_minor: int | None = None
    change_minor: int | None = None


class BookedSeat(msgspec.Struct, kw_only=True):
    seat_id: UUID
    label: str
    type: str
    price_minor: int
    status: str = "ACTIVE"


class TicketOut(msgspec.Struct, kw_only=True):
    code: str
    show_id: UUID
    show_date: date
    seats: list[str]
    issued_at: datetime
    # base64url(payload).base64url(Ed25519 signature): what the QR code encodes.
    qr_payload: str
    png_url: str
    svg_url: str
    text_url: str
    snack_pickup_code: str | None = None
    checked_in_at: datetime | None = None
    checkin_location: str | None = None


class BookingOut(msgspec.Struct, kw_only=True):
    booking_id: UUID
    code: str
    status: str
    show_id: UUID
    movie_title: str
    theater_name: str
    starts_at: datetime
    channel: str
    seats: list[BookedSeat]
    amounts: Amounts
    payments: list[PaymentOut]
    snacks: list[SnackLine] = []
    ticket: TicketOut | None = None
    # Cash handed back at the box office, when a part was paid in cash.
    change_minor: int | None = None
    coupon_code: str | None = None
    loyalty_points_earned: int = 0
    review_reason: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    confirmed_at: datetime | None = None


class BookingSummary(msgspec.Struct, kw_only=True):
    """One line of a staff lookup (``GET /api/v1/bookings?code=|phone=|email=``): enough to
    recognise the booking at the counter; ``GET /api/v1/bookings/{code}`` has the rest."""

    code: str
    status: str
    show_id: UUID
    movie_title: str
    theater_name: str
    starts_at: datetime
    # The seats still booked (every seat, once the whole booking is cancelled).
    seats: list[str]
    currency: str
    total_minor: int
    refunded_minor: int
    contact_email: str | None = None
    contact_phone: str | None = None


class CheckinRequest(msgspec.Struct, kw_only=True):
    payload: str
    # Where the scan happened, e.g. "Screen 2 door"; shown to whoever scans the ticket again.
    location: str | None = None


class CheckinOut(msgspec.Struct, kw_only=True):
    admitted: bool
    code: str
    show_id: UUID
    seats: list[str]
    checked_in_at: datetime
    location: str | None = None
    detail: str = ""


class PublicKeyOut(msgspec.Struct, kw_only=True):
    """What an offline scanner needs to verify ticket QR codes."""

    algorithm: str
    # The raw 32-byte Ed25519 public key, base64url without padding.
    public_key: str
    pem: str
    payload_format: str
