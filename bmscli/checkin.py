"""``bms checkin PAYLOAD``: check a ticket in at the door, over HTTP like every client.

Prints the verdict and exits 0 when the ticket is admitted, 1 when it is refused (forged,
cancelled, other day, already used — the server's sentence says which), and 2 when the server
could not be asked (not reachable, no token). The server is BMS_SERVER_URL; the token is
BMS_TOKEN, or the login stored by ``bms admin login``; it must belong to a clerk, kiosk or
theater admin of the show's theater.
"""

from __future__ import annotations

from typing import Annotated

import typer

from admin.api import ApiError, connect
from admin.output import EXIT_ERROR, EXIT_USAGE, CliError
from server.contracts.checkout import CheckinOut, CheckinRequest


def checkin(
    payload: Annotated[str, typer.Argument(help="The ticket's QR payload, as scanned.")],
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="Where the scan happens, e.g. 'Screen 2 door'."),
    ] = None,
) -> None:
    """Admit a ticket once (exit 0), or say why it is refused (exit 1)."""
    try:
        with connect() as client:
            admitted = client.post(
                "/api/v1/checkin", CheckinOut, CheckinRequest(payload=payload, location=location)
            )
    except ApiError as refused:
        typer.echo(f"REFUSED ({refused.status}): {refused.detail}")
        raise typer.Exit(EXIT_ERROR) from None
    except CliError as cannot_ask:
        typer.echo(f"error: {cannot_ask.message}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"ADMITTED {admitted.code}: {admitted.detail}")
