"""The words: one pure function per outbox topic turns its payload and the facts about one
recipient into a plain-text e-mail and an SMS.

A new topic is a payload shape in ``server/contracts/notifications.py`` and one function here
under ``@template("topic", Shape)``; the worker finds it in ``TOPICS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from server.contracts.enums import BookingStatus, RefundDestination
from server.contracts.notifications import (
    Announcement,
    BookingCancelled,
    BookingConfirmed,
    BookingReminder,
    MovieOnSale,
    RefundIssued,
    SeatsMoved,
    ShowCancelled,
    WaitlistOffered,
)
from server.domain.pricing.services import format_minor

SIGNATURE = "The bms box office"


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: uuid.UUID | None
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class ShowFacts:
    movie_title: str
    theater_name: str
    theater_address: str
    screen_name: str
    starts_at: datetime
    timezone: str


@dataclass(frozen=True, slots=True)
class BookingFacts:
    code: str
    currency: str
    # The seats still held (a partly cancelled booking has fewer than it was bought with).
    seats: tuple[str, ...]
    pickup_code: str | None


@dataclass(frozen=True, slots=True)
class Occasion:
    """Everything a template may say to one recipient about one event."""

    recipient: Recipient
    show: ShowFacts | None = None
    booking: BookingFacts | None = None


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    body: str
    sms: str


class MissingFacts(ValueError):
    """The event names nothing a template needs (say, a booking that does not exist)."""


P = TypeVar("P")
Render = Callable[[P, Occasion], Letter]


@dataclass(frozen=True, slots=True)
class Topic(Generic[P]):
    payload: type[P]
    render: Render[P]


TOPICS: dict[str, Topic[Any]] = {}


def template(topic: str, payload: type[P]) -> Callable[[Render[P]], Render[P]]:
    def register(render: Render[P]) -> Render[P]:
        TOPICS[topic] = Topic(payload, render)
        return render

    return register


# -- wording helpers -------------------------------------------------------------------------


def local_time(moment: datetime, timezone: str) -> str:
    """``Sun 22 Nov 2026, 14:30 IST``: the moment on the theater's wall clock."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y, %H:%M %Z")


