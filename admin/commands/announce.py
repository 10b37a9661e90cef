"""announce: a message to everyone holding seats for some shows, through the notifications
outbox (e-mail, and SMS where a phone number is known)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import DryRun
from admin.commands.schedule import local_date
from admin.commands.theaters import theater_id_for
from admin.output import (
    EXIT_USAGE,
    CliError,
    Column,
    JsonFlag,
    examples,
    info,
    listing,
    print_json,
    success,
    warn,
)
from server.contracts.reports import AnnouncedShow, AnnouncementIn, AnnouncementOut

EXAMPLES = examples(
    "bms admin announce --show SHOW_ID --message 'Screen 2 is on the first floor tonight.'",
    "bms admin announce --theater 'Harbour Screens' --from 2026-11-21 --to 2026-11-22 "
    "--subject 'Parking closed' --message 'The car park is closed; use the mall garage.' "
    "--dry-run",
)

SHOW_COLUMNS: list[Column[AnnouncedShow]] = [
    ("Show", lambda s: s.show_id),
    ("Starts (local)", lambda s: s.starts_local),
    ("Theater", lambda s: s.theater_name),
    ("Screen", lambda s: s.screen_name),
    ("Movie", lambda s: s.title),
    ("Bookings", lambda s: s.bookings),
    ("Customers", lambda s: s.customers),
    ("No contact", lambda s: s.unreachable),
]


def announce(
    message: Annotated[str, typer.Option(help="What customers should know (plain text).")],
    show: Annotated[
        list[uuid.UUID] | None, typer.Option(help="A show id (see schedule list); repeatable.")
    ] = None,
    theater: Annotated[
        str | None, typer.Option(help="Every show of this theater (id or name) on --from..--to.")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First local date.")] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last local date (default: --from).")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="The e-mail subject (default: A message about your show).")
    ] = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Send a message to everyone holding seats for some shows.

    The shows are the --show ids, or those of a --theater starting on local dates
    --from..--to (cancelled shows left out). Each customer gets an e-mail (and an SMS when a
    phone number is known) naming their booking. Prints each show with the bookings and
    customers it reaches; --dry-run counts them and sends nothing."""
    if bool(show) == (theater is not None):
        raise CliError("give --show (repeatable) or --theater with --from, not both", EXIT_USAGE)
    if theater is not None and date_from is None:
        raise typer.BadParameter("--theater needs --from (and --to)", param_hint="--from")
    with connect() as client:
        body = AnnouncementIn(
            message=message,
            subject=subject,
            show_ids=show or [],
            theater_id=theater_id_for(client, theater) if theater else None,
            date_from=local_date(date_from, "--from"),
            date_to=local_date(date_to, "--to"),
            dry_run=dry_run,
        )
        report = client.post("/api/v1/admin/announcements", AnnouncementOut, body)
    if as_json:
        print_json(report)
    else:
        listing(report.shows, SHOW_COLUMNS, as_json=False, empty="no shows match")
    _summary(report)


def _summary(report: AnnouncementOut) -> None:
    reach = f"{report.customers} customers ({report.bookings} bookings)"
    if report.dry_run:
        info(f"would tell {reach} of {len(report.shows)} shows (dry run: nothing sent)")
    elif report.applied:
        success(f"queued {report.events} announcements for {reach} of {len(report.shows)} shows")
    else:
        warn("nobody to tell: no booking of these shows holds seats with a way to reach its buyer")
    if report.unreachable:
        warn(f"{report.unreachable} bookings were sold at a till or kiosk with no contact given")
