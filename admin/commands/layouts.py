"""layout validate | show: check and draw `.layout` files locally (docs/layouts.md)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.text import Text

from admin.output import (
    EXIT_ERROR,
    AdminTyper,
    Column,
    JsonFlag,
    examples,
    fail,
    info,
    listing,
    print_json,
    stdout,
    success,
)
from server.layouts.model import Layout, SeatType
from server.layouts.parser import LayoutError, LayoutIssue, load_layout
from server.layouts.render import TYPE_GLYPHS, render_text

app = AdminTyper(help="Seat-map layout files: validate and preview.", no_args_is_help=True)

SEAT_STYLES: dict[SeatType, str] = {
    SeatType.REGULAR: "green",
    SeatType.PREMIUM: "bright_blue",
    SeatType.RECLINER: "magenta",
    SeatType.COUPLE: "bright_red",
    SeatType.WHEELCHAIR: "bold bright_cyan",
    SeatType.COMPANION: "cyan",
}
GLYPH_STYLES = {TYPE_GLYPHS[seat_type]: style for seat_type, style in SEAT_STYLES.items()}
# A legend entry of render_text: "<glyph> <name>", entries two spaces apart.
LEGEND_GLYPH = re.compile(r"(?:^|  )(\S) ")


class Checked(msgspec.Struct, kw_only=True):
    """One file's verdict, as `layout validate --json` prints it."""

    file: str
    valid: bool
    name: str | None = None
    sections: list[str] = []
    seats: int = 0
    seats_by_type: dict[str, int] = {}
    errors: list[LayoutIssue] = []


@dataclass
class Loaded:
    path: Path
    layout: Layout | None = None
    issues: list[LayoutIssue] = field(default_factory=list)


def load(path: Path) -> Loaded:
    try:
        return Loaded(path, layout=load_layout(path))
    except LayoutError as exc:
        return Loaded(path, issues=exc.issues)
    except OSError as exc:
        # Reported like the parser's whole-file problems, at 1:1, so every line reads the same.
        problem = f"cannot read the file ({exc.strerror}); check the path"
        return Loaded(path, issues=[LayoutIssue(str(path), 1, 1, problem)])


def verdict(loaded: Loaded) -> Checked:
    layout = loaded.layout
    if layout is None:
        return Checked(file=str(loaded.path), valid=False, errors=loaded.issues)
    return Checked(
        file=str(loaded.path),
        valid=True,
        name=layout.name,
        sections=list(layout.sections),
        seats=len(layout.seats),
        seats_by_type={t.value: n for t, n in layout.counts_by_type().items()},
    )


def report_issues(loaded: Loaded) -> None:
    for issue in loaded.issues:
        fail(str(issue))


def seat_counts_table(valid: list[Checked]) -> None:
    """One row per valid layout, one column per seat type that any of them has."""
    if not valid:
        return
    types = [t.value for t in SeatType if any(t.value in c.seats_by_type for c in valid)]
    columns: list[Column[Checked]] = [
        ("File", lambda c: c.file),
        ("Layout", lambda c: c.name),
        ("Seats", lambda c: c.seats),
        *((kind, functools.partial(_count_of, kind)) for kind in types),
    ]
    listing(valid, columns, as_json=False, empty="")


def _count_of(seat_type: str, checked: Checked) -> int:
    return checked.seats_by_type.get(seat_type, 0)


@app.command(
    "validate",
    epilog=examples(
        "bms admin layout validate layouts/*.layout",
        "bms admin layout validate my-screen.layout --json",
    ),
)
def validate(
    files: Annotated[list[Path], typer.Argument(help="The .layout files to check.")],
    as_json: JsonFlag = False,
) -> None:
    """Check layout files: every problem as file:line:column: message, or seat counts by type.

    Exits 1 when any file has a problem.
    """
    loaded = [load(path) for path in files]
    checked = [verdict(one) for one in loaded]
    broken = [one for one in loaded if one.layout is None]
    if as_json:
        print_json(checked)
    else:
        for one in broken:
            report_issues(one)
        seat_counts_table([c for c in checked if c.valid])
    if broken:
        problems = sum(len(one.issues) for one in broken)
        verb = "has" if len(broken) == 1 else "have"
        info(f"{len(broken)} of {len(files)} layouts {verb} problems ({problems} in all)")
        raise typer.Exit(EXIT_ERROR)
    success(f"{len(files)} layout{'s' if len(files) > 1 else ''} valid")


def coloured(layout: Layout) -> Text:
    """render_text's drawing with each seat glyph in its type's colour."""
    lines = render_text(layout).splitlines()
    label_width = max((len(s.row) for s in layout.seats), default=1)
    seats_from = label_width + 1
    drawing = Text()
    for number, line in enumerate(lines):
        styled = Text(line)
        if number == len(lines) - 1:
            for match in LEGEND_GLYPH.finditer(line):
                styled.stylize(GLYPH_STYLES.get(match.group(1), ""), *match.span(1))
        elif number > 0 and line[:label_width].strip():
            # Seat rows start with the right-aligned row label; screen, section and aisle lines
            # start blank. The seat cells follow the label and one space.
            for x in range(seats_from, min(len(line), seats_from + layout.width)):
                styled.stylize(GLYPH_STYLES.get(line[x], ""), x, x + 1)
        drawing.append(styled)
        drawing.append("\n")
    return drawing


@app.command("show", epilog=examples("bms admin layout show layouts/imax-grand.layout"))
def show(file: Annotated[Path, typer.Argument(help="The .layout file to draw.")]) -> None:
    """Draw a layout as the box office sees it, seats coloured by type, with a legend.

    Colours are left out when the output is not a terminal or NO_COLOR is set.
    """
    loaded = load(file)
    if loaded.layout is None:
        report_issues(loaded)
        raise typer.Exit(EXIT_ERROR)
    stdout().print(coloured(loaded.layout), soft_wrap=True, end="")
