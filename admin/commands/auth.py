"""login, logout, whoami: the session the other admin commands use."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from admin import config
from admin.api import AdminApi, ApiError, connect
from admin.output import CliError, JsonFlag, info, record, success, warn
from server.contracts import api


def login(
    email: Annotated[str, typer.Option(prompt="E-mail", help="Your bms account e-mail.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            help="Your password; asked for when left out, which keeps it out of shell history.",
        ),
    ],
) -> None:
    """Log in to the bms server and keep the session token for the other admin commands.

    The token is stored for BMS_SERVER_URL only, in a file only you can read.
    """
    url = config.server_url()
    with AdminApi(url, None) as client:
        session = client.post(
            "/api/v1/auth/login", api.TokenOut, api.LoginRequest(email=email, password=password)
        )
    path = config.save_login(url, session)
    until = f" until {session.expires_at:%Y-%m-%d %H:%M %Z}" if session.expires_at else ""
    success(f"logged in to {url} as {session.name} ({session.role}){until}")
    info(f"session token saved in {path}")
    if os.environ.get(config.TOKEN_ENV):
        warn(f"{config.TOKEN_ENV} is set and wins over this login; unset it to use the login")


def logout() -> None:
    """End the stored login session on the server and forget its token."""
    url = config.server_url()
    session = config.forget_login(url)
    if session is None:
        info(f"not logged in to {url}; nothing to do")
        return
    try:
        with AdminApi(url, config.Credentials(session.token, "the stored login")) as client:
            client.post("/api/v1/auth/logout", type(None))
    except ApiError as exc:
        if exc.status != 401:  # 401: the session had already ended
            warn(f"the server did not end the session ({exc.message}); it was forgotten here")
    except CliError as exc:
        warn(f"{exc.message}; the session was forgotten here but may stay valid until it expires")
    success(f"logged out of {url}")
    if os.environ.get(config.TOKEN_ENV):
        warn(f"{config.TOKEN_ENV} is still set, so commands keep using that token")


def whoami(as_json: JsonFlag = False) -> None:
    """Show who the admin commands act as, on which server, with which token."""
    with connect() as client:
        me = client.get("/api/v1/me", api.UserOut)
        source = client.auth.source if client.auth else "-"
    record(
        [
            ("Name", me.name),
            ("Role", me.role),
            ("E-mail", me.email),
            ("User id", me.user_id),
            ("Theaters", me.theater_ids),
            ("Server", client.base_url),
            ("Token from", source),
        ],
        as_json=as_json,
        data=me,
    )
