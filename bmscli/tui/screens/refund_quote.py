"""RefundQuoteScreen: what cancelling would give back, shown before anything changes;
dismisses True to cancel, False to keep the booking."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from bmscli.tui import bindings
from bmscli.tui.money import format_money
from server.contracts.cancellation import RefundQuote
from server.contracts.enums import RefundDestination

DESTINATIONS = {
    RefundDestination.ORIGINAL.value: "to the original payment",
    RefundDestination.WALLET.value: "to the bms wallet",
}


class RefundQuoteScreen(ModalScreen[bool]):
    BINDINGS = bindings.REFUND_QUOTE

    def __init__(self, quote: RefundQuote) -> None:
        super().__init__()
        self.quote = quote

    def compose(self) -> ComposeResult:
        what = "the whole booking" if self.quote.whole_booking else "these seats"
        with Vertical(id="refund-quote"):
            yield Static(f"Cancel {what} of {self.quote.code}?", classes="title")
            yield Static(_quote(self.quote), id="refund-lines")
            with Horizontal(classes="actions"):
                yield Button("Cancel and refund", variant="error", id="confirm-cancel")
                yield Button("Keep booking", variant="primary", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep").focus()  # the safe answer is the default

    @on(Button.Pressed, "#confirm-cancel")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)


def _quote(quote: RefundQuote) -> Group:
    def money(minor: int) -> str:
        return format_money(minor, quote.currency)

    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column()
    table.add_column(justify="right")
    for seat in quote.seats:
        table.add_row(f"Seat {seat.label}  {seat.refund_percent} %", money(seat.refund_minor))
    if quote.snacks_refund_minor:
        table.add_row("Snacks", money(quote.snacks_refund_minor))
    if quote.fee_kept_minor:
        # Not a deduction from the lines above (they never included it): what stays paid.
        kept = "Convenience fee kept (and its tax)"
        table.add_row(Text(kept, "dim"), Text(money(quote.fee_kept_minor), "dim"))
    if quote.loyalty_points_returned:
        table.add_row("Points returned", f"{quote.loyalty_points_returned} pts")
    if quote.shortfall_deducted_minor:
        table.add_row("Spent points charged", f"−{money(quote.shortfall_deducted_minor)}")
    destination = DESTINATIONS.get(quote.refund_to, quote.refund_to)
    table.add_row(
        Text(f"Refund {destination}", "bold"), Text(money(quote.refund_minor), "bold green")
    )
    return Group(Text(quote.tier, style="italic"), table)
