"""settlement: a theater's month, per local day and in total: sales, refunds, fees, taxes, the
platform's commission and what is payable to the theater; as a table, JSON, CSV or a PDF
statement to file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import msgspec
import typer
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
from admin.output import JsonFlag, examples, print_json, stdout, warn
from server.contracts.reports import SettlementLine, SettlementOut, period_days

EXAMPLES = examples(
    "bms admin settlement --theater 'Harbour Screens' --period 2026-11",
    "bms admin settlement --theater T --period 2026-11 --pdf harbour-2026-11.pdf --csv days.csv",
    "bms admin settlement --theater T --period 2026-11 --json | jq .total.net_payable_minor",
)
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
    try:
        period_days(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    quiet = exports_to_stdout(as_json, csv_file)
    statement = theater_report(
        "/api/v1/admin/settlement", SettlementOut, theater, period=period.strip()
    )
    if as_json:
        print_json(statement)
    if csv_file is not None:
        write_csv(csv_file, ["date", *LINE_FIELDS], csv_rows(statement))
    if pdf_file is not None:
        # Imported only when asked for: reportlab costs every `bms` command a third of a second.
        from admin.commands.settlement_pdf import write_pdf

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


def labelled_days(statement: SettlementOut) -> list[Labelled]:
    return [(f"{day.date:%a %d}", day) for day in statement.days]


def amount_columns(
    decimals: int, *, terminal: bool
) -> list[tuple[str, Callable[[Labelled], object]]]:
    """The per-day columns as (heading, cell of a labelled line)."""

    def cell(name: str) -> Callable[[Labelled], object]:
        if name == "bookings":
            return lambda labelled: getattr(labelled[1], name)
        return lambda labelled: major(getattr(labelled[1], name), decimals)

    return [
        ("Day", lambda labelled: labelled[0]),
        *((heading, cell(name)) for heading, name, shown in DAY_COLUMNS if shown or not terminal),
    ]


def statement_lines(statement: SettlementOut) -> list[tuple[str, str, str]]:
    """(label, field, signed amount) of the total, top to bottom."""
    decimals = statement.theater.currency_decimals
    return [
        (label, name, major(sign * getattr(statement.total, name), decimals))
        for label, name, sign in STATEMENT
    ]


def footnote(statement: SettlementOut) -> str:
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
    columns = amount_columns(theater.currency_decimals, terminal=True)
    days = labelled_days(statement)
    console.print(
        report_table("Per day", days, columns, total=("Total", statement.total), dim=_uneventful)
    )
    console.print()
    lines = statement_lines(statement)
    amounts: list[tuple[str, Cell]] = [("", lambda line: line[0]), ("", lambda line: line[2])]
    console.print(report_table(f"Total ({theater.currency})", lines, amounts, show_header=False))
    console.print(footnote(statement), soft_wrap=True)
