"""reconcile: match a payment gateway's settlement file against our payments and refunds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import by_row, convert_rows, problem_table, read_records
from admin.commands.schedule import local_date
from admin.output import (
    EXIT_ERROR,
    EXIT_USAGE,
    CliError,
    Column,
    JsonFlag,
    fail,
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

Finding = tuple[str, ReconcileItem]
FINDING_COLUMNS: list[Column[Finding]] = [
    ("Result", lambda f: f[0]),
    ("Type", lambda f: f[1].type),
    ("Reference", lambda f: f[1].reference),
    ("Gateway (minor)", lambda f: f[1].gateway_amount_minor),
    ("Ours (minor)", lambda f: f[1].our_amount_minor),
    ("Currency", lambda f: f[1].currency),
    ("File row", lambda f: f[1].row),
    ("Booking", lambda f: f[1].booking_code),
]


def reconcile(
    settlement: Annotated[
        Path,
        typer.Argument(
            help="The gateway's settlement file (.csv or .json): columns reference, "
            "amount_minor, currency, date (YYYY-MM-DD), type (capture or refund)."
        ),
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

    Reports the lines matched, missing on our side, missing on the gateway's side and with
    different amounts. A refund line names the capture it refunds. Exit code 0 when
    everything matches, 1 when there are differences, 2 when the file cannot be read.
    """
    lines, problems = convert_rows(read_records(settlement), SettlementLine)
    if problems:
        problem_table(by_row(problems))
        raise CliError(f"{settlement} has rows that cannot be read; fix them", EXIT_USAGE)
    body = ReconcileRequest(
        lines=lines,
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
            *(("matched", item) for item in report.matched),
        ]
        listing(findings, FINDING_COLUMNS, as_json=False, empty="nothing to reconcile")
    period = f"{report.date_from} to {report.date_to}"
    if report.clean:
        success(f"{len(report.matched)} lines matched, no differences ({period})")
        return
    fail(
        f"{len(report.mismatched)} mismatched, {len(report.missing_here)} missing here, "
        f"{len(report.missing_at_gateway)} missing at the gateway; "
        f"{len(report.matched)} matched ({period})"
    )
    raise typer.Exit(EXIT_ERROR)
