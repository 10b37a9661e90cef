"""analytics: a theater's occupancy by show, screen, day or time slot, its revenue, top movies
and start times, and a weekday × hour demand heat map. Also the pieces the other report
commands share: money in major units, CSV exports and report tables."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from admin.api import connect
from admin.commands.schedule import local_date
from admin.commands.theaters import theater_id_for
from admin.output import (
    EXIT_USAGE,
    CliError,
    JsonFlag,
    examples,
    info,
    print_json,
    stdout,
    success,
)
from server.contracts.reports import AnalyticsOut, GroupBy, HeatCell

EXAMPLES = examples(
    "bms admin analytics --theater 'Harbour Screens'",
    "bms admin analytics --theater 'Harbour Screens' --from 2026-11-01 --to 2026-11-30 --by slot",
    "bms admin analytics --theater T --by show --csv shows.csv --no-chart",
    "bms admin analytics --theater T --json | jq '.top_movies[0].label'",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Heat-map shading from quiet to full, by occupancy percent.
HEAT_STYLES = ((75, "bold white on red"), (50, "black on dark_orange"), (25, "black on yellow"))
QUIET_STYLE = "white on blue"
MAX_CHART_BARS = 31
MAX_CHART_WIDTH = 100
MAX_BAR_LABEL = 32

TheaterOption = Annotated[str, typer.Option(help="The theater (id or name).")]
CsvOption = Annotated[
    str | None,
    typer.Option("--csv", metavar="FILE", help="Also write the rows as CSV to FILE ('-': stdout)."),
]

Cell = Callable[[Any], object]
T = TypeVar("T")


# -- shared by the report commands -----------------------------------------------------------


def major(amount_minor: int, decimals: int) -> str:
    """``major(-125050, 2) == "-1,250.50"``: exact, from the integer, never through a float."""
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**decimals)
    return f"{sign}{whole:,}" + (f".{fraction:0{decimals}d}" if decimals else "")


def titled_table(title: str | None = None) -> Table:
    """A table in the style of every admin listing, with a title above it when given."""
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        show_edge=False,
        pad_edge=False,
        header_style="bold",
    )


def report_table(
    title: str,
    rows: Sequence[Any],
    columns: Sequence[tuple[str, Cell]],
    *,
    total: Any = None,
    dim: Callable[[Any], bool] = lambda row: False,
    show_header: bool = True,
) -> Table:
    """Rows under a title; every column but the first is a number, right-aligned; rows
    ``dim`` says are uneventful are dimmed; ``total`` is a last row in bold."""
    table = titled_table(title)
    table.show_header = show_header
    for index, (header, _) in enumerate(columns):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(Text(str(get(row))) for _, get in columns), style="dim" if dim(row) else "")
    if total is not None:
        table.add_section()
        table.add_row(*(Text(str(get(total)), style="bold") for _, get in columns))
    return table


def theater_report(path: str, kind: type[T], theater: str, **params: object) -> T:
    """GET a report about one theater, named by id or name."""
    with connect() as client:
        return client.get(path, kind, theater_id=theater_id_for(client, theater), **params)


def exports_to_stdout(as_json: bool, *targets: str | None) -> bool:
    """Whether an export takes stdout (``--json`` or a FILE of '-'); two of them clash."""
    takers = int(as_json) + sum(1 for target in targets if target == "-")
    if takers > 1:
        raise CliError("only one of --json and --csv - can write to stdout", EXIT_USAGE)
    return takers == 1


@contextmanager
def _opened(target: str) -> Iterator[TextIO]:
    if target == "-":
        yield sys.stdout
        return
    try:
        with Path(target).open("w", newline="", encoding="utf-8") as file:
            yield file
    except OSError as exc:
        raise CliError(f"cannot write {target} ({exc.strerror}); check the path") from None
    success(f"wrote {target}")


def write_csv(target: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A CSV file (or stdout for '-') with a header row."""
    with _opened(target) as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


# -- analytics ------------------------------------------------------------------------------

CSV_FIELDS = (
    "key",
    "label",
    "shows",
    "sellable_seats",
    "booked_seats",
    "occupancy_percent",
    "tickets_minor",
    "revenue_minor",
)


