"""``bms tui`` and ``bms kiosk``: the box office and the lobby kiosk.

Without ``--server`` (or ``BMS_SERVER_URL``) either starts the embedded box office — a
``bms serve --demo`` subprocess on the embedded PostgreSQL and Valkey — and stops it on exit.
Textual is imported only when one of them runs, so ``bms serve`` starts no slower.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp

DEFAULT_PIN = "2580"
DEFAULT_IDLE_SECONDS = 120

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="BMS_SERVER_URL",
        help="The bms server to use, e.g. http://127.0.0.1:8000. Unset: start the embedded one.",
    ),
]


def parse_location(text: str | None) -> tuple[float, float] | None:
    """ "19.07,72.88" (decimal degrees) as (lat, lon); nothing given, None."""
    if not text:
        return None
    lat, _, lon = text.partition(",")
    try:
        place = float(lat), float(lon)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a place; give latitude,longitude in decimal degrees, "
            "e.g. 19.07,72.88."
        ) from None
    if not (-90 <= place[0] <= 90 and -180 <= place[1] <= 180):
        raise typer.BadParameter(
            f"{text!r} is not on Earth: latitude runs from -90 to 90, longitude -180 to 180."
        )
    return place


def _run(app: BoxOfficeApp) -> None:
    try:
        app.run()
    finally:
        if app.embedded is not None:
            app.embedded.stop()


def tui(
    server: ServerOption = None,
    city: Annotated[
        str | None, typer.Option(help="City to sell for (default: your theater's).")
    ] = None,
    near: Annotated[
        str | None,
        typer.Option(
            envvar="BMS_LOCATION",
            help="Where you are, as lat,lon (e.g. 19.07,72.88): showtimes list the nearest "
            "theaters first, with their distance.",
        ),
    ] = None,
) -> None:
    """The box office: sign in as a clerk, find a show, pick and hold seats."""
    from bmscli.tui.app import BoxOfficeApp
    from bmscli.tui.backend import EmbeddedServer

    location = parse_location(near)
    embedded = None if server else EmbeddedServer()
    _run(BoxOfficeApp(server, embedded=embedded, city=city, location=location))


def kiosk(
    server: ServerOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="BMS_KIOSK_TOKEN",
            help="The kiosk device token (bms admin token create --kind kiosk). "
            "Unset on demo data: the demo kiosk account.",
        ),
    ] = None,
    pin: Annotated[
        str,
        typer.Option(envvar="BMS_KIOSK_PIN", help="Staff PIN to leave the kiosk (ctrl+x)."),
    ] = DEFAULT_PIN,
    idle: Annotated[
        int,
        typer.Option(
            envvar="BMS_KIOSK_IDLE_SECONDS",
            min=10,
            help="Seconds without a touch before the kiosk starts over, releasing any hold.",
        ),
    ] = DEFAULT_IDLE_SECONDS,
) -> None:
    """The full-screen lobby kiosk: customers buy as guests; staff leave with ctrl+x and the PIN."""
    from bmscli.tui.backend import EmbeddedServer
    from bmscli.tui.kiosk import KioskApp

    embedded = None if server else EmbeddedServer()
    _run(KioskApp(server, embedded=embedded, device_token=token, pin=pin, idle_seconds=idle))
