"""schedule upload | list: create many shows from a CSV or JSON file, and list shows."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import (
    DryRun,
    Steps,
    by_row,
    convert_rows,
    failed_rows,
    problem_table,
    read_records,
)
from admin.commands.theaters import theater_id_for
from admin.output import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    AdminTyper,
    CliError,
    Column,
    JsonFlag,
    examples,
    fail,
    info,
    listing,
    print_json,
    success,
    warn,
)
from server.contracts import admin as contracts
from server.contracts.cancellation import (
    BulkCancelOut,
    BulkCancelRequest,
    ShowCancellationOut,
    ShowCancelRequest,
)

app = AdminTyper(
    help="Shows: upload a schedule file, list shows, cancel shows.", no_args_is_help=True
)

UPLOADS = "/api/v1/admin/schedule/uploads"

SHOW_COLUMNS: list[Column[contracts.AdminShowOut]] = [
    ("ID", lambda s: s.show_id),
    ("Starts (local)", lambda s: s.starts_local),
    ("Theater", lambda s: s.theater_name),
    ("Screen", lambda s: s.screen_name),
    ("Movie", lambda s: s.title),
    ("Lang", lambda s: s.language),
    ("Fmt", lambda s: s.format),
    ("Status", lambda s: s.status),
    ("Free", lambda s: s.seats_available),
    ("Held", lambda s: s.seats_held),
    ("Sold", lambda s: s.seats_booked),
    ("Out", lambda s: s.seats_unavailable),
    ("Prices (minor)", lambda s: ", ".join(f"{k} {v}" for k, v in sorted(s.prices.items()))),
]

DateOption = Annotated[str | None, typer.Option(help="A local date, YYYY-MM-DD.")]


def local_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date; write YYYY-MM-DD", param_hint=option
        ) from None


def _summary(report: contracts.ScheduleUploadOut, continue_on_error: bool) -> None:
    """The last word on stderr, and the exit code: 1 when nothing was written because of
    problems, 3 when some rows were written and some failed."""
    failed = failed_rows(report.problems)
    if report.dry_run:
        if failed:
            fail(f"{failed} of {report.rows} rows have problems (dry run: nothing written)")
            raise typer.Exit(EXIT_ERROR)
        success(f"all {report.rows} rows are valid (dry run: nothing written)")
        return
    if failed and not continue_on_error:
        fail(f"{failed} of {report.rows} rows have problems; nothing was written")
        raise typer.Exit(EXIT_ERROR)
    if report.created:
        success(f"created {report.created} shows with their seat inventory")
    if failed:
        warn(f"{failed} of {report.rows} rows failed and were not written")
        raise typer.Exit(EXIT_PARTIAL if report.created else EXIT_ERROR)


@app.command(
    "upload",
    epilog=examples(
        "bms admin schedule upload fixtures/schedule-sample.csv --dry-run",
        "bms admin schedule upload nightly.json --continue-on-error --json",
    ),
)
def upload(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file, one show per row.")],
    dry_run: DryRun = False,
    continue_on_error: Annotated[
        bool,
        typer.Option(
            "--continue-on-error",
            help="Write the rows without problems and report the rest (exit code 3).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create many shows, with their seat inventory, from a schedule file.

    Columns: movie (id or exact title), theater (id or name), screen (id or name), starts_at
    (local wall time in the theater's timezone, YYYY-MM-DD HH:MM), language, format, one price
    per seat type of the screen (prices.<type> in decimal major units like 250.00, or
    prices_minor.<type> in integer minor units like 25000) and optionally sale_opens_at
    (local). Every row is checked against the catalog, the existing shows and the other rows
    (cleaning time between shows included), and every problem is reported by row and column.
    All or nothing unless --continue-on-error.
    """
    with Steps(as_json=as_json) as steps:
        rows, local = convert_rows(
            read_records(file),
            contracts.ScheduleRow,
            each=lambda records: steps.each(f"reading {file.name}", records),
        )
        if not rows and not local:
            raise CliError(f"{file} has no rows")
        # A row that could not be read stops an all-or-nothing upload: check the rest only.
        body = contracts.ScheduleUpload(
            rows=rows,
            dry_run=dry_run or (bool(local) and not continue_on_error),
            continue_on_error=continue_on_error,
        )
        report = contracts.ScheduleUploadOut(
            rows=0, valid=0, created=0, dry_run=dry_run, applied=False
        )
        if rows:
            with connect() as client, steps.waiting(f"checking and writing {len(rows)} shows"):
                report = client.post(UPLOADS, contracts.ScheduleUploadOut, body)
    report.problems = by_row([*local, *report.problems])
    report.rows += failed_rows(local)
    report.dry_run = dry_run
    if as_json:
        print_json(report)
    elif report.problems:
        problem_table(report.problems)
    _summary(report, continue_on_error)


