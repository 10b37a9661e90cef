"""SeatMap: a show's auditorium drawn with Textual's Line API, one cached Strip per line.

Every seat is a ``CELL``-column cell placed by its grid position, so aisles and gaps stay
empty and the map keeps the auditorium's shape. Each look (a seat type while available, or a
status) has its own glyph as well as its own colour, so the map still reads in monochrome.
A seat changing status re-renders only its own line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from uuid import UUID

import msgspec
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Offset, Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bmscli.tui.messages import CursorMoved, SeatTakenByOther, SelectionChanged, SelectionRefused
from server.contracts.api import SeatEvent, SeatMapOut, SeatOut
from server.contracts.enums import SeatStatus

STYLES_DIR = Path(__file__).resolve().parent.parent / "styles"
# Shared by SeatMap and Legend, so it is not scoped to one widget type.
SEAT_CSS = (STYLES_DIR / "seat_map.tcss").read_text(encoding="utf-8")

CELL = 3  # columns per grid position: glyph in the middle, room for the cursor's brackets
LABEL_GAP = 2  # columns between a row label and the seat area
MARGIN = 1  # columns outside the row labels
ACCESSIBLE_TYPES = frozenset({"wheelchair", "companion"})


@dataclass(frozen=True, slots=True)
class Look:
    """How one kind of seat is drawn: ``seat-map--{name}`` in the stylesheet, and a glyph."""

    name: str
    glyph: str
    meaning: str

    @property
    def component(self) -> str:
        return f"seat-map--{self.name}"


TYPE_LOOKS: dict[str, Look] = {
    "regular": Look("regular", "○", "Regular"),
    "premium": Look("premium", "◇", "Premium"),
    "recliner": Look("recliner", "□", "Recliner"),
    "couple": Look("couple", "♡", "Couple, sold in pairs"),
    "wheelchair": Look("wheelchair", "⊕", "Wheelchair space"),
    "companion": Look("companion", "◎", "Companion seat"),
}
SELECTED = Look("selected", "●", "Your seats")
STATUS_LOOKS: dict[str, Look] = {
    SeatStatus.BLOCKED: Look("held", "░", "Held by someone else"),
    SeatStatus.BOOKED: Look("booked", "✕", "Booked"),
    SeatStatus.UNAVAILABLE: Look("unavailable", "·", "Not for sale"),
}
# Any status this client does not know yet still means "cannot be sold now".
OTHER_STATUS_LOOK = STATUS_LOOKS[SeatStatus.UNAVAILABLE]
# Drawing furniture; together with the looks these are every component class in the CSS.
FURNITURE = ("cursor", "screen", "section", "row-label")
SEAT_COMPONENT_CLASSES = {
    look.component for look in (*TYPE_LOOKS.values(), SELECTED, *STATUS_LOOKS.values())
} | {f"seat-map--{name}" for name in FURNITURE}


def look_of(seat: SeatOut, selected: bool) -> Look:
    if selected:
        return SELECTED
    if seat.status == SeatStatus.AVAILABLE:
        return TYPE_LOOKS.get(seat.type, TYPE_LOOKS["regular"])
    return STATUS_LOOKS.get(seat.status, OTHER_STATUS_LOOK)


@dataclass(slots=True)
class _Line:
    kind: Literal["screen", "section", "row", "blank"]
    text: str = ""  # the section name or the row label
    seats: list[SeatOut] = field(default_factory=list)  # a row's seats, left to right


def _lines_of(seats: list[SeatOut], height: int, screen_side: str) -> list[_Line]:
    """The drawing, top to bottom: screen, then rows nearest it first (or the reverse)."""
    rows: dict[int, list[SeatOut]] = defaultdict(list)
    for seat in seats:
        rows[seat.y].append(seat)
    ys = range(max(height, max(rows, default=-1) + 1))
    screen_on_top = screen_side != "bottom"
    body: list[_Line] = []
    section = None
    for y in ys if screen_on_top else reversed(ys):
        row = sorted(rows.get(y, []), key=lambda s: s.x)
        if row and row[0].section != section:
            section = row[0].section
            body.append(_Line("section", section))
        body.append(_Line("row", row[0].row, row) if row else _Line("blank"))
    screen = [_Line("screen"), _Line("blank")]
    return [*screen, *body] if screen_on_top else [*body, *reversed(screen)]


class SeatMap(ScrollView):
    """Pick seats on a live map: arrows or h/j/k/l move, space or enter (or a click) toggles.

    Call ``load`` with the show's SeatMapOut and ``apply_event`` with each live SeatEvent. The
    map keeps its own copy of the seats and posts the messages in ``bmscli.tui.messages``.
    """

    DEFAULT_CSS = SEAT_CSS
    SCOPED_CSS = False
    COMPONENT_CLASSES = SEAT_COMPONENT_CLASSES
    BINDINGS = [
        Binding("up,k", "move(0, -1)", "Seat up", show=False, id="seat_map.up"),
        Binding("down,j", "move(0, 1)", "Seat down", show=False, id="seat_map.down"),
        Binding("left,h", "move(-1, 0)", "Seat left", show=False, id="seat_map.left"),
        Binding("right,l", "move(1, 0)", "Seat right", show=False, id="seat_map.right"),
        Binding("space,enter", "toggle_seat", "Select seat", id="seat_map.toggle"),
    ]

    def __init__(
        self,
        seatmap: SeatMapOut | None = None,
        *,
        allow_accessible: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.allow_accessible = allow_accessible
        self._seats: dict[UUID, SeatOut] = {}
        self._by_label: dict[str, SeatOut] = {}
        self._lines: list[_Line] = []
        self._line_of: dict[UUID, int] = {}
        self._row_lines: list[int] = []  # indexes of the lines that hold seats, top to bottom
        self._strips: dict[int, Strip] = {}  # rendered lines, full width, before scrolling
        self._selection: dict[UUID, None] = {}  # an ordered set: the order they were chosen
        self._held_by_me: frozenset[UUID] = frozenset()
        self._cursor: UUID | None = None
        self._label_width = 1
        self._grid_width = 0
        if seatmap is not None:
            self.load(seatmap)

    # -- public API ---------------------------------------------------------------------

    @property
    def selected_ids(self) -> tuple[UUID, ...]:
        return tuple(self._selection)

    @property
    def seat_at_cursor(self) -> SeatOut | None:
        return None if self._cursor is None else self._seats[self._cursor]

    @property
    def free_count(self) -> int:
        """Seats anyone could choose right now, as the live feed last reported them."""
        return sum(seat.status == SeatStatus.AVAILABLE for seat in self._seats.values())

    def seat(self, seat_id: UUID) -> SeatOut:
        return self._seats[seat_id]

    def load(self, seatmap: SeatMapOut) -> None:
        """Show this seat map; a reload keeps the cursor and the chosen seats still free."""
        before = self.selected_ids
        self._index(seatmap)
        self._selection = {seat_id: None for seat_id in before if seat_id in self._seats}
        self._let_go_of_taken_seats(before)
        if self._cursor not in self._seats:
            self._cursor = self._starting_seat()
        self._cursor_changed()
        self.refresh()

    def apply_event(self, event: SeatEvent) -> None:
        """Apply the live changes newer than what the map shows; chosen seats someone else
        took are let go, each with a SeatTakenByOther message."""
        before = self.selected_ids
        for change in event.seats:
            seat = self._seats.get(change.seat_id)
            if seat is None or change.version <= seat.version:
                continue
            seat.status = change.status
            seat.version = change.version
            self._redraw(seat.seat_id)
        self._let_go_of_taken_seats(before)

    def clear_selection(self) -> None:
        self._replace_selection([])

    def select_ids(self, seat_ids: Iterable[UUID]) -> None:
        """Choose exactly these seats (e.g. a best-available suggestion), skipping any that
        cannot be chosen, and put the cursor on the first."""
        chosen = [
            seat_id
            for seat_id in seat_ids
            if seat_id in self._seats and self._refusal(self._seats[seat_id]) is None
        ]
        self._replace_selection(chosen)
        if chosen:
            self._move_cursor_to(chosen[0])

    def mark_held_by_me(self, seat_ids: Iterable[UUID]) -> None:
        """Seats this buyer holds: when the live feed reports them held or booked they stay
        chosen. Call it before placing the hold, and with nothing if the hold fails."""
        self._held_by_me = frozenset(seat_ids)

    # -- actions and events -------------------------------------------------------------

    def action_move(self, dx: int, dy: int) -> None:
        target = self._neighbour(dx, dy)
        if target is not None:
            self._move_cursor_to(target.seat_id)

    def action_toggle_seat(self) -> None:
        seat = self.seat_at_cursor
        if seat is not None:
            self._toggle(seat)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        seat = self._seat_at(offset + self.scroll_offset - self._origin)
        if seat is not None:
            self._move_cursor_to(seat.seat_id)
            self._toggle(seat)

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll_to_cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # -- rendering ----------------------------------------------------------------------

    def _index(self, seatmap: SeatMapOut) -> None:
        """Take a copy of the seats and work out the lines they are drawn on."""
        seats = [msgspec.structs.replace(seat) for seat in seatmap.seats]
        self._seats = {seat.seat_id: seat for seat in seats}
        self._by_label = {seat.label: seat for seat in seats}
        self._lines = _lines_of(seats, seatmap.height, seatmap.screen_side)
        self._line_of = {
            seat.seat_id: index for index, line in enumerate(self._lines) for seat in line.seats
        }
        self._row_lines = [i for i, line in enumerate(self._lines) if line.kind == "row"]
        self._label_width = max((len(seat.row) for seat in seats), default=1)
        self._grid_width = max(seatmap.width, max((s.x + 1 for s in seats), default=0))
        self._strips.clear()
        self.virtual_size = Size(self._content_width, len(self._lines))

    @property
    def _content_width(self) -> int:
        return 2 * (MARGIN + self._label_width + LABEL_GAP) + self._grid_width * CELL

    @property
    def _seats_x(self) -> int:
        """Column where grid position 0 starts."""
        return MARGIN + self._label_width + LABEL_GAP

    @property
    def _origin(self) -> Offset:
        """Where the drawing starts: a map smaller than the widget is centred in it."""
        viewport = self.scrollable_content_region.size
        return Offset(
            max(0, (viewport.width - self._content_width) // 2),
            max(0, (viewport.height - len(self._lines)) // 2),
        )

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        origin_x, origin_y = self._origin
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = y + scroll_y - origin_y
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._render_map_line(self._lines[index]).apply_style(base)
            self._strips[index] = strip
        if origin_x:
            strip = Strip.join([Strip.blank(origin_x, base), strip])
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _render_map_line(self, line: _Line) -> Strip:
        if line.kind == "row":
            return self._render_row(line)
        if line.kind == "screen":
            return self._render_banner(" SCREEN ".center(self._grid_width * CELL, "━"), "screen")
        if line.kind == "section":
            return self._render_banner(line.text.center(self._grid_width * CELL), "section")
        return Strip.blank(self._content_width)

    def _render_banner(self, text: str, component: str) -> Strip:
        segments = [Segment(" " * self._seats_x), Segment(text, self._style(component))]
        return Strip(segments).extend_cell_length(self._content_width)

    def _render_row(self, line: _Line) -> Strip:
        label_style = self._style("row-label")
        pad = " " * MARGIN
        segments = [
            Segment(pad + line.text.rjust(self._label_width), label_style),
            Segment(" " * LABEL_GAP),
        ]
        next_x = 0
        for seat in line.seats:
            if seat.x > next_x:
                segments.append(Segment(" " * ((seat.x - next_x) * CELL)))
            segments.append(self._render_seat(seat))
            next_x = seat.x + 1
        segments += [
            Segment(" " * ((self._grid_width - next_x) * CELL + LABEL_GAP)),
            Segment(line.text.ljust(self._label_width) + pad, label_style),
        ]
        return Strip(segments, self._content_width)

    def _render_seat(self, seat: SeatOut) -> Segment:
        look = look_of(seat, seat.seat_id in self._selection)
        style = self._style(look.name)
        if seat.seat_id == self._cursor:
            return Segment(f"[{look.glyph}]", style + self._style("cursor"))
        return Segment(f" {look.glyph} ", style)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"seat-map--{name}", partial=True)

    def _redraw(self, seat_id: UUID) -> None:
        line = self._line_of[seat_id]
        self._strips.pop(line, None)
        self.refresh_line(line + self._origin.y)

    # -- cursor ---------------------------------------------------------------------------

    def _starting_seat(self) -> UUID | None:
        """The centre of the middle row: a good seat to start looking from."""
        if not self._row_lines:
            return None
        row = self._lines[self._row_lines[len(self._row_lines) // 2]].seats
        return self._nearest_in_row(row, self._grid_width / 2).seat_id

    def _neighbour(self, dx: int, dy: int) -> SeatOut | None:
        """The nearest seat beside (dx) or above/below (dy) the cursor, across any gap."""
        seat = self.seat_at_cursor
        if seat is None:
            return None
        line = self._line_of[seat.seat_id]
        if dx:
            row = self._lines[line].seats
            index = row.index(seat) + dx
            return row[index] if 0 <= index < len(row) else None
        position = self._row_lines.index(line) + dy
        if not 0 <= position < len(self._row_lines):
            return None
        return self._nearest_in_row(self._lines[self._row_lines[position]].seats, seat.x)

    @staticmethod
    def _nearest_in_row(row: list[SeatOut], x: float) -> SeatOut:
        return min(row, key=lambda seat: abs(seat.x - x))

    def _move_cursor_to(self, seat_id: UUID) -> None:
        if seat_id == self._cursor:
            return
        if self._cursor is not None:
            self._redraw(self._cursor)
        self._cursor = seat_id
        self._redraw(seat_id)
        self._cursor_changed()

    def _cursor_changed(self) -> None:
        seat = self.seat_at_cursor
        if seat is None:
            return
        self.post_message(CursorMoved(seat))
        if self.is_mounted:
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        seat = self.seat_at_cursor
        if seat is None:
            return
        # A cell of room on each side and a line above and below; at the ends of a row up to
        # its labels, and in the first or last row up to the edge, where the screen may be.
        line = self._line_of[seat.seat_id]
        row = self._lines[line].seats
        left = 0 if seat is row[0] else self._seats_x + (seat.x - 1) * CELL
        right = self._content_width if seat is row[-1] else self._seats_x + (seat.x + 2) * CELL
        top = 0 if line == self._row_lines[0] else line - 1
        bottom = len(self._lines) if line == self._row_lines[-1] else line + 2
        region = Region(left, top, right - left, bottom - top)
        self.scroll_to_region(region, animate=False, immediate=True)

    def _seat_at(self, position: Offset) -> SeatOut | None:
        x, y = position
        if not 0 <= y < len(self._lines) or x < self._seats_x:
            return None
        grid_x = (x - self._seats_x) // CELL
        return next((seat for seat in self._lines[y].seats if seat.x == grid_x), None)

    # -- selection ------------------------------------------------------------------------

    def _toggle(self, seat: SeatOut) -> None:
        group = [seat, *self._partners(seat)]
        if seat.seat_id in self._selection:
            for member in group:
                self._selection.pop(member.seat_id, None)
        else:
            reason = self._refusal(seat) or self._partner_refusal(group[1:])
            if reason is not None:
                self.post_message(SelectionRefused(seat, reason))
                return
            self._selection.update(dict.fromkeys(member.seat_id for member in group))
        for member in group:
            self._redraw(member.seat_id)
        self._post_selection()

    def _partners(self, seat: SeatOut) -> list[SeatOut]:
        """Couple seats go together: choosing one half chooses both."""
        partner = self._by_label.get(seat.pair or "")
        return [partner] if seat.type == "couple" and partner is not None else []

    def _partner_refusal(self, partners: list[SeatOut]) -> str | None:
        for partner in partners:
            if (reason := self._refusal(partner)) is not None:
                return f"Couple seats are sold in pairs, and this one's partner is taken. {reason}"
        return None

    def _refusal(self, seat: SeatOut) -> str | None:
        """Why this seat cannot be chosen, as a sentence; None when it can."""
        label = seat.label
        if seat.status == SeatStatus.BLOCKED:
            return f"Seat {label} is being held by someone else; choose another, or wait for it to come back."
        if seat.status == SeatStatus.BOOKED:
            return f"Seat {label} is already booked; choose another seat."
        if seat.status != SeatStatus.AVAILABLE:
            return f"Seat {label} is not for sale for this show; choose another seat."
        if not self.allow_accessible and (seat.accessible or seat.type in ACCESSIBLE_TYPES):
            what = "a wheelchair space" if seat.type == "wheelchair" else "a companion seat"
            return f"Seat {label} is {what}, kept for guests who need it; ask for accessible seating if you do."
        return None

    def _let_go_of_taken_seats(self, before: tuple[UUID, ...]) -> None:
        """Unchoose seats someone else has taken, saying which; report any change at all."""
        for seat_id in list(self._selection):
            seat = self._seats[seat_id]
            if not self._keeps_selection(seat):
                del self._selection[seat_id]
                self._redraw(seat_id)
                self.post_message(SeatTakenByOther(seat_id, seat.label))
        if self.selected_ids != before:
            self._post_selection()

    def _keeps_selection(self, seat: SeatOut) -> bool:
        return seat.status == SeatStatus.AVAILABLE or seat.seat_id in self._held_by_me

    def _replace_selection(self, seat_ids: list[UUID]) -> None:
        changed = set(self._selection).symmetric_difference(seat_ids)
        self._selection = dict.fromkeys(seat_ids)
        for seat_id in changed:
            self._redraw(seat_id)
        if changed:
            self._post_selection()

    def _post_selection(self) -> None:
        total = sum(self._seats[seat_id].price for seat_id in self._selection)
        self.post_message(SelectionChanged(self.selected_ids, total))
