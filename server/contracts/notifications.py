"""What each outbox topic carries: the payloads other slices write (through
``server.domain.notifications.outbox.enqueue`` or a plain INSERT) and the notifications
worker reads. Unknown keys are ignored, so a writer may add facts without breaking anything.

Who is told follows from the fields: ``booking_id`` means the holder of that booking (its
contact e-mail and phone first), else ``user_id`` means that user; an announcement reaches
``user_ids`` and everyone holding seats for ``show_id``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from server.contracts.enums import RefundDestination


class BookingConfirmed(msgspec.Struct, kw_only=True):
    """``booking.confirmed``: checkout, in the booking's own transaction."""

    booking_id: UUID
    code: str
    # REVIEW when the booking waits for a fraud check before it is confirmed.
    status: str = "CONFIRMED"
    user_id: UUID
    show_id: UUID
    seats: list[str]
    total_minor: int
    currency: str


class BookingCancelled(msgspec.Struct, kw_only=True):
    """``booking.cancelled``: some or all seats of a booking were cancelled."""

    booking_id: UUID
    # The seats cancelled; empty means the whole booking.
    seats: list[str] = []
    refund_minor: int = 0
    reason: str | None = None
    # A partial cancellation reissues the ticket: the seats the new one admits (the old
    # ticket's QR code is refused at the door from then on). Empty: no ticket was reissued.
    ticket_seats: list[str] = []


class BookingReminder(msgspec.Struct, kw_only=True):
    """``booking.reminder``: the booking's show starts soon (the reminder job, once per
    booking)."""

    booking_id: UUID


class RefundIssued(msgspec.Struct, kw_only=True):
    """``refund.issued``: money for a booking is on its way back."""

    booking_id: UUID
    amount_minor: int
    destination: RefundDestination = RefundDestination.ORIGINAL


class ShowCancelled(msgspec.Struct, kw_only=True):
    """``show.cancelled``: one event per booking of the cancelled show."""

    booking_id: UUID
    reason: str | None = None
    refund_minor: int = 0


class WaitlistOffered(msgspec.Struct, kw_only=True):
    """``waitlist.offered``: seats are held for the person at the head of a waiting list."""

    entry_id: UUID
    user_id: UUID
    show_id: UUID
    hold_id: UUID
    seat_ids: list[UUID]
    expires_at: datetime
    # The person has no login to book with (a guest, e.g. put on the list at the counter):
    # they book at the box office.
    at_box_office: bool = False


class SeatMove(msgspec.Struct, kw_only=True):
    from_seat: str = msgspec.field(name="from")
    to_seat: str = msgspec.field(name="to")


class SeatsMoved(msgspec.Struct, kw_only=True):
    """``booking.seats_moved``: an admin blocked seats and moved their customers."""

    booking_id: UUID
    show_id: UUID
    reason: str
    moves: list[SeatMove]


class Announcement(msgspec.Struct, kw_only=True):
    """``announcement``: a message from the cinema to some users and/or a show's audience."""

    subject: str
    message: str
    show_id: UUID | None = None
    user_ids: list[UUID] = []


class MovieOnSale(msgspec.Struct, kw_only=True):
    """``release.on_sale``: a movie a customer asked about has a show on sale in their city
    (the release-alerts job, once per alert)."""

    alert_id: UUID
    user_id: UUID
    # The first show on sale there: the letter names the movie, the theater and the time.
    show_id: UUID
    city: str


class MessageChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