@app.command(
    "list",
    epilog=examples(
        "bms admin schedule list",
        "bms admin schedule list --theater 'Harbour Screens' --from 2026-11-21 --to 2026-11-22",
    ),
)
def list_shows(
    theater: Annotated[str | None, typer.Option(help="Only this theater (id or name).")] = None,
    screen: Annotated[uuid.UUID | None, typer.Option(help="Only this screen (id).")] = None,
    movie: Annotated[uuid.UUID | None, typer.Option(help="Only this movie (id).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First local date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last local date.")] = None,
    include_cancelled: Annotated[
        bool, typer.Option("--include-cancelled", help="Cancelled shows too.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="At most this many.")] = 500,
    as_json: JsonFlag = False,
) -> None:
    """List the shows of your theaters in start order with live seat counts; upcoming shows
    unless --from/--to pick local dates."""
    with connect() as client:
        shows = client.get(
            "/api/v1/admin/shows",
            list[contracts.AdminShowOut],
            theater_id=theater_id_for(client, theater) if theater else None,
            screen_id=screen,
            movie_id=movie,
            **{"from": local_date(date_from, "--from"), "to": local_date(date_to, "--to")},
            include_cancelled="true" if include_cancelled else None,
            limit=limit,
        )
    listing(shows, SHOW_COLUMNS, as_json=as_json, empty="no shows match")
    if len(shows) == limit:
        info(f"showing the first {limit}; narrow the dates or raise --limit for more")


CANCEL_COLUMNS: list[Column[ShowCancellationOut]] = [
    ("Show", lambda s: s.show_id),
    ("Starts", lambda s: s.starts_at),
    ("Movie", lambda s: s.movie_title),
    ("Screen", lambda s: s.screen_name),
    ("Newly cancelled", lambda s: "yes" if s.newly_cancelled else "already"),
    ("Bookings refunded", lambda s: s.bookings_refunded),
    ("Skipped (done before)", lambda s: s.bookings_skipped),
    ("Refund (minor)", lambda s: s.refund_minor),
]


@app.command(
    "cancel",
    epilog=examples(
        "bms admin schedule cancel --show 6f1c… --reason 'projector failure'",
        "bms admin schedule cancel --theater 'Harbour Screens' --from 2026-12-24 --to 2026-12-26 "
        "--reason 'closed for repairs' --dry-run",
    ),
)
def cancel(
    reason: Annotated[str, typer.Option(help="Why; customers are told this.")],
    show: Annotated[uuid.UUID | None, typer.Option(help="One show (id).")] = None,
    theater: Annotated[
        str | None, typer.Option(help="Every show of a theater (id or name).")
    ] = None,
    screen: Annotated[uuid.UUID | None, typer.Option(help="Every show of a screen (id).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First local date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last local date.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would happen; change nothing.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Cancel one show, or every show of a theater or screen over local dates: every booking
    is refunded in full (fees included) and every customer notified. Safe to run again after
    an interruption: bookings already refunded are skipped."""
    ranges = [theater is not None, screen is not None]
    if show is not None and any(ranges):
        raise typer.BadParameter("give --show, or --theater/--screen with dates, not both")
    with connect() as client:
        if show is not None:
            if dry_run:
                raise typer.BadParameter("--dry-run works with a range (--theater or --screen)")
            one = client.post(
                f"/api/v1/admin/shows/{show}/cancel",
                ShowCancellationOut,
                ShowCancelRequest(reason=reason),
            )
            shows, refunded, total = [one], one.bookings_refunded, one.refund_minor
        else:
            if sum(ranges) != 1 or date_from is None:
                raise typer.BadParameter("give exactly one of --theater or --screen, and --from")
            report = client.post(
                "/api/v1/admin/cancellations",
                BulkCancelOut,
                BulkCancelRequest(
                    theater_id=theater_id_for(client, theater) if theater else None,
                    screen_id=screen,
                    date_from=local_date(date_from, "--from") or date.today(),
                    date_to=local_date(date_to or date_from, "--to") or date.today(),
                    reason=reason,
                    dry_run=dry_run,
                ),
            )
            shows, refunded, total = report.shows, report.bookings_refunded, report.refund_minor
    if as_json:
        print_json(shows)
    else:
        listing(shows, CANCEL_COLUMNS, as_json=False, empty="no shows in that range")
    verb = "would cancel" if dry_run else "cancelled"
    success(f"{verb} {len(shows)} show(s); {refunded} booking(s) refunded, {total} minor units")
