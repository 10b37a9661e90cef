"""settlement: a theater's month, per local day and in total: sales, refunds, fees, taxes, the
platform's commission and what is payable to the theater; as a table, JSON, CSV or a PDF
statement to file."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from rich.text import Text

from admin.commands.analytics import (
    Cell,
    CsvOption,
    TheaterOption,
    exports_to_stdout,
    major,
    report_table,
    theater_report,
    write_csv,
)
from admin.output import CliError, JsonFlag, examples, print_json, stdout, success, warn
from server.contracts.reports import SettlementLine, SettlementOut

EXAMPLES = examples(
    "bms admin settlement --theater 'Harbour Screens' --period 2026-11",
    "bms admin settlement --theater T --period 2026-11 --pdf harbour-2026-11.pdf --csv days.csv",
    "bms admin settlement --theater T --period 2026-11 --json | jq .total.net_payable_minor",
)
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
LINE_FIELDS = [field.name for field in msgspec.structs.fields(SettlementLine)]

# (heading, field) of the per-day table; the terminal leaves out the ones marked False.
DAY_COLUMNS = [
    ("Bookings", "bookings", True),
    ("Tickets", "tickets_minor", False),
    ("Snacks", "snacks_minor", False),
    ("Gross sales", "gross_sales_minor", True),
    ("Conv. fees", "convenience_fees_minor", True),
    ("Taxes", "taxes_minor", True),
    ("Discounts", "discounts_minor", True),
    ("Points", "loyalty_minor", True),
    ("Collected", "collected_minor", True),
    ("Refunds", "refunds_minor", True),
    ("Fees kept", "cancellation_fees_kept_minor", False),
    ("Commission", "commission_minor", True),
    ("Cash at till", "cash_at_box_office_minor", True),
    ("Net payable", "net_payable_minor", True),
]
# The statement read top to bottom: (label, field, sign shown); deductions show a minus.
STATEMENT = [
    ("Tickets", "tickets_minor", 1),
    ("Snacks", "snacks_minor", 1),
    ("Gross sales", "gross_sales_minor", 1),
    ("Convenience fees", "convenience_fees_minor", 1),
    ("Taxes", "taxes_minor", 1),
    ("Discounts (coupons)", "discounts_minor", -1),
    ("Loyalty points redeemed", "loyalty_minor", -1),
    ("Collected from buyers", "collected_minor", 1),
    ("Refunds", "refunds_minor", -1),
    ("Platform commission", "commission_minor", -1),
    ("Cash already at the box office", "cash_at_box_office_minor", -1),
    ("Net payable to the theater", "net_payable_minor", 1),
]
SUBTOTALS = frozenset({"gross_sales_minor", "collected_minor", "net_payable_minor"})

Labelled = tuple[str, SettlementLine]  # a day's (or the total's) label and its figures


def settlement(
    theater: TheaterOption,
    period: Annotated[str, typer.Option(help="The month, YYYY-MM (local to the theater).")],
    csv_file: CsvOption = None,
    pdf_file: Annotated[
        Path | None, typer.Option("--pdf", metavar="FILE", help="Also write a PDF statement.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A theater's settlement statement for one month, per local day and in total.

    Gross sales (tickets and snacks), convenience fees, taxes, discounts, refunds,
    cancellation fees kept, the platform's commission and the net payable to the theater,
    exact to the minor unit. Sales count on the local day they were confirmed, refunds on
    the day they were made. The table shows major units of the theater's currency; --json
    and --csv carry integer minor units; --pdf writes a statement to file.
    """
    if PERIOD.fullmatch(period.strip()) is None:
        raise typer.BadParameter(f"{period!r} is not a month; write YYYY-MM", param_hint="--period")
    quiet = exports_to_stdout(as_json, csv_file)
    statement = theater_report(
        "/api/v1/admin/settlement", SettlementOut, theater, period=period.strip()
    )
    if as_json:
        print_json(statement)
    if csv_file is not None:
        write_csv(csv_file, ["date", *LINE_FIELDS], csv_rows(statement))
    if pdf_file is not None:
        write_pdf(pdf_file, statement)
    if not quiet:
        _show(statement)
    if statement.provisional:
        warn(f"{statement.period} has not ended yet: its figures may still change")