def short_time(moment: datetime, timezone: str) -> str:
    """``Sun 22 Nov 14:30``, for subjects and SMS."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")


def details(rows: Sequence[tuple[str, str | None]]) -> str:
    """An aligned two-column block; rows without a value are left out."""
    shown = [(label, value) for label, value in rows if value]
    width = max((len(label) for label, _ in shown), default=0)
    return "\n".join(f"  {label.ljust(width)}   {value}" for label, value in shown)


def letter_body(name: str, *paragraphs: str, signature: str = SIGNATURE) -> str:
    return "\n\n".join([f"Hello {name},", *paragraphs, signature]) + "\n"


def show_rows(show: ShowFacts) -> list[tuple[str, str | None]]:
    return [
        ("Movie", show.movie_title),
        ("When", local_time(show.starts_at, show.timezone)),
        ("Where", f"{show.theater_name}, {show.screen_name}"),
        ("Address", show.theater_address),
    ]


def show_phrase(show: ShowFacts) -> str:
    return f"{show.movie_title} on {short_time(show.starts_at, show.timezone)}"


def seat_list(seats: Sequence[str]) -> str:
    return ", ".join(seats)


def seats_named(seats: Sequence[str]) -> str:
    """``seat E7`` or ``seats E7, E8``."""
    return f"{'seat' if len(seats) == 1 else 'seats'} {seat_list(seats)}"


def ticket_rows(code: str, show: ShowFacts, seats: Sequence[str]) -> list[tuple[str, str | None]]:
    """What the customer shows at the door: booking code, show and seats."""
    return [("Booking code", code), *show_rows(show), ("Seats", seat_list(seats))]


def snacks_row(booking: BookingFacts) -> tuple[str, str | None]:
    pickup = f"pickup code {booking.pickup_code} at the snack counter"
    return ("Snacks", pickup if booking.pickup_code else None)


def booked(occasion: Occasion) -> tuple[BookingFacts, ShowFacts]:
    if occasion.booking is None or occasion.show is None:
        raise MissingFacts("this message is about a booking, and the event names none")
    return occasion.booking, occasion.show


def showing(occasion: Occasion) -> ShowFacts:
    if occasion.show is None:
        raise MissingFacts("this message is about a show, and the event names none")
    return occasion.show


def refund_sentence(refund_minor: int, currency: str) -> str:
    if refund_minor <= 0:
        return "No refund is due for it under the cinema's cancellation policy."
    return (
        f"You will get {format_minor(refund_minor, currency)} back; we will write again "
        "when the refund is on its way."
    )


# -- one function per topic ------------------------------------------------------------------


@template("booking.confirmed", BookingConfirmed)
def booking_confirmed(event: BookingConfirmed, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    table = details(
        [
            *ticket_rows(event.code, show, event.seats),
            ("Total paid", format_minor(event.total_minor, event.currency)),
            snacks_row(booking),
        ]
    )
    if event.status == BookingStatus.REVIEW.value:
        subject = f"Booking {event.code} received: {show_phrase(show)}"
        opening = (
            "We have your booking and are making a routine check before we confirm it. "
            "Your seats are kept for you meanwhile; we will contact you if we need anything."
        )
        sms = f"Booking {event.code} received and being checked: {show_phrase(show)}."
    else:
        subject = f"Your tickets: {show_phrase(show)} (booking {event.code})"
        opening = (
            "Your booking is confirmed. Show the booking code, or the QR code in the app, "
            "at the entrance."
        )
        sms = (
            f"Booking {event.code} confirmed: {show_phrase(show)}, {show.theater_name} "
            f"{show.screen_name}, {seats_named(event.seats)}."
        )
    body = letter_body(
        occasion.recipient.name,
        opening,
        table,
        "Please arrive a few minutes early: the show starts on time. You can cancel from "
        "your bookings under the cinema's cancellation policy.",
        "Enjoy the film!",
        signature=show.theater_name,
    )
    return Letter(subject, body, sms)


@template("booking.reminder", BookingReminder)
def booking_reminder(event: BookingReminder, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    if not booking.seats:
        # Cancelled between the reminder job and the worker: there is no show to go to.
        raise MissingFacts(f"booking {booking.code} holds no seats any more")
    body = letter_body(
        occasion.recipient.name,
        f"A reminder: your show is coming up, {show_phrase(show)} at {show.theater_name}.",
        details([*ticket_rows(booking.code, show, booking.seats), snacks_row(booking)]),
        "Please arrive a few minutes early: the show starts on time. Show the booking code, "
        "or the QR code in the app, at the entrance.",
        "Enjoy the film!",
        signature=show.theater_name,
    )
    sms = (
        f"Reminder: {show_phrase(show)}, {show.theater_name} {show.screen_name}, "
        f"{seats_named(booking.seats)}. Booking {booking.code}."
    )
    if booking.pickup_code:
        sms += f" Snacks: pickup code {booking.pickup_code}."
    return Letter(f"Reminder: {show_phrase(show)} (booking {booking.code})", body, sms)


@template("booking.cancelled", BookingCancelled)
def booking_cancelled(event: BookingCancelled, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    if event.seats:
        subject = f"Seats cancelled in booking {booking.code}"
        what = f"{seats_named(event.seats)} of your booking {booking.code}"
    else:
        subject = f"Booking {booking.code} cancelled"
        what = f"your booking {booking.code}"
    still = f"You still hold {seats_named(booking.seats)}." if booking.seats else ""
    reason = f"Reason: {event.reason}" if event.reason else ""
    body = letter_body(
        occasion.recipient.name,
        f"We have cancelled {what} for {show_phrase(show)} at {show.theater_name}.",
        *(text for text in (reason, reissued_ticket(event, booking) or still) if text),
        refund_sentence(event.refund_minor, booking.currency),
        signature=show.theater_name,
    )
    sms = f"{subject}: {show_phrase(show)}."
    if event.ticket_seats:
        sms += (
            f" Your old ticket no longer works: show the new QR code from the app "
            f"({seats_named(event.ticket_seats)})."
        )
    return Letter(subject, body, sms)


def reissued_ticket(event: BookingCancelled, booking: BookingFacts) -> str:
    """What a partial cancellation did to the ticket: a new one replaces it."""
    if not event.ticket_seats:
        return ""
    return (
        f"You still hold {seats_named(event.ticket_seats)}, on a new ticket: its QR code "
        "replaces the old one, and the ticket you had before (printed, downloaded or in a "
        "screenshot) no longer opens the door. Show the new QR code from the app at the "
        f"entrance; your booking code {booking.code} stays the same, and the box office finds "
        "your new ticket by it."
    )


@template("refund.issued", RefundIssued)
def refund_issued(event: RefundIssued, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    amount = format_minor(event.amount_minor, booking.currency)
    if event.destination is RefundDestination.WALLET:
        where = "It is in your bms wallet now, ready for your next booking."
    else:
        where = (
            "It goes back to the card or account you paid with; your bank may take a few "
            "working days to show it."
        )
    subject = f"Refund of {amount} for booking {booking.code}"
    body = letter_body(
        occasion.recipient.name,
        f"We have issued a refund of {amount} for booking {booking.code} "
        f"({show_phrase(show)} at {show.theater_name}).",
        where,
        signature=show.theater_name,
    )
    return Letter(subject, body, f"{subject} issued.")


@template("show.cancelled", ShowCancelled)
def show_cancelled(event: ShowCancelled, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    reason = f" ({event.reason})" if event.reason else ""
    subject = f"Show cancelled: {show_phrase(show)}"
    body = letter_body(
        occasion.recipient.name,
        f"We are sorry: the show of {show_phrase(show)} at {show.theater_name} is "
        f"cancelled{reason}. Your booking {booking.code} is cancelled with it.",
        refund_sentence(event.refund_minor, booking.currency),
        "We hope to see you at another show soon.",
        signature=show.theater_name,
    )
    return Letter(subject, body, f"{subject}. Booking {booking.code} is cancelled.")


@template("waitlist.offered", WaitlistOffered)
def waitlist_offered(event: WaitlistOffered, occasion: Occasion) -> Letter:
    show = showing(occasion)
    count = len(event.seat_ids)
    seats = "1 seat" if count == 1 else f"{count} seats"
    deadline = local_time(event.expires_at, show.timezone)
    subject = f"Seats for you: {show_phrase(show)}"
    if event.at_box_office:
        how = (
            f"Come to the box office at {show.theater_name}, {show.theater_address}, and "
            "give your name or phone number to book them before then"
        )
        where = f" at the {show.theater_name} box office"
    else:
        how, where = "Open your holds in the app and book them before then", ""
    body = letter_body(
        occasion.recipient.name,
        f"Good news from the waiting list: {seats} opened up for {show_phrase(show)} at "
        f"{show.theater_name}, and we are holding them for you until {deadline}.",
        f"{how}; after that they go to the next person in line.",
        signature=show.theater_name,
    )
    sms = f"{seats} held for you: {show_phrase(show)}. Book{where} before {deadline}."
    return Letter(subject, body, sms)


@template("release.on_sale", MovieOnSale)
def movie_on_sale(event: MovieOnSale, occasion: Occasion) -> Letter:
    show = showing(occasion)
    title = show.movie_title
    body = letter_body(
        occasion.recipient.name,
        f"You asked us to tell you when {title} is on sale in {event.city}: it is now. "
        "The first show:",
        details(show_rows(show)),
        "Book in the app, or at the theater's box office, while the best seats last. This "
        "was your only alert for this movie in this city.",
        signature=SIGNATURE,
    )
    sms = (
        f"{title} is on sale in {event.city}: first show "
        f"{short_time(show.starts_at, show.timezone)} at {show.theater_name}. Book in the app."
    )
    return Letter(f"{title} is on sale in {event.city}", body, sms)


@template("booking.seats_moved", SeatsMoved)
def seats_moved(event: SeatsMoved, occasion: Occasion) -> Letter:
    booking, show = booked(occasion)
    moves = details([(move.from_seat, f"is now {move.to_seat}") for move in event.moves])
    subject = f"Your seats have changed: booking {booking.code}"
    body = letter_body(
        occasion.recipient.name,
        f"We had to move your seats for {show_phrase(show)} at {show.theater_name} "
        f"({event.reason}):",
        moves,
        f"Your booking code {booking.code} stays the same; show it at the entrance as usual.",
        signature=show.theater_name,
    )
    changes = ", ".join(f"{m.from_seat}→{m.to_seat}" for m in event.moves)
    return Letter(subject, body, f"Booking {booking.code}: your seats changed ({changes}).")


@template("announcement", Announcement)
def announcement(event: Announcement, occasion: Occasion) -> Letter:
    paragraphs = [event.message.strip()]
    signature = SIGNATURE
    if occasion.booking is not None and occasion.show is not None:
        show = occasion.show
        paragraphs.append(
            f"This is about your booking {occasion.booking.code}: {show_phrase(show)} at "
            f"{show.theater_name}."
        )
        signature = show.theater_name
    body = letter_body(occasion.recipient.name, *paragraphs, signature=signature)
    return Letter(event.subject, body, f"{event.subject}: {event.message.strip()}")
