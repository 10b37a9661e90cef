"""layout validate | show | import: check and draw `.layout` files (docs/layouts.md), draw a
screen's current layout, and import a new one onto a screen."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.text import Text

from admin.api import connect
from admin.commands.bulk import DryRun, pairs
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
    record,
    stdout,
    success,
)
from server.contracts.admin import LayoutConflict, LayoutImport, LayoutImportOut, ScreenLayoutOut
from server.layouts.model import Layout, SeatType
from server.layouts.parser import LayoutError, LayoutIssue, load_layout, parse_layout
from server.layouts.render import TYPE_GLYPHS, render_text

app = AdminTyper(
    help="Seat-map layouts: validate and draw files, draw a screen's, import onto a screen.",
    no_args_is_help=True,
)

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


def _from_server(screen_id: uuid.UUID) -> Loaded:
    with connect() as client:
        stored = client.get(f"/api/v1/admin/screens/{screen_id}/layout", ScreenLayoutOut)
    source = f"screen {stored.name} ({screen_id})"
    try:
        return Loaded(Path(source), layout=parse_layout(stored.source, source=source))
    except LayoutError as exc:
        return Loaded(Path(source), issues=exc.issues)


@app.command(
    "show",
    epilog=examples(
        "bms admin layout show layouts/imax-grand.layout", "bms admin layout show SCREEN_ID"
    ),
)
def show(
    source: Annotated[
        str, typer.Argument(help="A .layout file, or a screen id to draw that screen's layout.")
    ],
) -> None:
    """Draw a layout as the box office sees it, seats coloured by type, with a legend.

    A file is drawn locally; a screen id fetches the screen's current layout from the server.
    Colours are left out when the output is not a terminal or NO_COLOR is set.
    """
    path = Path(source)
    screen_id = _screen_id(source) if not path.exists() else None
    loaded = _from_server(screen_id) if screen_id else load(path)
    if loaded.layout is None:
        report_issues(loaded)
        raise typer.Exit(EXIT_ERROR)
    stdout().print(coloured(loaded.layout), soft_wrap=True, end="")


def _screen_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


IMPORT_FIELDS = (
    ("Seats", lambda r: r.seats_total),
    ("Added", lambda r: r.added),
    ("Restored", lambda r: r.restored),
    ("Retired", lambda r: r.retired),
    ("Changed", lambda r: r.changed),
    ("Future shows", lambda r: r.future_shows),
    ("Prices added", lambda r: [f"{k} {v}" for k, v in r.prices_added.items()]),
)
CONFLICT_COLUMNS: list[Column[LayoutConflict]] = [
    ("Show", lambda c: c.show_id),
    ("Movie", lambda c: c.title),
    ("Starts (local)", lambda c: c.starts_local),
    ("Seats in the way", lambda c: c.seats),
]


@app.command(
    "import",
    epilog=examples(
        "bms admin layout import screen-3.layout --screen SCREEN_ID --dry-run",
        "bms admin layout import screen-3.layout --screen SCREEN_ID --price couple=550.00",
    ),
)
def import_layout(
    file: Annotated[Path, typer.Argument(help="The new .layout file.")],
    screen: Annotated[uuid.UUID, typer.Option(help="The id of the screen to change.")],
    dry_run: DryRun = False,
    price: Annotated[
        list[str] | None,
        typer.Option(
            help="TYPE=AMOUNT (major units, e.g. couple=550.00) for a seat type the layout "
            "brings to future shows that have no price for it. Repeatable."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace a screen's layout. Seats are matched by label: new ones are added (and put on
    sale in future shows), missing ones are retired. Refused, with the shows and seats in the
    way, when a future show has a retiring seat sold or held.
    """
    loaded = load(file)
    if loaded.layout is None:
        report_issues(loaded)
        raise typer.Exit(EXIT_ERROR)
    body = LayoutImport(
        layout=file.read_text(encoding="utf-8-sig"),
        source=str(file),
        dry_run=dry_run,
        prices=pairs(price, "--price", "couple=550.00"),
    )
    with connect() as client:
        report = client.post(f"/api/v1/admin/screens/{screen}/layout", LayoutImportOut, body)
    record([(name, get(report)) for name, get in IMPORT_FIELDS], as_json=as_json, data=report)
    if report.conflicts:
        if not as_json:
            listing(report.conflicts, CONFLICT_COLUMNS, as_json=False, empty="")
        fail(
            f"{len(report.conflicts)} future show(s) have sold or held seats that this layout "
            "removes; the import would be refused"
        )
        raise typer.Exit(EXIT_ERROR)
    if report.applied:
        success(f"screen {screen} now has layout {report.layout_name!r}")
    else:
        info("dry run: nothing was changed")