def csv_rows(statement: SettlementOut) -> list[list[object]]:
    """One row per day, then the total (its date column says "total")."""
    lines: list[tuple[str, SettlementLine]] = [(d.date.isoformat(), d) for d in statement.days]
    return [
        [label, *(getattr(line, name) for name in LINE_FIELDS)]
        for label, line in [*lines, ("total", statement.total)]
    ]


def _labelled_days(statement: SettlementOut) -> list[Labelled]:
    return [(f"{day.date:%a %d}", day) for day in statement.days]


def _amounts(decimals: int, *, terminal: bool) -> list[tuple[str, Callable[[Labelled], object]]]:
    """The per-day columns as (heading, cell of a labelled line)."""

    def cell(name: str) -> Callable[[Labelled], object]:
        if name == "bookings":
            return lambda labelled: getattr(labelled[1], name)
        return lambda labelled: major(getattr(labelled[1], name), decimals)

    return [
        ("Day", lambda labelled: labelled[0]),
        *((heading, cell(name)) for heading, name, shown in DAY_COLUMNS if shown or not terminal),
    ]


def _statement_lines(statement: SettlementOut) -> list[tuple[str, str, str]]:
    """(label, field, signed amount) of the total, top to bottom."""
    decimals = statement.theater.currency_decimals
    return [
        (label, name, major(sign * getattr(statement.total, name), decimals))
        for label, name, sign in STATEMENT
    ]


def _footnote(statement: SettlementOut) -> str:
    decimals = statement.theater.currency_decimals
    kept = major(statement.total.cancellation_fees_kept_minor, decimals)
    base = major(statement.total.net_ticket_revenue_minor, decimals)
    note = (
        f"Cancellation fees kept: {kept} (inside Collected). Net ticket revenue (tickets - "
        f"discounts - points - refunds), the commission's base: {base}."
    )
    if statement.refunds_failed:
        owed = major(statement.refunds_failed_minor, decimals)
        note += (
            f" {statement.refunds_failed} refund(s) of this period failed and are still owed "
            f"to customers: {owed}, inside Net payable (see bms admin refunds list)."
        )
    return note


# -- on a terminal ---------------------------------------------------------------------------


def _uneventful(labelled: Labelled) -> bool:
    return labelled[1].bookings == labelled[1].refund_count == 0


def _show(statement: SettlementOut) -> None:
    console = stdout()
    theater = statement.theater
    console.print(
        Text(f"{theater.name} ({theater.city})", style="bold")
        + Text(
            f"  settlement {statement.period} in {theater.currency}, local days in "
            f"{theater.timezone}; commission {statement.commission_rate_bp / 100:.2f} % of net "
            "ticket revenue"
        ),
        soft_wrap=True,
    )
    columns = _amounts(theater.currency_decimals, terminal=True)
    days = _labelled_days(statement)
    console.print(
        report_table("Per day", days, columns, total=("Total", statement.total), dim=_uneventful)
    )
    console.print()
    lines = _statement_lines(statement)
    amounts: list[tuple[str, Cell]] = [("", lambda line: line[0]), ("", lambda line: line[2])]
    console.print(report_table(f"Total ({theater.currency})", lines, amounts, show_header=False))
    console.print(_footnote(statement), soft_wrap=True)


# -- the PDF statement -----------------------------------------------------------------------

MARGIN = 14 * mm
GRID = colors.HexColor("#B0B7C3")
SHADE = colors.HexColor("#EEF1F5")
HEADER = colors.HexColor("#1F3A5F")


