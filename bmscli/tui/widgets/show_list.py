"""ShowList: a day's shows grouped by theater, each with its time, format, language and how
full it is; enter or a click picks one."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from uuid import UUID

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from bmscli.tui.format import FILLING_FAST, availability, local_time, occupancy
from bmscli.tui.money import format_money
from server.contracts.api import ShowOut
from server.layouts.model import SeatType

BAR_WIDTH = 6
# Sold only with an accessibility request: their price is no guide to what a ticket costs.
ACCESSIBLE_ONLY = frozenset({SeatType.WHEELCHAIR, SeatType.COMPANION})


class ShowList(OptionList):
    """Call ``show`` with shows grouped by theater, each in time order; posts ``Chosen``.

    Theater names are disabled options: the cursor skips them, and the stylesheet draws them
    as headings.
    """

    class Chosen(Message):
        def __init__(self, show: ShowOut) -> None:
            super().__init__()
            self.show = show

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shows: dict[str, ShowOut] = {}

    def show(
        self, shows: list[ShowOut], timezone: str, distances: Mapping[UUID, float] | None = None
    ) -> None:
        """``distances``: kilometres to each theater, drawn beside its name."""
        self._shows = {str(show.show_id): show for show in shows}
        options: list[Option | None] = []
        for (theater_id, theater), group in groupby(
            shows, key=lambda show: (show.theater_id, show.theater_name)
        ):
            if options:
                options.append(None)
            heading = Text(theater)
            if distances and theater_id in distances:
                heading.append(f"  {distances[theater_id]:.1f} km", style="dim")
            options.append(Option(heading, disabled=True))
            options += [Option(_line(show, timezone), id=str(show.show_id)) for show in group]
        self.clear_options()
        self.add_options(options)
        first = next((i for i, o in enumerate(options) if o is not None and not o.disabled), None)
        self.highlighted = first

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Chosen(self._shows[event.option.id]))


def _cheapest_on_general_sale(show: ShowOut) -> int:
    general = [price for kind, price in show.prices.items() if kind not in ACCESSIBLE_ONLY]
    return min(general or show.prices.values(), default=0)


def _line(show: ShowOut, timezone: str) -> Text:
    """ "  16:00  IMAX Hindi    IMAX       from ₹250.00  ████░░ 32 free  filling fast": fits
    the 76 columns inside the list's border at 80x24."""
    starts = local_time(show.starts_at, timezone).strftime("%H:%M")
    taken = occupancy(show)
    filled = round(taken * BAR_WIDTH)
    line = Text.assemble(
        (f"  {starts}  ", "bold"),
        f"{show.format:<5}{show.language[:8]:<9}",
        (f"{show.screen_name[:10]:<11}", "dim"),
        f"{'from ' + format_money(_cheapest_on_general_sale(show), show.currency):>14}  ",
        ("█" * filled, "#ff8700" if taken > FILLING_FAST else "#3fb950"),
        ("░" * (BAR_WIDTH - filled), "dim"),
        " ",
    )
    line.append_text(availability(show))
    return line