def analytics(
    theater: TheaterOption,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First local date (default: 29 days before --to).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last local date (default: today, or --from + 29).")
    ] = None,
    by: Annotated[GroupBy, typer.Option(help="Group occupancy by show, screen, day or slot.")] = (
        GroupBy.DAY
    ),
    csv_file: CsvOption = None,
    chart: Annotated[
        bool, typer.Option("--chart/--no-chart", help="Draw occupancy as a bar chart.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """Occupancy, revenue, top movies and start times, and a demand heat map of a theater.

    Occupancy is seats sold ÷ seats on sale, of the shows starting on local dates --from to
    --to (cancelled shows left out), grouped --by show, screen, day or time slot (local
    morning 06–12, afternoon 12–17, evening 17–21, night 21–06). Tables show money in major
    units of the theater's currency; --json and --csv carry integer minor units.
    """
    quiet = exports_to_stdout(as_json, csv_file)
    report = theater_report(
        "/api/v1/admin/analytics",
        AnalyticsOut,
        theater,
        by=by.value,
        **{"from": local_date(date_from, "--from"), "to": local_date(date_to, "--to")},
    )
    if as_json:
        print_json(report)
    if csv_file is not None:
        rows = [[getattr(group, name) for name in CSV_FIELDS] for group in report.groups]
        write_csv(csv_file, CSV_FIELDS, rows)
    if not quiet:
        _show(report, chart)


def _show(report: AnalyticsOut, chart: bool) -> None:
    console = stdout()
    theater, totals = report.theater, report.totals
    console.print(
        Text(f"{theater.name} ({theater.city})", style="bold")
        + Text(
            f"  {report.date_from} to {report.date_to}, {theater.timezone}: {totals.shows} "
            f"shows, {totals.booked_seats} of {totals.sellable_seats} seats sold "
            f"({totals.occupancy_percent} %), revenue "
            f"{major(totals.revenue_minor, theater.currency_decimals)} {theater.currency}"
        ),
        soft_wrap=True,
    )
    if not report.groups:
        info("no shows on those dates")
        return
    money = theater.currency_decimals
    columns: list[tuple[str, Cell]] = [
        (report.by.value.capitalize(), lambda g: g.label),
        ("Shows", lambda g: g.shows),
        ("Sellable", lambda g: g.sellable_seats),
        ("Sold", lambda g: g.booked_seats),
        ("Occupancy %", lambda g: f"{g.occupancy_percent:.1f}"),
        (f"Tickets ({theater.currency})", lambda g: major(g.tickets_minor, money)),
        (f"Revenue ({theater.currency})", lambda g: major(g.revenue_minor, money)),
    ]
    console.print(report_table(f"Occupancy by {report.by.value}", report.groups, columns))
    if chart:
        _chart(report)
    console.print()
    label = columns[0][1]
    console.print(report_table("Top movies", report.top_movies, [("Movie", label), *columns[1:]]))
    console.print()
    console.print(
        report_table("Top start times", report.top_times, [("Starts", label), *columns[1:5]])
    )
    console.print()
    # A heading of its own: the map is narrower than its title would be.
    console.print(Text("Demand by weekday and local start hour (occupancy %)", style="bold"))
    console.print(_heat_map(report.heatmap))


def _chart(report: AnalyticsOut) -> None:
    """Occupancy per group as horizontal bars (plotext), first group on top."""
    groups = report.groups
    if len(groups) > MAX_CHART_BARS:
        info(f"chart left out: {len(groups)} bars are too many; narrow the dates or use --by")
        return
    import plotext  # only here: importing it costs every `bms` command half a second

    figure = plotext.figure
    figure.clear()
    labels = [g.label[:MAX_BAR_LABEL] for g in reversed(groups)]
    figure.draw(
        figure.bar(
            labels,
            [g.occupancy_percent for g in reversed(groups)],
            orientation="horizontal",
            labeled=True,
        )
    )
    figure.ruler("x").lim(0, 100)
    figure.ruler("x").ticks([0, 25, 50, 75, 100])
    figure.theme("simple")
    figure.title(f"Occupancy % by {report.by.value}")
    figure.plot_size(min(stdout().width, MAX_CHART_WIDTH), 2 * len(groups) + 5)
    stdout().print(Text.from_ansi(figure.build().string()))


def _heat_map(cells: list[HeatCell]) -> Table:
    """Weekdays down, local start hours across, each cell the occupancy of the shows that
    started then; blank where there were none."""
    hours = sorted({cell.hour for cell in cells})
    found = {(cell.weekday, cell.hour): cell for cell in cells}
    table = titled_table()
    table.add_column("")
    for hour in hours:
        table.add_column(f"{hour:02d}", justify="right")
    for weekday, name in enumerate(WEEKDAYS, start=1):
        row = [Text(name, style="bold")]
        for hour in hours:
            cell = found.get((weekday, hour))
            row.append(_heat(cell) if cell else Text("·", style="dim"))
        table.add_row(*row)
    return table


def _heat(cell: HeatCell) -> Text:
    percent = cell.occupancy_percent
    style = next((s for floor, s in HEAT_STYLES if percent >= floor), QUIET_STYLE)
    return Text(f"{percent:.0f}", style=style)
