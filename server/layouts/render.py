"""Text out: a drawing of a layout for terminals and docs, and the canonical `.layout` text."""

from __future__ import annotations

from collections import defaultdict

from server.layouts.model import Layout, SeatSpec, SeatType
from server.layouts.parser import CODE_FOR_TYPE

# The drawing reuses the file's seat codes, so a rendered map reads like the file it came from.
TYPE_GLYPHS: dict[SeatType, str] = dict(CODE_FOR_TYPE)
TYPE_NAMES: dict[str, str] = {CODE_FOR_TYPE[t]: t.value for t in SeatType}

FREE_STATUSES = frozenset({"", "available", "free", "open"})
STATUS_GLYPHS: dict[str, str] = {
    "booked": "X",
    "sold": "X",
    "held": "H",
    "hold": "H",
    "blocked": "#",
    "unavailable": "#",
    "selected": "*",
}
STATUS_NAMES = {"X": "booked", "H": "held", "#": "blocked", "*": "selected"}
# Any other status still means "cannot be sold now", so it is drawn as booked.
OTHER_STATUS_GLYPH = "X"


def _glyph(seat: SeatSpec, statuses: dict[str, str]) -> str:
    status = statuses.get(seat.label, "").strip().lower()
    if status in FREE_STATUSES:
        return TYPE_GLYPHS[seat.seat_type]
    return STATUS_GLYPHS.get(status, OTHER_STATUS_GLYPH)


def _rows_by_y(layout: Layout) -> dict[int, list[SeatSpec]]:
    rows: dict[int, list[SeatSpec]] = defaultdict(list)
    for seat in layout.seats:
        rows[seat.y].append(seat)
    return rows


def _drawing_order(layout: Layout) -> list[int]:
    """Grid lines top to bottom as drawn: nearest the screen first when the screen is on top."""
    ys = list(range(layout.height))
    return ys if layout.screen_side != "bottom" else ys[::-1]


def render_text(layout: Layout, statuses: dict[str, str] | None = None) -> str:
    """Draw the layout: screen line, section headings, row labels at both ends, a legend.

    Each seat is one character: its type code (R P L C W c) while free, or a status glyph
    from `statuses` (seat label -> status, case-insensitive): X booked/sold, H held,
    # blocked/unavailable, * selected; any other non-free status is drawn as X.
    """
    statuses = statuses or {}
    rows = _rows_by_y(layout)
    label_width = max((len(s.row) for s in layout.seats), default=1)
    margin = " " * (label_width + 1)
    screen = margin + ("SCREEN".center(layout.width, "=") if layout.width >= 8 else "SCREEN")
    body: list[str] = []
    section = None
    for y in _drawing_order(layout):
        seats = rows.get(y, [])
        if seats and seats[0].section != section and len(layout.sections) > 1:
            section = seats[0].section
            body.append(f"{margin}-- {section} --")
        body.append(_row_line(seats, layout.width, label_width, statuses))
    drawn = [screen, *body] if layout.screen_side != "bottom" else [*body, screen]
    title = f"{layout.name} ({len(layout.seats)} seats)"
    legend = _legend({_glyph(s, statuses) for s in layout.seats})
    return "\n".join([title, "", *drawn, "", legend]) + "\n"


def _row_line(seats: list[SeatSpec], width: int, label_width: int, statuses: dict) -> str:
    if not seats:
        return ""
    cells = [" "] * width
    for seat in seats:
        cells[seat.x] = _glyph(seat, statuses)
    label = seats[0].row
    return f"{label:>{label_width}} {''.join(cells)} {label}".rstrip()


def _legend(used: set[str]) -> str:
    names = {**TYPE_NAMES, **STATUS_NAMES}
    return "  ".join(f"{glyph} {name}" for glyph, name in names.items() if glyph in used)


def format_layout(layout: Layout) -> str:
    """The canonical `.layout` text of a parsed layout; parsing it gives back an equal Layout.

    Seat numbers are written back as each row's direction and start; this assumes each row is
    numbered consecutively (true of every layout the parser produces).
    """
    lines = [f"layout: {layout.name}", f"screen: {layout.screen_side}"]
    rows = _rows_by_y(layout)
    label_width = max((len(s.row) for s in layout.seats), default=1)
    section = None
    for y in _drawing_order(layout):
        seats = sorted(rows.get(y, []), key=lambda s: s.x)
        if not seats:
            lines.append(" " * label_width + " |")
            continue
        if seats[0].section != section:
            section = seats[0].section
            lines += ["", _section_header(seats[0])]
        lines.append(_format_row(seats, layout.width, label_width))
    return "\n".join(lines) + "\n"


def _prefix_of(seat: SeatSpec) -> str:
    return seat.label[: len(seat.label) - len(f"{seat.row}{seat.number}")]


def _section_header(seat: SeatSpec) -> str:
    prefix = _prefix_of(seat)
    return f"section: {seat.section}" + (f" prefix={prefix}" if prefix else "")


def _format_row(seats: list[SeatSpec], width: int, label_width: int) -> str:
    cells = [" "] * (seats[-1].x + 1)
    for i, seat in enumerate(seats):
        cells[seat.x] = CODE_FOR_TYPE[seat.seat_type]
        if i and seat.x > seats[i - 1].x + 1:
            # Dots for aisles inside the row; leading spaces keep the indentation readable.
            cells[seats[i - 1].x + 1 : seat.x] = "." * (seat.x - seats[i - 1].x - 1)
    options = []
    if len(seats) > 1 and seats[0].number > seats[1].number:
        options.append("rtl")
    start = min(s.number for s in seats)
    if start != 1:
        options.append(f"start={start}")
    area = "".join(cells).ljust(width)
    return f"{seats[0].row:<{label_width}} | {area} |" + "".join(f" {o}" for o in options)
