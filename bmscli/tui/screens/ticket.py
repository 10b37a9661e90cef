"""TicketScreen: the booking code and the ticket's QR code drawn in the terminal; save it as
PNG (a kiosk "prints" it: the same file, for the printer's spool)."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from bmscli.tui import bindings
from bmscli.tui.format import local_time
from bmscli.tui.money import format_money
from bmscli.tui.screens.base import BoxOfficeScreen
from server.contracts.checkout import BookingOut


def tickets_dir() -> Path:
    return Path(platformdirs.user_data_dir("bms")) / "tickets"


class TicketScreen(BoxOfficeScreen):
    BINDINGS = bindings.TICKET

    def __init__(self, booking: BookingOut, art: str | None = None) -> None:
        super().__init__()
        self.booking = booking
        self.art = art

    def compose_body(self) -> ComposeResult:
        save = "Print ticket" if self.office.LARGE_CONTROLS else "Save PNG"
        with Horizontal(id="ticket"):
            yield VerticalScroll(Static(id="qr"), id="qr-box")
            with Vertical(id="ticket-facts"):
                yield Static(id="ticket-summary")
                yield Button(save, id="save")
                yield Button("Done", variant="primary", id="done")

    def on_mount(self) -> None:
        self.query_one("#ticket-summary", Static).update(self._summary())
        self.query_one("#done").focus()
        if self.art is None:
            self.reload()
        else:
            self.query_one("#qr", Static).update(self.art)

    @work(exclusive=True)
    async def reload(self) -> None:
        art = await self.office.request(self.office.api.ticket_art(self.booking.code))
        if art is not None:
            self.art = art
            self.query_one("#qr", Static).update(art)

    def _summary(self) -> Text:
        booking = self.booking
        timezone = self.office.city.timezone if self.office.city else "UTC"
        starts = local_time(booking.starts_at, timezone)
        amounts = booking.amounts
        text = Text.assemble(
            ("Booked!\n\n", "bold green"),
            ("Booking code\n", "dim"),
            (f"{booking.code}\n\n", "bold reverse"),
            (booking.movie_title + "\n", "bold"),
            f"{booking.theater_name}\n",
            (f"{starts:%a %d %b %Y, %H:%M}\n", "bold"),
            f"Seats {', '.join(seat.label for seat in booking.seats)}\n\n",
            ("Paid ", "dim"),
            (format_money(amounts.total_minor, amounts.currency), "bold"),
        )
        if booking.change_minor:
            text.append("\nChange to give back ", style="dim")
            text.append(format_money(booking.change_minor, amounts.currency), style="bold yellow")
        return text

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.save()

    @work(exclusive=True, group="save")
    async def save(self) -> None:
        png = await self.office.request(self.office.api.ticket_png(self.booking.code))
        if png is None:
            return
        folder = tickets_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.booking.code}.png"
        path.write_bytes(png)
        self.notify(f"Ticket saved to {path}", title="Ticket")

    @on(Button.Pressed, "#done")
    def action_done(self) -> None:
        self.office.finish_sale()
