"""reconcile: match a payment gateway's settlement file against our payments and refunds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import (
    by_row,
    convert_rows,
    missing_columns,
    problem_table,
    read_records,
)
from admin.commands.schedule import local_date
from admin.output import (
    EXIT_ERROR,
    EXIT_USAGE,
    CliError,
    Column,
    JsonFlag,
    fail,
    info,
    listing,
    print_json,
    success,
)
from server.contracts.cancellation import (
    ReconcileItem,
    ReconcileOut,
    ReconcileRequest,
    SettlementLine,
)

RECONCILIATION = "/api/v1/admin/reconciliation"
COLUMNS_HELP = (
    "columns type (capture or refund), reference (the gateway's id of the line: the capture "
    "id, or for a refund the gateway's refund id), capture_reference (for a refund, the "
    "capture it refunds), amount_minor (integer minor units; a refund may be negative), "
    "currency, date (YYYY-MM-DD)"
)

Finding = tuple[str, ReconcileItem]
FINDING_COLUMNS: list[Column[Finding]] = [
    ("Result", lambda f: f[0]),
    ("Type", lambda f: f[1].type),
    ("Reference", lambda f: f[1].reference),
    ("Capture", lambda f: f[1].capture_reference if f[1].type == "refund" else None),
    ("Gateway (minor)", lambda f: f[1].gateway_amount_minor),
    ("Ours (minor)", lambda f: f[1].our_amount_minor),
    ("Currency", lambda f: f[1].currency),
    ("File row", lambda f: f[1].row),
    ("Booking", lambda f: f[1].booking_code),
    ("Note", lambda f: f[1].note),
]


def settlement_lines(settlement: Path) -> list[SettlementLine]:
    """The file's lines, or exit 2 naming every cell that cannot be read, by row."""
    try:
        records = read_records(settlement)
        missing = missing_columns(records, SettlementLine)
        if missing:
            raise CliError(
                f"{settlement}: line 1: no column(s) {', '.join(missing)}; a settlement file "
                f"has the {COLUMNS_HELP}"
            )
        if not records.rows and not records.problems and not records.columns:
            raise CliError(f"{settlement} is empty; a settlement file starts with a header line")
        lines, problems = convert_rows(records, SettlementLine)
    except CliError as exc:
        raise CliError(exc.message, EXIT_USAGE) from None
    if problems:
        problem_table(by_row(problems))
        raise CliError(f"{settlement} has rows that cannot be read; fix them", EXIT_USAGE)
    return lines


def reconcile(
    settlement: Annotated[
        Path,
        typer.Argument(help=f"The gateway's settlement file (.csv or .json): {COLUMNS_HELP}."),
    ],
    date_from: Annotated[
        str | None,
        typer.Option("--from", help="First UTC date of our records (default: the file's)."),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", help="Last UTC date of our records (default: the file's)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Match a gateway settlement file against our payments and refunds (platform admins).

    Captures pair by capture id, refunds by the gateway's refund id (or, for refunds we know
    no refund id for, by the capture they refund). Reports the lines matched, missing on our
    side, missing on the gateway's side and with different amounts, with a note where we know
    more; refunds settled manually (cash, bank transfer) are listed apart, not expected at the
    gateway. Exit code 0 when everything matches, 1 when there are differences, 2 when the
    file cannot be read (every bad cell is listed by row, as a spreadsheet numbers them).
    """
    body = ReconcileRequest(
        lines=settlement_lines(settlement),
        date_from=local_date(date_from, "--from"),
        date_to=local_date(date_to, "--to"),
    )
    with connect() as client:
        report = client.post(RECONCILIATION, ReconcileOut, body)
    if as_json:
        print_json(report)
    else:
        findings: list[Finding] = [
            *(("mismatched", item) for item in report.mismatched),
            *(("missing here", item) for item in report.missing_here),
            *(("missing at gateway", item) for item in report.missing_at_gateway),
            *(("settled manually", item) for item in report.settled_manually),
            *(("matched", item) for item in report.matched),
        ]
        listing(findings, FINDING_COLUMNS, as_json=False, empty="nothing to reconcile")
    period = f"{report.date_from} to {report.date_to}"
    if report.settled_manually:
        count = len(report.settled_manually)
        info(
            f"{count} refund{'' if count == 1 else 's'} settled manually: paid by other means, "
            "not expected at the gateway"
        )
    if report.clean:
        success(f"{len(report.matched)} lines matched, no differences ({period})")
        return
    fail(
        f"{len(report.mismatched)} mismatched, {len(report.missing_here)} missing here, "
        f"{len(report.missing_at_gateway)} missing at the gateway; "
        f"{len(report.matched)} matched ({period})"
    )
    raise typer.Exit(EXIT_ERROR)