def write_pdf(path: Path, statement: SettlementOut) -> None:
    """A landscape A4 statement a theater can file: who, which month, the figures per day
    and in total, how they were worked out, and when."""
    theater = statement.theater
    title = f"Settlement {statement.period} - {theater.name}"
    document = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="bms box office",
        subject=f"Settlement statement of {theater.name} for {statement.period}",
    )

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, MARGIN / 2, title)
        canvas.drawRightString(landscape(A4)[0] - MARGIN, MARGIN / 2, f"page {doc.page}")
        canvas.restoreState()

    try:
        document.build(_story(statement), onFirstPage=footer, onLaterPages=footer)
    except OSError as exc:
        raise CliError(f"cannot write {path} ({exc.strerror}); check the path") from None
    success(f"wrote {path}")


def _story(statement: SettlementOut) -> list[Any]:
    """The totals first, beside who and when, then every day, then how it was worked out."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10)
    warning = ParagraphStyle("warning", parent=styles["Heading3"], textColor=colors.firebrick)
    theater = statement.theater
    facts = [
        ("Theater", f"{theater.name}, {theater.city}"),
        ("Period", f"{statement.period}: {statement.days[0].date} to {statement.days[-1].date}"),
        ("Local days", theater.timezone),
        ("Currency", f"{theater.currency}; a minus marks a deduction"),
        ("Commission", f"{statement.commission_rate_bp / 100:.2f} % of net ticket revenue"),
        ("Generated", f"{statement.generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"),
    ]
    totals = _grid(
        [[label, amount] for label, _, amount in _statement_lines(statement)],
        header=False,
        widths=[62 * mm, 38 * mm],
        bold_rows=[i for i, (_, name, _) in enumerate(STATEMENT) if name in SUBTOTALS],
    )
    overview = Table(
        [[_grid(facts, header=False, widths=[26 * mm, 100 * mm], align="LEFT"), totals]],
        hAlign="LEFT",
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (1, 0), (1, 0), 10 * mm)],
    )
    story = [
        Paragraph("Settlement statement", styles["Title"]),
        Paragraph(f"{theater.name}, {statement.period}", styles["Heading2"]),
    ]
    if statement.provisional:
        story.append(Paragraph("Provisional: the period has not ended yet.", warning))
    return [
        *story,
        overview,
        Spacer(0, 4 * mm),
        Paragraph("Per day", styles["Heading3"]),
        _day_table(statement),
        Spacer(0, 4 * mm),
        Paragraph(_footnote(statement), small),
        Paragraph(_method(), small),
    ]


def _method() -> str:
    return (
        "Sales count on the local day their booking was confirmed, refunds on the local day "
        "they were made. Collected = gross sales + convenience fees + taxes - discounts - "
        "points. Commission is worked out per day on that day's net ticket revenue and "
        "rounded half away from zero to the minor unit; the total is the sum of the days. "
        "Net payable = collected - refunds - commission - cash already taken at the "
        "theater's box office. All other figures are exact sums of the bookings, payments "
        "and refunds records."
    )


def _day_table(statement: SettlementOut) -> Table:
    columns = _amounts(statement.theater.currency_decimals, terminal=False)
    lines = [*_labelled_days(statement), ("Total", statement.total)]
    rows = [[heading for heading, _ in columns]]
    rows += [[str(get(line)) for _, get in columns] for line in lines]
    return _grid(rows, header=True, bold_rows=[len(rows) - 1], font_size=6.5)


def _grid(
    rows: Sequence[Sequence[str]],
    *,
    header: bool,
    widths: Sequence[float | None] | None = None,
    bold_rows: Sequence[int] = (),
    font_size: float = 8,
    align: str = "RIGHT",
) -> Table:
    """A ruled table: first column left, the rest ``align``ed; a dark header row when
    ``header``; ``bold_rows`` in bold; every other row shaded."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("ALIGN", (1, 0), (-1, -1), align),
        ("GRID", (0, 0), (-1, -1), 0.25, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), SHADE) for r in range(int(header), len(rows), 2)]
    style += [("FONT", (0, r), (-1, r), "Helvetica-Bold", font_size) for r in bold_rows]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), HEADER),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size),
        ]
    else:
        style.append(("FONT", (0, 0), (0, -1), "Helvetica-Bold", font_size))
    table.setStyle(TableStyle(style))
    return table
