"""Parse the `.layout` text format into a Layout.  docs/layouts.md is the format reference.

A layout file, in short::

    layout: Screen 3            # required, once
    screen: top                 # required: where the screen is drawn, top or bottom
    section: Balcony prefix=B   # optional; rows before any section go in "Stalls"
    A |  RRRR..PPPPPP..RRRR  |  # row label, then the seat map between '|' marks
    B | WcRRRR..CCCC..RRRRcW | rtl start=101
      |                      |  # no label: a cross aisle, one empty line of the map

Every problem found is collected and raised together as one LayoutError; arbitrary input text
yields either a Layout or a LayoutError, never another exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from server.layouts.model import Layout, SeatSpec, SeatType

SEAT_CODES: dict[str, SeatType] = {
    "R": SeatType.REGULAR,
    "P": SeatType.PREMIUM,
    "L": SeatType.RECLINER,
    "C": SeatType.COUPLE,
    "W": SeatType.WHEELCHAIR,
    "c": SeatType.COMPANION,
}
CODE_FOR_TYPE: dict[SeatType, str] = {t: code for code, t in SEAT_CODES.items()}
GAP_CHARS = frozenset(". ")
DEFAULT_SECTION = "Stalls"
SCREEN_SIDES = ("top", "bottom")

_CODE_HINT = "use one of R P L C W c or '.' for a gap"
# Row labels and section prefixes: short and ASCII so seat labels stay readable ("BA12").
_NAME_RE = re.compile(r"[A-Za-z0-9]{1,4}")
# ASCII digits only: int() would also accept other Unicode digits, which no one means here.
_NUMBER_RE = re.compile(r"[0-9]{1,4}")
_TOKEN_RE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class LayoutIssue:
    source: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


class LayoutError(ValueError):
    """A layout text is invalid; `issues` lists every problem found, in file order."""

    def __init__(self, issues: list[LayoutIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(slots=True)
class _Cell:
    x: int  # offset after the opening '|'
    column: int  # 1-based column in the source line, for messages
    code: str


@dataclass(slots=True)
class _Row:
    label: str
    line: int
    grid_line: int
    cells: list[_Cell]
    rtl: bool | None = None  # None: use the section's direction
    start: int = 1


@dataclass(slots=True)
class _Section:
    name: str
    line: int
    prefix: str = ""
    rtl: bool = False
    row_lines: int = 0  # rows written, even ones rejected, so "no rows" is not reported twice
    rows: list[_Row] = field(default_factory=list)


def _tokens(text: str, offset: int) -> list[tuple[str, int]]:
    """Whitespace-separated words of `text` with their 1-based columns; `offset` is text's index."""
    return [(m.group(), offset + m.start() + 1) for m in _TOKEN_RE.finditer(text)]


