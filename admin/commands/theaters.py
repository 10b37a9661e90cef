"""theater create | list | show | update, and screen create | list | show | update."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from admin.api import AdminApi, as_uuid, connect
from admin.commands.layouts import load, report_issues
from admin.output import (
    EXIT_ERROR,
    EXIT_USAGE,
    AdminTyper,
    CliError,
    Column,
    JsonFlag,
    examples,
    listing,
    record,
)
from server.contracts import admin as contracts

theater_app = AdminTyper(
    help="Theaters: create (platform admins), list, show, change facilities and policies.",
    no_args_is_help=True,
)
screen_app = AdminTyper(
    help="Screens: create from a layout file, list, show, rename or change formats.",
    no_args_is_help=True,
)

THEATERS = "/api/v1/admin/theaters"
SCREENS = "/api/v1/admin/screens"

TheaterRef = Annotated[str, typer.Argument(help="The theater's id or name.", show_default=False)]
ScreenId = Annotated[uuid.UUID, typer.Argument(help="The screen's id (see screen list).")]

THEATER_COLUMNS: list[Column[contracts.TheaterAdminOut]] = [
    ("ID", lambda t: t.theater_id),
    ("Name", lambda t: t.name),
    ("City", lambda t: t.city),
    ("Screens", lambda t: len(t.screens)),
    ("Hold min", lambda t: t.hold_minutes),
    ("Cleaning min", lambda t: t.cleaning_minutes),
    ("Fee (minor)", lambda t: t.convenience_fee_minor),
]
SCREEN_COLUMNS: list[Column[contracts.ScreenAdminOut]] = [
    ("ID", lambda s: s.screen_id),
    ("Name", lambda s: s.name),
    ("Formats", lambda s: s.formats),
    ("Layout", lambda s: s.layout_name),
    ("Seats", lambda s: s.seats_total),
    ("By type", lambda s: ", ".join(f"{k} {v}" for k, v in s.seats_by_type.items())),
    ("Retired", lambda s: s.seats_retired),
]


def theater_id_for(client: AdminApi, ref: str) -> uuid.UUID:
    """A theater id from an id or a name (among the theaters the caller may see)."""
    known = as_uuid(ref)
    if known is not None:
        return known
    theaters = client.get(THEATERS, list[contracts.TheaterAdminOut])
    found = [t for t in theaters if t.name.lower() == ref.strip().lower()]
    if not found:
        raise CliError(f"no theater named {ref!r} among yours; see `bms admin theater list`")
    return found[0].theater_id


def tiers(values: list[str] | None) -> list[contracts.CancellationTier] | None:
    """``["48:100", "2:25"]``: at least 48 h before refunds 100 %, at least 2 h 25 %."""
    if not values:
        return None
    found = []
    for value in values:
        hours, sep, percent = value.partition(":")
        if not sep or not hours.strip().isdigit() or not percent.strip().isdigit():
            raise typer.BadParameter(
                f"{value!r} is not HOURS:PERCENT, e.g. 24:100", param_hint="--refund"
            )
        found.append(
            contracts.CancellationTier(min_hours_before=int(hours), refund_percent=int(percent))
        )
    return found


Refunds = Annotated[
    list[str] | None,
    typer.Option(
        "--refund",
        help="A cancellation tier HOURS:PERCENT: cancelling at least HOURS before the show "
        "refunds PERCENT of the ticket. Repeat for each tier; replaces the policy.",
    ),
]
FeeRefundable = Annotated[
    bool | None,
    typer.Option(
        "--fee-refundable/--fee-kept", help="Whether cancelling refunds the convenience fee."
    ),
]
Facilities = Annotated[
    list[str] | None,
    typer.Option("--facility", help="A facility, e.g. parking; repeat for several."),
]


def _theater_fields(theater: contracts.TheaterAdminOut) -> list[tuple[str, object]]:
    policy = theater.cancellation_policy
    refunds = ", ".join(
        f"≥{t['min_hours_before']} h: {t['refund_percent']} %" for t in policy.get("tiers", [])
    )
    return [
        ("ID", theater.theater_id),
        ("Name", theater.name),
        ("City", f"{theater.city} ({theater.timezone}, {theater.currency})"),
        ("Address", theater.address),
        ("Location", f"{theater.latitude}, {theater.longitude}"),
        ("Facilities", theater.facilities),
        ("Hold minutes", theater.hold_minutes),
        ("Cleaning minutes", theater.cleaning_minutes),
        ("Convenience fee", f"{theater.convenience_fee_minor} (minor units)"),
        ("Accessible release", f"{theater.accessible_release_minutes} min before the show"),
        ("Refunds", refunds),
        ("Fee refundable", policy.get("convenience_fee_refundable", False)),
        ("Screens", [f"{s.name} ({s.screen_id})" for s in theater.screens]),
    ]


def show_theater(theater: contracts.TheaterAdminOut, as_json: bool) -> None:
    record(_theater_fields(theater), as_json=as_json, data=theater)


@theater_app.command(
    "create",
    epilog=examples(
        "bms admin theater create --name 'Harbour Screens' --city Mumbai "
        "--address '2 Quay Road' --lat 18.94 --lon 72.83 --facility parking --refund 24:100 "
        "--refund 6:50"
    ),
)
def create_theater(
    name: Annotated[str, typer.Option(help="The theater's name, unique.")],
    city: Annotated[
        str, typer.Option(help="The city's name or id; its timezone and currency apply.")
    ],
    address: Annotated[str, typer.Option(help="Street address.")],
    lat: Annotated[float, typer.Option(help="Latitude, decimal degrees.")],
    lon: Annotated[float, typer.Option(help="Longitude, decimal degrees.")],
    facility: Facilities = None,
    hold_minutes: Annotated[int, typer.Option(help="How long a seat hold lasts (10-15).")] = 10,
    cleaning_minutes: Annotated[
        int, typer.Option(help="Cleaning time between shows on a screen (0-120).")
    ] = 15,
    convenience_fee_minor: Annotated[
        int, typer.Option(help="Convenience fee per booking, in minor units (2500 = 25.00).")
    ] = 0,
    accessible_release_minutes: Annotated[
        int,
        typer.Option(help="Wheelchair and companion seats go on general sale this long before."),
    ] = 60,
    refund: Refunds = None,
    fee_refundable: FeeRefundable = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a theater (platform admins only). Without --refund it gets the default
    policy: 100 % up to 24 h before, 50 % up to 6 h, nothing after."""
    found_tiers = tiers(refund)
    body = contracts.TheaterCreate(
        name=name,
        city=city,
        address=address,
        latitude=lat,
        longitude=lon,
        facilities=facility or [],
        hold_minutes=hold_minutes,
        cleaning_minutes=cleaning_minutes,
        convenience_fee_minor=convenience_fee_minor,
        accessible_release_minutes=accessible_release_minutes,
        cancellation_policy=(
            contracts.CancellationPolicy(
                tiers=found_tiers, convenience_fee_refundable=bool(fee_refundable)
            )
            if found_tiers
            else None
        ),
    )
    with connect() as client:
        show_theater(client.post(THEATERS, contracts.TheaterAdminOut, body), as_json)


