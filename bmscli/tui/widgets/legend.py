"""Legend: what each glyph and colour on the SeatMap means, and the price of each seat type."""

from __future__ import annotations

from rich.columns import Columns
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from bmscli.tui.money import format_money
from bmscli.tui.widgets.seat_map import (
    SEAT_COMPONENT_CLASSES,
    SEAT_CSS,
    SELECTED,
    STATUS_LOOKS,
    STYLES_DIR,
    TYPE_LOOKS,
    Look,
)
from server.contracts.api import SeatMapOut


class Legend(Widget):
    """Seat types present in the loaded map with their prices, then every status."""

    DEFAULT_CSS = SEAT_CSS + (STYLES_DIR / "legend.tcss").read_text(encoding="utf-8")
    SCOPED_CSS = False
    COMPONENT_CLASSES = SEAT_COMPONENT_CLASSES

    def __init__(
        self,
        seatmap: SeatMapOut | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._types: list[str] = []
        self._prices: dict[str, int] = {}
        self._currency = ""
        if seatmap is not None:
            self.load(seatmap)

    def load(self, seatmap: SeatMapOut) -> None:
        present = {seat.type for seat in seatmap.seats}
        self._types = [seat_type for seat_type in TYPE_LOOKS if seat_type in present]
        self._prices = seatmap.prices
        self._currency = seatmap.currency
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        entries = [
            self._entry(TYPE_LOOKS[seat_type], self._price(seat_type)) for seat_type in self._types
        ]
        entries += [self._entry(look) for look in (SELECTED, *STATUS_LOOKS.values())]
        return Columns(entries, padding=(0, 2))

    def _price(self, seat_type: str) -> str:
        price = self._prices.get(seat_type)
        return "" if price is None else format_money(price, self._currency)

    def _entry(self, look: Look, price: str = "") -> Text:
        cell_style = self.get_component_rich_style(look.component, partial=True)
        entry = Text.assemble((f" {look.glyph} ", cell_style), f" {look.meaning}")
        if price:
            entry.append(f" {price}", "bold")
        return entry
