"""BookingsScreen: a clerk finds a booking by code, phone or e-mail, sees its seats, amounts
and refunds, and cancels all of it or chosen seats: the refund quote first, then, confirmed,
the cancellation with the refund to the original payment or the wallet.

A phone number or e-mail also lists the customer's waiting-list entries (their place in line,
or the seats held for them); seats offered to the customer are booked for them with ``p``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

import msgspec
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Select, SelectionList, Static

from bmscli.tui import bindings
from bmscli.tui.format import local_time
from bmscli.tui.money import format_money
from bmscli.tui.screens.base import BoxOfficeScreen
from bmscli.tui.screens.checkout import CheckoutScreen
from bmscli.tui.screens.refund_quote import RefundQuoteScreen
from server.contracts.api import HoldOut, WaitlistEntryOut
from server.contracts.cancellation import CancellationOut, CancelRequest, RefundOut
from server.contracts.checkout import BookingOut, BookingSummary, CustomerContact
from server.contracts.enums import BookingSeatStatus, RefundDestination, WaitlistStatus

PHONE_LIKE = re.compile(r"^\+?[0-9 ()-]{6,}$")
REFUND_TO = [
    ("Refund to the original payment", RefundDestination.ORIGINAL.value),
    ("Refund to the bms wallet", RefundDestination.WALLET.value),
]
FINAL_STATUSES = frozenset({"CANCELLED", "REFUSED"})
WAITLIST_ROW = "waitlist:"  # the row keys of waiting-list entries, before the entry id


def lookup_terms(typed: str) -> dict[str, str]:
    """What the clerk typed, as the one lookup parameter it must be: an e-mail has an @, a
    phone number is digits (with +, spaces, dashes or brackets), anything else is a code."""
    typed = typed.strip()
    if "@" in typed:
        return {"email": typed}
    if PHONE_LIKE.match(typed):
        return {"phone": typed}
    return {"code": typed}


class BookingsScreen(BoxOfficeScreen):
    BINDINGS = bindings.BOOKINGS

    def __init__(
        self,
        query: str = "",
        *,
        found: list[BookingSummary] | None = None,
        booking: BookingOut | None = None,
        refunds: Sequence[RefundOut] = (),
    ) -> None:
        """``query`` is looked up at once; ``found`` and ``booking`` (with its ``refunds``)
        are drawn as given, without asking the server."""
        super().__init__()
        self.query_text = query
        self.found = found
        self.booking = booking
        self.refunds = refunds
        self.entries: dict[str, WaitlistEntryOut] = {}  # by row key
        self.entry: WaitlistEntryOut | None = None  # the entry shown, when one is

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="lookup-bar"):
            yield Input(self.query_text, placeholder="Booking code, phone or e-mail", id="lookup")
            yield Button("Find", variant="primary", id="find", compact=True)
        found: DataTable[str] = DataTable(id="found", cursor_type="row", zebra_stripes=True)
        found.border_title = "Bookings"
        yield found
        with Horizontal(id="booking"):
            details = VerticalScroll(Static(id="booking-details"), id="details-box")
            details.border_title = "Booking"
            yield details
            with Vertical(id="cancel-box") as box:
                box.border_title = "Cancel"
                yield SelectionList[UUID](id="cancel-seats")
                yield Select(REFUND_TO, allow_blank=False, id="refund-to")
                yield Button("Quote refund", variant="error", id="quote-cancel", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#found", DataTable)
        table.add_columns("Code", "Show", "When", "Seats", "Status", "Total")
        self._show_booking(self.booking, self.refunds)
        self.query_one("#lookup", Input).focus()
        if self.found is not None:
            self._list(self.found)
            if self.found:
                self.query_one("#found", DataTable).focus()
        elif self.query_text:
            self.search()

    # -- finding --------------------------------------------------------------------------

    @on(Input.Submitted, "#lookup")
    @on(Button.Pressed, "#find")
    def action_find(self) -> None:
        self.query_text = self.query_one("#lookup", Input).value
        if not self.query_text.strip():
            self.notify("Type a booking code, a phone number or an e-mail.", severity="warning")
            return
        self.search()

    def action_focus_lookup(self) -> None:
        self.query_one("#lookup", Input).focus()

    def reload(self) -> None:
        if self.query_text.strip():
            self.search()

    @work(exclusive=True, group="find")
    async def search(self) -> None:
        office = self.office
        terms = lookup_terms(self.query_text)
        found = await office.request(office.api.find_bookings(**terms))
        if found is None:
            return
        entries: list[WaitlistEntryOut] = []
        if "code" not in terms:  # a customer's phone or e-mail: their waiting lists too
            entries = await office.request(office.api.find_waitlist(**terms)) or []
        self._list(found, entries)
        if not found and not entries:
            self.notify(f"No booking matches {self.query_text.strip()!r}.", severity="warning")
        else:
            self.query_one("#found", DataTable).focus()

    def _list(self, found: list[BookingSummary], entries: Sequence[WaitlistEntryOut] = ()) -> None:
        table = self.query_one("#found", DataTable)
        table.clear()
        timezone = self._timezone
        for row in found:
            table.add_row(
                row.code,
                row.movie_title,
                f"{local_time(row.starts_at, timezone):%d %b %H:%M}",
                " ".join(row.seats),
                row.status.replace("_", " ").lower(),
                format_money(row.total_minor, row.currency),
                key=row.code,
            )
        self.entries = {f"{WAITLIST_ROW}{entry.entry_id}": entry for entry in entries}
        for key, entry in self.entries.items():
            starts = local_time(entry.starts_at, timezone) if entry.starts_at else None
            table.add_row(
                Text("waitlist", style="italic"),
                entry.movie_title or "",
                f"{starts:%d %b %H:%M}" if starts else "",
                f"{entry.seats_wanted} wanted",
                _entry_status(entry, timezone),
                "",
                key=key,
            )
        if not found and not entries:
            self._show_booking(None)

    @on(DataTable.RowHighlighted, "#found")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key in self.entries:
            self._show_entry(self.entries[key])
        elif key is not None and (self.booking is None or self.booking.code != key):
            self.open_booking(key)

    def _show_entry(self, entry: WaitlistEntryOut) -> None:
        self._show_booking(None)
        self.entry = entry
        self.query_one("#details-box").border_title = "Waiting list"
        self.query_one("#booking-details", Static).update(_entry_details(entry, self._timezone))
        self.refresh_bindings()

    # -- a waiting-list offer, booked at the counter --------------------------------------

    def action_book_offer(self) -> None:
        if _offered(self.entry):
            assert self.entry is not None
            self.book_offer(self.entry)

    @work(exclusive=True, group="offer")
    async def book_offer(self, entry: WaitlistEntryOut) -> None:
        """Checkout for the seats held for the customer; the booking is theirs."""
        office = self.office
        assert entry.hold_id is not None
        quote = await office.request(office.api.quote(entry.hold_id))
        show = await office.request(office.api.show(entry.show_id)) if quote else None
        if quote is None or show is None:
            return
        hold = HoldOut(
            hold_id=entry.hold_id,
            show_id=entry.show_id,
            seat_ids=[seat.seat_id for seat in quote.seats],
            expires_at=quote.expires_at,
        )
        self.app.push_screen(CheckoutScreen(show, hold))

    @work(exclusive=True, group="open")
    async def open_booking(self, code: str) -> None:
        office = self.office
        booking = await office.request(office.api.booking(code))
        refunds = await office.request(office.api.refunds(code)) if booking else None
        if booking is not None:
            self._show_booking(booking, refunds or [])

    def _show_booking(self, booking: BookingOut | None, refunds: Sequence[RefundOut] = ()) -> None:
        self.booking = booking
        self.entry = None
        self.query_one("#details-box").border_title = "Booking"
        details = self.query_one("#booking-details", Static)
        seats = self.query_one("#cancel-seats", SelectionList)
        seats.clear_options()
        if booking is None:
            details.update(Text("Find a booking to see it here.", style="dim"))
        else:
            details.update(_details(booking, list(refunds), self._timezone))
            seats.add_options(
                (f"{seat.label}  {seat.type}", seat.seat_id)
                for seat in booking.seats
                if seat.status == BookingSeatStatus.ACTIVE
            )
        self.query_one("#cancel-box").display = _cancellable(booking)
        self.refresh_bindings()

    # -- cancelling -----------------------------------------------------------------------

    @on(Button.Pressed, "#quote-cancel")
    def action_cancel_booking(self) -> None:
        if self.booking is not None:
            self.quote_cancel(self.booking.code, self._quote_request())

    def _quote_request(self) -> CancelRequest:
        """The ticked seats (none ticked: every seat left) and where the refund goes."""
        chosen = list(self.query_one("#cancel-seats", SelectionList).selected)
        refund_to = str(self.query_one("#refund-to", Select).value)
        return CancelRequest(seat_ids=chosen or None, refund_to=refund_to, confirm=False)

    @work(exclusive=True, group="cancel")
    async def quote_cancel(self, code: str, request: CancelRequest) -> None:
        office = self.office
        quoted = await office.request(office.api.cancel(code, request))
        if quoted is None:
            return
        confirmed = await self.app.push_screen_wait(RefundQuoteScreen(quoted.quote))
        if not confirmed:
            return
        # The seats and destination quoted, not what the form may say by now.
        done = await office.request(
            office.api.cancel(code, msgspec.structs.replace(request, confirm=True))
        )
        if done is not None:
            self._cancelled(code, done)

    def _cancelled(self, code: str, done: CancellationOut) -> None:
        money = format_money(done.quote.refund_minor, done.quote.currency)
        self.notify(
            done.detail or f"Cancelled; {money} refunded.",
            title=f"Booking {code} {done.booking_status.replace('_', ' ').lower()}",
            timeout=12,
        )
        self.open_booking(code)
        self.search()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_booking":
            return _cancellable(self.booking)
        if action == "book_offer":
            return _offered(self.entry)
        return True

    @property
    def _timezone(self) -> str:
        return self.office.city.timezone if self.office.city else "UTC"


def _cancellable(booking: BookingOut | None) -> bool:
    return booking is not None and booking.status not in FINAL_STATUSES


def _details(booking: BookingOut, refunds: list[RefundOut], timezone: str) -> Group:
    currency = booking.amounts.currency

    def money(minor: int) -> str:
        return format_money(minor, currency)

    starts = local_time(booking.starts_at, timezone)
    head = Text.assemble(
        (booking.code, "bold"),
        f"  {booking.status.replace('_', ' ').lower()}\n",
        (booking.movie_title, "bold"),
        f" · {starts:%a %d %b %H:%M} · {booking.theater_name}\n",
        (_contact(booking), "dim"),
    )
    lines = Table.grid(padding=(0, 2), expand=True)
    lines.add_column()
    lines.add_column(justify="right")
    for seat in booking.seats:
        style = "strike dim" if seat.status != BookingSeatStatus.ACTIVE else ""
        lines.add_row(Text(f"Seat {seat.label}  {seat.type}", style), money(seat.price_minor))
    for snack in booking.snacks:
        lines.add_row(f"{snack.quantity} × {snack.name}", money(snack.amount_minor))
    amounts = booking.amounts
    lines.add_row(Text("Total paid", style="bold"), Text(money(amounts.total_minor), "bold"))
    for payment in booking.payments:
        card = f" ·{payment.card_last4}" if payment.card_last4 else ""
        lines.add_row(Text(f"  {payment.method}{card}", "dim"), money(payment.amount_minor))
    if amounts.refunded_minor:
        lines.add_row(Text("Refunded", "green"), Text(money(amounts.refunded_minor), "green"))
    for refund in refunds:
        where = refund.method or refund.destination
        # Paid out by other means (cash, a bank transfer) when the gateway could not.
        state = "settled manually" if refund.settled_manually else refund.status.lower()
        lines.add_row(Text(f"  {where} {state}", "dim"), money(refund.amount_minor))
    return Group(head, lines)


def _offered(entry: WaitlistEntryOut | None) -> bool:
    return (
        entry is not None and entry.status == WaitlistStatus.OFFERED and entry.hold_id is not None
    )


def _entry_status(entry: WaitlistEntryOut, timezone: str) -> str:
    if entry.status == WaitlistStatus.WAITING and entry.position:
        return f"waiting, #{entry.position}"
    if entry.status == WaitlistStatus.OFFERED and entry.offer_expires_at:
        return f"offered until {local_time(entry.offer_expires_at, timezone):%H:%M}"
    return entry.status.lower()


def _entry_details(entry: WaitlistEntryOut, timezone: str) -> Text:
    customer = entry.customer or CustomerContact()
    kind = f"{entry.seat_type} " if entry.seat_type else ""
    seats = f"{entry.seats_wanted} {kind}seat{'s' if entry.seats_wanted > 1 else ''}"
    when = f" · {local_time(entry.starts_at, timezone):%a %d %b %H:%M}" if entry.starts_at else ""
    details = Text.assemble(
        (customer.name or "", "bold"),
        "\n",
        (entry.movie_title or "", "bold"),
        f"{when} · {entry.theater_name or ''}\n",
        (" · ".join(c for c in (customer.phone, customer.email) if c) or "no contact", "dim"),
        f"\n\n{seats} wanted: ",
    )
    if entry.status == WaitlistStatus.WAITING:
        details.append(f"number {entry.position} in line.")
    elif _offered(entry) and entry.offer_expires_at:
        until = local_time(entry.offer_expires_at, timezone)
        details.append(f"held for the customer until {until:%H:%M}.\n", "bold")
        details.append("Press p to book them for the customer.")
    else:
        details.append(f"{entry.status.lower()}.")
    return details


def _contact(booking: BookingOut) -> str:
    known = [c for c in (booking.contact_phone, booking.contact_email) if c]
    return " · ".join(known) if known else "no contact given"
