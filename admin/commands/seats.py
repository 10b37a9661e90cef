"""seats block | unblock: take seats out of sale for repairs across a range of shows."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.schedule import local_date
from admin.output import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    AdminTyper,
    Column,
    JsonFlag,
    examples,
    info,
    listing,
    print_json,
    success,
    warn,
)
from server.contracts import admin as contracts

app = AdminTyper(
    help="Seat repairs: take seats out of sale across shows, and put them back.",
    no_args_is_help=True,
)

SHOW_COLUMNS: list[Column[contracts.ShowRepairOut]] = [
    ("Show", lambda s: s.show_id),
    ("Starts (local)", lambda s: s.starts_local),
    ("Movie", lambda s: s.title),
    ("Changed", lambda s: s.changed),
    ("Already", lambda s: s.unchanged),
    ("Moved", lambda s: [f"{m.from_seat}→{m.to_seat} ({m.booking_code})" for m in s.moved]),
    ("Refused", lambda s: [f"{r.seat}: {r.reason}" for r in s.refused]),
]

Screen = Annotated[uuid.UUID, typer.Option(help="The screen's id (see screen list).")]
Seats = Annotated[
    list[str],
    typer.Option("--seat", help="A seat label such as A5, or several as A5,A6; repeatable."),
]
Shows = Annotated[
    list[uuid.UUID] | None, typer.Option("--show", help="Only this show; repeatable.")
]
DateFrom = Annotated[str | None, typer.Option("--from", help="First local date.")]
DateTo = Annotated[str | None, typer.Option("--to", help="Last local date.")]
Reason = Annotated[str, typer.Option(help="Why, kept with every seat change.")]


def _body(
    screen: uuid.UUID,
    seats: list[str],
    shows: list[uuid.UUID] | None,
    date_from: str | None,
    date_to: str | None,
    reason: str,
    move_customers: bool = False,
) -> contracts.SeatRepair:
    return contracts.SeatRepair(
        screen_id=screen,
        seats=[label.strip() for value in seats for label in value.split(",") if label.strip()],
        show_ids=shows or [],
        date_from=local_date(date_from, "--from"),
        date_to=local_date(date_to, "--to"),
        reason=reason,
        move_customers=move_customers,
    )


def _report(path: str, body: contracts.SeatRepair, as_json: bool) -> None:
    """Send the repair, print what happened per show, and exit 3 when some seats were
    refused while others changed (1 when everything was refused)."""
    with connect() as client:
        report = client.post(path, contracts.SeatRepairOut, body)
    if as_json:
        print_json(report)
    else:
        listing(report.shows, SHOW_COLUMNS, as_json=False, empty="")
    if not report.shows:
        info("no future shows of this screen match; nothing to do")
    moved = f", {report.moved} customers moved" if report.moved else ""
    summary = f"{report.changed} seat changes over {len(report.shows)} shows{moved}"
    if not report.refused:
        success(summary)
        return
    warn(f"{summary}; {report.refused} refused (see the Refused column)")
    raise typer.Exit(EXIT_PARTIAL if report.changed or report.moved else EXIT_ERROR)


@app.command(
    "block",
    epilog=examples(
        "bms admin seats block --screen SCREEN_ID --seat A5,A6 --from 2026-11-21 "
        "--to 2026-11-30 --reason 'broken recliner'",
        "bms admin seats block --screen SCREEN_ID --seat G7 --show SHOW_ID --move-customers",
    ),
)
def block(
    screen: Screen,
    seat: Seats,
    show: Shows = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    reason: Reason = "repair",
    move_customers: Annotated[
        bool,
        typer.Option(
            "--move-customers",
            help="Move customers of sold seats to the nearest free seat of the same type in "
            "the same show (the seat is refused for a show without one).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Take seats out of sale in future shows of a screen (all of them, --show, or local
    dates --from/--to). Seats held by a buyer right now are refused; sold seats too, unless
    --move-customers. Every change is recorded with you as its author and the reason."""
    body = _body(screen, seat, show, date_from, date_to, reason, move_customers)
    _report("/api/v1/admin/seats/block", body, as_json)


@app.command(
    "unblock",
    epilog=examples("bms admin seats unblock --screen SCREEN_ID --seat A5,A6 --from 2026-11-21"),
)
def unblock(
    screen: Screen,
    seat: Seats,
    show: Shows = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    reason: Reason = "repaired",
    as_json: JsonFlag = False,
) -> None:
    """Put repaired seats back on sale in future shows of a screen."""
    _report(
        "/api/v1/admin/seats/unblock",
        _body(screen, seat, show, date_from, date_to, reason),
        as_json,
    )