def _first_column(text: str) -> int:
    return len(text) - len(text.lstrip()) + 1


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[LayoutIssue] = []
        self.headers: dict[str, tuple[int, str | None]] = {}  # key -> (line, valid value)
        self.sections: list[_Section] = []
        self.grid_lines = 0
        self.row_lines = 0

    def error(self, line: int, column: int, message: str) -> None:
        self.issues.append(LayoutIssue(self.source, line, column, message))

    # ---- reading lines -------------------------------------------------------------------

    def feed(self, text: str) -> None:
        for number, raw in enumerate(text.split("\n"), start=1):
            content = raw.removesuffix("\r").split("#", 1)[0]
            if content.strip():
                self._line(number, content)

    def _line(self, n: int, content: str) -> None:
        pipe = content.find("|")
        head = content if pipe < 0 else content[:pipe]
        # A ':' before any '|' marks a header, so header values may themselves contain '|'.
        if ":" in head:
            self._header(n, content)
        elif pipe >= 0:
            self._row_line(n, content, pipe)
        else:
            self.error(
                n,
                _first_column(content),
                "expected a header like 'layout: Screen 1' or a row like 'A | RRRR |'",
            )

    def _header(self, n: int, content: str) -> None:
        key_text, _, value_text = content.partition(":")
        key = key_text.strip().lower()
        key_column = _first_column(key_text)
        if key == "section":
            self._section(n, value_text, len(key_text) + 1)
            return
        if key not in ("layout", "screen"):
            self.error(
                n,
                key_column,
                f"unknown header '{key_text.strip()}'; use 'layout:', 'screen:' or 'section:'",
            )
            return
        if key in self.headers:
            first = self.headers[key][0]
            self.error(
                n, key_column, f"duplicate '{key}:' header (first on line {first}); keep one"
            )
            return
        self.headers[key] = (n, self._header_value(n, key, value_text, len(key_text) + 1))

    def _header_value(self, n: int, key: str, value_text: str, offset: int) -> str | None:
        value = value_text.strip()
        column = offset + _first_column(value_text)
        if not value:
            example = "layout: Screen 1" if key == "layout" else "screen: top"
            self.error(n, column, f"'{key}:' needs a value, e.g. '{example}'")
            return None
        if key == "screen" and value.lower() not in SCREEN_SIDES:
            self.error(n, column, f"screen side '{value}' is not 'top' or 'bottom'")
            return None
        return value.lower() if key == "screen" else value

    def _section(self, n: int, value_text: str, offset: int) -> None:
        tokens = _tokens(value_text, offset)
        first_option = next(
            (i for i, (tok, _) in enumerate(tokens) if _looks_like_option(tok)), len(tokens)
        )
        name = " ".join(tok for tok, _ in tokens[:first_option])
        if not name:
            column = tokens[0][1] if tokens else offset + 1
            self.error(n, column, "'section:' needs a name, e.g. 'section: Balcony prefix=B'")
        duplicate = next((s for s in self.sections if s.name == name), None)
        if duplicate is not None and name:
            self.error(
                n,
                tokens[0][1],
                f"duplicate section '{name}' (first on line {duplicate.line}); "
                "give each section its own name",
            )
        section = _Section(name, n)
        options = self._options(n, tokens[first_option:], {"numbering", "prefix"}, None)
        if "numbering" in options:
            section.rtl = options["numbering"][0] == "rtl"
        if "prefix" in options:
            section.prefix = self._prefix(n, *options["prefix"])
        self.sections.append(section)

    def _prefix(self, n: int, value: str, column: int) -> str:
        if _NAME_RE.fullmatch(value):
            return value
        self.error(n, column, f"prefix '{value}' must be 1-4 letters or digits, e.g. 'prefix=B'")
        return ""

    def _options(
        self, n: int, tokens: list[tuple[str, int]], allowed: set[str], echo: str | None
    ) -> dict[str, tuple[str, int]]:
        """Parse `rtl`, `ltr` and `key=value` words; `echo` is a row label allowed to repeat."""
        found: dict[str, tuple[str, int]] = {}
        hint = ", ".join(_OPTION_HINTS[key] for key in sorted(allowed))
        if echo is not None:
            hint += " or the row label again"
        for tok, column in tokens:
            if tok == echo:
                continue
            key, value = _split_option(tok)
            if key not in allowed:
                self.error(n, column, f"unknown option '{tok}'; use {hint}")
            elif key in found:
                self.error(n, column, f"'{tok}' repeats an option already given on this line")
            else:
                # Point messages at the value itself: 'start=0' is wrong at the '0'.
                found[key] = (value, column + len(tok) - len(value))
        return found

    # ---- rows ----------------------------------------------------------------------------

    def _row_line(self, n: int, content: str, pipe: int) -> None:
        label = content[:pipe].strip()
        rest = content[pipe + 1 :]
        close = rest.find("|")
        area = rest if close < 0 else rest[:close]
        trailer = "" if close < 0 else rest[close + 1 :]
        trailer_tokens = _tokens(trailer, pipe + close + 2)
        grid_line = self.grid_lines
        self.grid_lines += 1
        if not label:
            self._cross_aisle(n, area, pipe, trailer_tokens)
            return
        self.row_lines += 1
        section = self._current_section(n)
        section.row_lines += 1
        cells, cells_ok = self._cells(n, area, pipe)
        row = _Row(label, n, grid_line, cells)
        options = self._options(n, trailer_tokens, {"numbering", "start"}, label)
        if "numbering" in options:
            row.rtl = options["numbering"][0] == "rtl"
        if "start" in options:
            row.start = self._start(n, *options["start"])
        if cells_ok and not cells:
            self.error(
                n, pipe + 1, f"row '{label}' has no seats; draw seats after the '|' or remove it"
            )
        if self._row_label_ok(n, _first_column(content), label, section):
            section.rows.append(row)

    def _row_label_ok(self, n: int, column: int, label: str, section: _Section) -> bool:
        if not _NAME_RE.fullmatch(label):
            self.error(
                n, column, f"row label '{label}' must be 1-4 letters or digits, e.g. 'A' or 'AA'"
            )
            return False
        first = next((r for r in section.rows if r.label == label), None)
        if first is not None:
            self.error(
                n,
                column,
                f"duplicate row '{label}'{_in_section(section)} (first on line {first.line}); "
                "give each row its own label",
            )
            return False
        return True

    def _start(self, n: int, value: str, column: int) -> int:
        if _NUMBER_RE.fullmatch(value) and int(value) >= 1:
            return int(value)
        self.error(n, column, f"start number '{value}' must be a whole number from 1 to 9999")
        return 1

    def _cross_aisle(
        self, n: int, area: str, pipe: int, trailer_tokens: list[tuple[str, int]]
    ) -> None:
        for i, ch in enumerate(area):
            if ch not in GAP_CHARS:
                self.error(
                    n,
                    pipe + 2 + i,
                    "seats need a row label before the '|'; "
                    "a line with no label is a cross aisle and holds only gaps",
                )
                break
        for tok, column in trailer_tokens:
            self.error(n, column, f"unexpected '{tok}' after a cross aisle; remove it")

    def _current_section(self, n: int) -> _Section:
        if not self.sections:
            self.sections.append(_Section(DEFAULT_SECTION, n))
        return self.sections[-1]

    def _cells(self, n: int, area: str, pipe: int) -> tuple[list[_Cell], bool]:
        cells: list[_Cell] = []
        ok = True
        for i, ch in enumerate(area):
            column = pipe + 2 + i
            if ch in GAP_CHARS:
                continue
            if ch in SEAT_CODES:
                cells.append(_Cell(i, column, ch))
                continue
            ok = False
            if ch == "\t":
                self.error(n, column, "tab in the seat map; use spaces or '.' so columns line up")
            else:
                self.error(n, column, f"unknown seat code {ch!r}; {_CODE_HINT}")
        return cells, ok

    # ---- building the layout -------------------------------------------------------------

    def finish(self) -> Layout:
        for key, example in (("layout", "layout: Screen 1"), ("screen", "screen: top")):
            if key not in self.headers:
                self.error(1, 1, f"missing '{key}:' header; add a line like '{example}'")
        if self.row_lines == 0:
            self.error(1, 1, "layout has no seats; add rows like 'A | RRRR |'")
        for section in self.sections:
            if section.row_lines == 0 and section.name:
                self.error(
                    section.line, 1, f"section '{section.name}' has no rows; add rows or remove it"
                )
        seats = self._seats()
        if self.issues:
            raise LayoutError(sorted(self.issues, key=lambda i: (i.line, i.column)))
        return Layout(
            name=str(self.headers["layout"][1]),
            screen_side=str(self.headers["screen"][1]),
            width=max(s.x for s in seats) + 1,
            height=self.grid_lines,
            seats=tuple(seats),
            sections=tuple(s.name for s in self.sections),
        )

    def _seats(self) -> list[SeatSpec]:
        seats: list[SeatSpec] = []
        first_at: dict[str, tuple[int, int]] = {}
        all_cells = [c for s in self.sections for r in s.rows for c in r.cells]
        # Indentation shared by every row is not part of the shape: the map starts at x = 0.
        left = min((c.x for c in all_cells), default=0)
        for section in self.sections:
            for row in section.rows:
                clashes: list[tuple[_Cell, SeatSpec]] = []
                for cell, seat in zip(row.cells, self._row_seats(section, row, left), strict=True):
                    if seat.label in first_at:
                        clashes.append((cell, seat))
                    else:
                        first_at[seat.label] = (row.line, cell.column)
                        seats.append(seat)
                if clashes:
                    self._duplicate_labels(row.line, clashes, first_at)
        return seats

    def _duplicate_labels(
        self, line: int, clashes: list[tuple[_Cell, SeatSpec]], first_at: dict[str, tuple[int, int]]
    ) -> None:
        # One message per row: a whole row clashing is one mistake, not twenty.
        cell, seat = clashes[0]
        first_line, first_column = first_at[seat.label]
        more = f" (and {len(clashes) - 1} more seats in this row)" if len(clashes) > 1 else ""
        self.error(
            line,
            cell.column,
            f"seat label '{seat.label}' is also used at line {first_line}, column "
            f"{first_column}{more}; change a row label, the section's prefix= or the row's start=",
        )

    def _row_seats(self, section: _Section, row: _Row, left: int) -> list[SeatSpec]:
        rtl = section.rtl if row.rtl is None else row.rtl
        numbers = [row.start + i for i in range(len(row.cells))]
        if rtl:
            numbers.reverse()
        labels = [f"{section.prefix}{row.label}{number}" for number in numbers]
        pairs = self._pairs(row, labels)
        bottom = self.headers.get("screen", (0, "top"))[1] == "bottom"
        y = self.grid_lines - 1 - row.grid_line if bottom else row.grid_line
        return [
            SeatSpec(
                label=label,
                row=row.label,
                number=number,
                seat_type=SEAT_CODES[cell.code],
                x=cell.x - left,
                y=y,
                accessible=cell.code == "W",
                section=section.name,
                pair=pair,
            )
            for cell, label, number, pair in zip(row.cells, labels, numbers, pairs, strict=True)
        ]

    def _pairs(self, row: _Row, labels: list[str]) -> list[str | None]:
        pairs: list[str | None] = [None] * len(row.cells)
        self._pair_couples(row, labels, pairs)
        self._pair_companions(row, labels, pairs)
        return pairs

    def _pair_couples(self, row: _Row, labels: list[str], pairs: list[str | None]) -> None:
        cells = row.cells
        i = 0
        while i < len(cells):
            if cells[i].code != "C":
                i += 1
                continue
            end = i  # extend over the run of adjacent couple seats, then pair it off left to right
            while end + 1 < len(cells) and cells[end + 1].code == "C" and _adjacent(cells, end):
                end += 1
            for a in range(i, end, 2):
                pairs[a], pairs[a + 1] = labels[a + 1], labels[a]
            if (end - i) % 2 == 0:
                self.error(
                    row.line,
                    cells[end].column,
                    f"unpaired couple seat in row '{row.label}'; "
                    "couple seats come in adjacent pairs 'CC'",
                )
            i = end + 1

    def _pair_companions(self, row: _Row, labels: list[str], pairs: list[str | None]) -> None:
        cells = row.cells
        for k, cell in enumerate(cells):
            if cell.code != "c":
                continue
            beside = [
                m
                for m in (k - 1, k + 1)
                if 0 <= m < len(cells) and cells[m].code == "W" and _adjacent(cells, min(k, m))
            ]
            if beside:
                pairs[k] = labels[beside[0]]
            else:
                self.error(
                    row.line,
                    cell.column,
                    f"companion seat 'c' in row '{row.label}' is not beside a wheelchair space; "
                    "put it directly next to a 'W', e.g. 'Wc' or 'cW'",
                )