@theater_app.command(
    "list", epilog=examples("bms admin theater list", "bms admin theater list --json")
)
def list_theaters(as_json: JsonFlag = False) -> None:
    """List your theaters (platform admins: every theater) with their main policies."""
    with connect() as client:
        theaters = client.get(THEATERS, list[contracts.TheaterAdminOut])
    listing(theaters, THEATER_COLUMNS, as_json=as_json, empty="no theaters")


@theater_app.command("show", epilog=examples("bms admin theater show 'Harbour Screens'"))
def show(theater: TheaterRef, as_json: JsonFlag = False) -> None:
    """Show a theater's facilities, policies and screens."""
    with connect() as client:
        theater_id = theater_id_for(client, theater)
        show_theater(client.get(f"{THEATERS}/{theater_id}", contracts.TheaterAdminOut), as_json)


@theater_app.command(
    "update",
    epilog=examples(
        "bms admin theater update 'Harbour Screens' --hold-minutes 12 --cleaning-minutes 20",
        "bms admin theater update THEATER_ID --refund 48:100 --refund 4:50 --fee-kept",
    ),
)
def update_theater(
    theater: TheaterRef,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    address: Annotated[str | None, typer.Option(help="A new address.")] = None,
    facility: Facilities = None,
    hold_minutes: Annotated[int | None, typer.Option(help="Seat hold length, 10-15.")] = None,
    cleaning_minutes: Annotated[
        int | None, typer.Option(help="Cleaning between shows, 0-120; applies to new shows.")
    ] = None,
    convenience_fee_minor: Annotated[
        int | None, typer.Option(help="Convenience fee in minor units.")
    ] = None,
    accessible_release_minutes: Annotated[
        int | None, typer.Option(help="When accessible seats go on general sale.")
    ] = None,
    refund: Refunds = None,
    fee_refundable: FeeRefundable = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a theater's facilities and policies; options left out stay as they are.
    --facility replaces the whole list; --refund replaces every tier."""
    with connect() as client:
        theater_id = theater_id_for(client, theater)
        policy = None
        if refund or fee_refundable is not None:
            current = client.get(f"{THEATERS}/{theater_id}", contracts.TheaterAdminOut)
            kept = current.cancellation_policy
            policy = contracts.CancellationPolicy(
                tiers=tiers(refund)
                or [contracts.CancellationTier(**t) for t in kept.get("tiers", [])],
                convenience_fee_refundable=(
                    fee_refundable
                    if fee_refundable is not None
                    else bool(kept.get("convenience_fee_refundable"))
                ),
            )
        body = contracts.TheaterUpdate(
            name=name,
            address=address,
            facilities=facility,
            hold_minutes=hold_minutes,
            cleaning_minutes=cleaning_minutes,
            convenience_fee_minor=convenience_fee_minor,
            accessible_release_minutes=accessible_release_minutes,
            cancellation_policy=policy,
        )
        updated = client.patch(f"{THEATERS}/{theater_id}", contracts.TheaterAdminOut, body)
    show_theater(updated, as_json)


# -- screens --------------------------------------------------------------------------------

Formats = Annotated[
    list[str] | None,
    typer.Option("--format", help="A projection format: 2D, 3D, IMAX or 4DX; repeat for several."),
]


def show_screen(screen: contracts.ScreenAdminOut, as_json: bool) -> None:
    fields: list[tuple[str, object]] = [(name, get(screen)) for name, get in SCREEN_COLUMNS]
    fields.insert(1, ("Theater", screen.theater_id))
    fields.append(("Size", f"{screen.width} x {screen.height}, screen at the {screen.screen_side}"))
    record(fields, as_json=as_json, data=screen)


@screen_app.command(
    "create",
    epilog=examples(
        "bms admin screen create --theater 'Harbour Screens' --name 'Screen 4' "
        "--layout layouts/standard-150.layout --format 2D --format 3D"
    ),
)
def create_screen(
    theater: Annotated[str, typer.Option(help="The theater's id or name.")],
    name: Annotated[str, typer.Option(help="The screen's name, unique in the theater.")],
    layout: Annotated[Path, typer.Option(help="The .layout file (see docs/layouts.md).")],
    format_: Formats = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a screen and its seats from a layout file. The file is checked first: every
    problem is reported as file:line:column."""
    if not format_:
        raise typer.BadParameter("give at least one --format", param_hint="--format")
    loaded = load(layout)
    if loaded.layout is None:
        report_issues(loaded)
        raise typer.Exit(EXIT_ERROR)
    with connect() as client:
        body = contracts.ScreenCreate(
            theater_id=theater_id_for(client, theater),
            name=name,
            formats=format_,
            layout=layout.read_text(encoding="utf-8-sig"),
            source=str(layout),
        )
        show_screen(client.post(SCREENS, contracts.ScreenAdminOut, body), as_json)


@screen_app.command(
    "list",
    epilog=examples("bms admin screen list", "bms admin screen list --theater 'Harbour Screens'"),
)
def list_screens(
    theater: Annotated[str | None, typer.Option(help="Only this theater's (id or name).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the screens of your theaters with their seats by type."""
    with connect() as client:
        theater_id = theater_id_for(client, theater) if theater else None
        screens = client.get(SCREENS, list[contracts.ScreenAdminOut], theater_id=theater_id)
    listing(screens, SCREEN_COLUMNS, as_json=as_json, empty="no screens")


@screen_app.command("show", epilog=examples("bms admin screen show SCREEN_ID"))
def show_one_screen(screen: ScreenId, as_json: JsonFlag = False) -> None:
    """Show a screen: formats, layout, seat counts by type. `layout show SCREEN_ID` draws it."""
    with connect() as client:
        show_screen(client.get(f"{SCREENS}/{screen}", contracts.ScreenAdminOut), as_json)


@screen_app.command(
    "update",
    epilog=examples(
        "bms admin screen update SCREEN_ID --name 'Gold Lounge'",
        "bms admin screen update SCREEN_ID --format 2D --format IMAX",
    ),
)
def update_screen(
    screen: ScreenId,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    format_: Formats = None,
    as_json: JsonFlag = False,
) -> None:
    """Rename a screen or replace its formats (refused while future shows use a format
    being removed). Change its seats with `bms admin layout import`."""
    if name is None and not format_:
        raise CliError("nothing to change; give --name and/or --format", EXIT_USAGE)
    body = contracts.ScreenUpdate(name=name, formats=format_ or None)
    with connect() as client:
        show_screen(client.patch(f"{SCREENS}/{screen}", contracts.ScreenAdminOut, body), as_json)
