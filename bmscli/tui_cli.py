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
) -> None:
    """The box office: sign in as a clerk, find a show, pick and hold seats."""
    from bmscli.tui.app import BoxOfficeApp
    from bmscli.tui.backend import EmbeddedServer

    embedded = None if server else EmbeddedServer()
    _run(BoxOfficeApp(server, embedded=embedded, city=city))


def kiosk(
    server: ServerOption = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="BMS_KIOSK_TOKEN",
            help="The kiosk device token (bms admin tokens create --kind kiosk). "
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
