"""The TUI's reusable widgets."""

from bmscli.tui.widgets.legend import Legend
from bmscli.tui.widgets.seat_map import SeatMap

__all__ = ["Legend", "SeatMap"]