_OPTION_HINTS = {
    "numbering": "'rtl' or 'ltr'",
    "prefix": "'prefix=<letters>'",
    "start": "'start=<number>'",
}


def _looks_like_option(token: str) -> bool:
    return token.lower() in ("rtl", "ltr") or "=" in token


def _split_option(token: str) -> tuple[str, str]:
    if token.lower() in ("rtl", "ltr"):
        return "numbering", token.lower()
    key, sep, value = token.partition("=")
    return (key.lower(), value) if sep else ("", token)


def _in_section(section: _Section) -> str:
    return f" in section '{section.name}'" if section.name else ""


def _adjacent(cells: list[_Cell], i: int) -> bool:
    """Whether cells i and i+1 touch, with no gap or aisle between them."""
    return cells[i + 1].x == cells[i].x + 1


def parse_layout(text: str, source: str = "<string>") -> Layout:
    """Parse layout text; raise LayoutError listing every problem found."""
    parser = _Parser(source)
    parser.feed(text.removeprefix("\ufeff"))
    return parser.finish()


def load_layout(path: str | Path) -> Layout:
    """Read and parse a `.layout` file (UTF-8); bad bytes are reported as a LayoutError."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        issue = LayoutIssue(str(path), line, column, "not valid UTF-8 text; save the file as UTF-8")
        raise LayoutError([issue]) from None
    return parse_layout(text, source=str(path))
