"""Cancellation, refund and reconciliation shapes.

Money is integer minor units (``*_minor``) with the currency beside it. The rules behind the
numbers (tiers, rounding, tax, coupons, loyalty points) are in ``docs/cancellation.md``.

Endpoints:

* ``POST /api/v1/bookings/{code}/cancel``: ``CancelRequest`` → ``CancellationOut``. With
  ``confirm: false`` it is the quote and nothing changes; with ``confirm: true`` it cancels.
* ``GET /api/v1/bookings/{code}/refunds``: the booking's ``RefundOut`` records.
* ``POST /api/v1/admin/shows/{show_id}/cancel``: ``ShowCancelRequest`` →
  ``ShowCancellationOut`` (every booking of the show refunded in full, fees included).
* ``POST /api/v1/admin/cancellations``: ``BulkCancelRequest`` → ``BulkCancelOut``.
* ``GET /api/v1/admin/refunds?status=&theater_id=&from=&to=&code=&limit=``: ``RefundOut``s.
* ``POST /api/v1/admin/refunds/retry``: ``RefundRetryRequest`` → ``RefundRetryOut``.
* ``POST /api/v1/admin/refunds/{refund_id}/retry``: one FAILED refund → ``RefundOut``.
* ``POST /api/v1/admin/refunds/{refund_id}/settle-manually``: ``RefundSettleRequest`` →
  ``RefundOut``.
* ``POST /api/v1/admin/reconciliation``: ``ReconcileRequest`` → ``ReconcileOut``.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from server.contracts.checkout import Amounts

# -- a customer's cancellation ---------------------------------------------------------------


class CancelRequest(msgspec.Struct, kw_only=True):
    # The seats to cancel; left out (or empty) means every seat still in the booking.
    seat_ids: list[UUID] | None = None
    # "original": back to the payments, largest first; "wallet": credit to the bms wallet.
    refund_to: str = "original"
    # false: only quote the refund; true: cancel and refund.
    confirm: bool = False


class SeatRefundLine(msgspec.Struct, kw_only=True):
    seat_id: UUID
    label: str
    type: str
    price_minor: int
    refund_percent: int
    # The seat's part of the booking's coupon discount (it was never paid, so never refunded).
    discount_share_minor: int
    # The seat's convenience fee when the policy keeps it.
    fee_kept_minor: int
    # What the seat is worth back: (price - discount share) x percent, its tax share, and
    # its fee when the fee is refundable; rounded half-up to the minor unit.
    refund_minor: int


class RefundQuote(msgspec.Struct, kw_only=True):
    """What cancelling would give back. ``refund_value_minor`` (the seat lines plus snacks)
    is split between ``loyalty_points_returned`` (the share paid with points) and money;
    ``refund_minor`` is the money, after ``shortfall_deducted_minor``."""

    code: str
    currency: str
    show_starts_at: datetime
    minutes_before_show: int
    refund_percent: int
    # The tier applied, in one sentence.
    tier: str
    seats: list[SeatRefundLine]
    # Snacks come back (at the same percentage) only with the booking's last seat.
    snacks_refund_minor: int
    fee_kept_minor: int
    refund_value_minor: int
    loyalty_points_returned: int
    # Points earned on the cancelled part, taken back.
    loyalty_points_reversed: int
    # Reversed points already spent are charged against the refund (1 point = 1 minor unit).
    shortfall_deducted_minor: int
    refund_minor: int
    refund_to: str
    # True when no seat is left in the booking afterwards.
    whole_booking: bool
    rounding: str


class RefundOut(msgspec.Struct, kw_only=True):
    """One refund record. PENDING: not yet confirmed by the gateway (sent again at
    ``next_attempt_at``); SUCCEEDED: the money is back (``gateway_refund_ref`` is the
    gateway's refund id, or ``settled_manually`` when an admin paid it out by other means);
    FAILED: the gateway refused, or never answered however often it was asked
    (``failure_code`` and ``failure_reason`` say which; an admin retries it or settles it
    manually)."""

    refund_id: UUID
    code: str | None = None  # the booking's
    amount_minor: int
    destination: str
    status: str
    reason: str
    created_at: datetime
    payment_id: UUID | None = None
    method: str | None = None
    fee_kept_minor: int = 0
    completed_at: datetime | None = None
    gateway_refund_ref: str | None = None
    attempts: int = 0  # sends to the gateway so far
    next_attempt_at: datetime | None = None
    failure_code: str | None = None
    failure_reason: str | None = None
    currency: str | None = None
    theater_id: UUID | None = None
    theater_name: str | None = None
    # Paid out by other means (cash, a bank transfer) and marked so by an admin, at
    # ``settled_manually_at``; the admin's name and note are shown to staff only.
    settled_manually: bool = False
    settled_manually_at: datetime | None = None
    settled_by: str | None = None
    settlement_note: str | None = None
    # What an admin's retry or manual settlement came to, in a sentence.
    detail: str | None = None


class CancellationOut(msgspec.Struct, kw_only=True):
    confirmed: bool
    booking_status: str
    quote: RefundQuote
    # The booking's amounts as charged; ``refunded_minor`` grows with each cancellation.
    amounts: Amounts
    refunds: list[RefundOut] = []
    detail: str = ""


# -- a theater cancels shows ------------------------------------------------------------------


class ShowCancelRequest(msgspec.Struct, kw_only=True):
    # Told to every customer, e.g. "projector failure".
    reason: str


class ShowCancellationOut(msgspec.Struct, kw_only=True):
    """One show's outcome. A run after an interruption skips the bookings already refunded
    (``bookings_skipped``) and finishes the rest; refunds are never sent twice."""

    show_id: UUID
    starts_at: datetime
    movie_title: str
    screen_name: str
    # False when the show was already cancelled (a re-run).
    newly_cancelled: bool
    bookings_refunded: int
    bookings_skipped: int
    # Money refunded (or, in a dry run, to refund) by this run; points are separate.
    refund_minor: int
    loyalty_points_returned: int
    refunds_pending: int = 0
    refunds_failed: int = 0
    currency: str = ""


class BulkCancelRequest(msgspec.Struct, kw_only=True):
    """Every show of a theater or of a screen (give exactly one) whose local date is
    ``from``..``to`` (inclusive, the theater's wall clock), e.g. for a closure. Safe to run
    again after an interruption: finished bookings are skipped."""

    theater_id: UUID | None = None
    screen_id: UUID | None = None
    date_from: date = msgspec.field(name="from")
    date_to: date = msgspec.field(name="to")
    reason: str
    # true: report what would be cancelled and refunded; change nothing.
    dry_run: bool = False


class BulkCancelOut(msgspec.Struct, kw_only=True):
    dry_run: bool
    shows: list[ShowCancellationOut]
    shows_cancelled: int
    bookings_refunded: int
    bookings_skipped: int
    refund_minor: int
    loyalty_points_returned: int
    refunds_pending: int
    refunds_failed: int
    currency: str = ""


class RefundRetryRequest(msgspec.Struct, kw_only=True):
    """Send PENDING refunds again and FAILED ones anew; narrowed to one booking or theater
    (theater admins reach only their own theaters)."""

    booking_code: str | None = None
    theater_id: UUID | None = None


class RefundSettleRequest(msgspec.Struct, kw_only=True):
    """``POST /api/v1/admin/refunds/{refund_id}/settle-manually``: a FAILED refund was paid
    out by other means; ``note`` says how (e.g. "cash at the box office, receipt 1182")."""

    note: str


class RefundRetryOut(msgspec.Struct, kw_only=True):
    attempted: int
    succeeded: int
    pending: int
    failed: int
    refunds: list[RefundOut] = []


# -- reconciliation -------------------------------------------------------------------------


SETTLEMENT_TYPES = ("capture", "refund")


class SettlementLine(msgspec.Struct, kw_only=True):
    """One line of a gateway settlement file.

    ``type`` is ``capture`` (money the gateway took for us) or ``refund`` (money it gave
    back). ``reference`` is the gateway's own id of the line: the capture id, or for a refund
    the gateway's refund id (what our refund records keep as ``gateway_refund_ref``).
    ``capture_reference`` is, on a refund line, the capture it returns money from (it finds
    refunds we know no refund id for). ``amount_minor`` is integer minor units; the sign
    convention: positive, with ``type`` saying which way the money went, except that a refund
    may be written negative (as gateways that sign money leaving do) and is read as its size.
    A capture is never negative, and no line is 0."""

    reference: str
    amount_minor: int
    currency: str
    date: date
    type: str
    capture_reference: str | None = None
    row: int = 0  # the file's row number, for the report

    def __post_init__(self) -> None:
        # Each problem starts with the column it is about ("column: what is wrong"), one a
        # line and all of them at once, so a file's report names every bad cell of the row.
        self.reference = self.reference.strip()
        self.currency = self.currency.strip().upper()
        self.type = self.type.strip().lower()
        self.capture_reference = (self.capture_reference or "").strip() or None
        problems = []
        if self.type not in SETTLEMENT_TYPES:
            problems.append(f"type: {self.type!r} is neither capture nor refund")
        if not self.reference:
            problems.append("reference: empty; give the gateway's id of the line")
        if len(self.currency) != 3 or not self.currency.isalpha():
            problems.append(f"currency: {self.currency!r} is not a 3-letter code such as INR")
        if self.amount_minor == 0:
            problems.append("amount_minor: 0 moves no money; leave the line out")
        if self.type == "capture":
            if self.amount_minor < 0:
                problems.append(
                    "amount_minor: a capture is positive (only a refund may be written negative)"
                )
            if self.capture_reference not in (None, self.reference):
                problems.append("capture_reference: only a refund line names another capture")
        if problems:
            raise ValueError("\n".join(problems))
        self.amount_minor = abs(self.amount_minor)


class ReconcileRequest(msgspec.Struct, kw_only=True):
    """Our records of the period (UTC dates; default: the file's first to last date) are
    matched against ``lines``; records the file names are matched whatever their date."""

    lines: list[SettlementLine]
    date_from: date | None = None
    date_to: date | None = None


class ReconcileItem(msgspec.Struct, kw_only=True):
    """A line and/or one of our records. ``reference`` is the line's (or our record's) own
    id: a capture id or a gateway refund id; None for a refund of ours the gateway never
    gave an id for (matched by ``capture_reference``)."""

    reference: str | None
    type: str
    currency: str
    gateway_amount_minor: int | None = None
    our_amount_minor: int | None = None
    row: int | None = None
    at: datetime | None = None
    booking_code: str | None = None
    capture_reference: str | None = None
    refund_id: UUID | None = None
    # What we know that may explain a difference, in a sentence.
    note: str | None = None


class ReconcileOut(msgspec.Struct, kw_only=True):
    date_from: date
    date_to: date
    matched: list[ReconcileItem]
    # In the gateway's file, not in our records.
    missing_here: list[ReconcileItem]
    # In our records, not in the gateway's file.
    missing_at_gateway: list[ReconcileItem]
    # On both sides with different amounts (or currencies).
    mismatched: list[ReconcileItem]
    clean: bool
    # Refunds an admin settled by other means (cash, bank transfer): not expected at the
    # gateway, so not a difference; listed so the books add up.
    settled_manually: list[ReconcileItem] = []
