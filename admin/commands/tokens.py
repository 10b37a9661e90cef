"""token create | list | revoke: long-lived API tokens for scripts and kiosk device tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

import typer

from admin.api import ApiError, connect
from admin.commands.users import user_id_for
from admin.output import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    AdminTyper,
    Column,
    JsonFlag,
    examples,
    fail,
    info,
    listing,
    record,
    success,
    warn,
)
from server.contracts import api

app = AdminTyper(
    help="API tokens for scripts and kiosk device tokens: create, list, revoke.",
    no_args_is_help=True,
)


def token_state(token: api.ApiTokenOut) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return "expired"
    return "active"


TOKEN_COLUMNS: list[Column[api.ApiTokenOut]] = [
    ("ID", lambda t: t.token_id),
    ("Name", lambda t: t.name),
    ("Kind", lambda t: t.kind),
    ("Prefix", lambda t: t.prefix),
    ("User", lambda t: t.user_id),
    ("Created", lambda t: t.created_at),
    ("Expires", lambda t: t.expires_at),
    ("Last used", lambda t: t.last_used_at),
    ("State", token_state),
]


@app.command(
    "create",
    epilog=examples(
        "bms admin token create 'nightly report' --expires-in-days 90",
        "bms admin token create 'Lobby kiosk 1' --kind kiosk --user KIOSK_USER_ID",
        "export BMS_TOKEN=$(bms admin token create ci --json | jq -r .token)",
    ),
)
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, shown in lists.")],
    kind: Annotated[
        Literal["api", "kiosk"],
        typer.Option(help="api: acts as its user; kiosk: a kiosk device's sign-in."),
    ] = "api",
    user: Annotated[
        str | None,
        typer.Option(
            help="Id or e-mail of the account the token acts as (default: you); "
            "kiosk tokens need a kiosk account."
        ),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days; default: never.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a token. Its secret is shown only this once: store it right away.

    Scripts send it as 'Authorization: Bearer <token>' or set BMS_TOKEN for these commands.
    """
    with connect() as client:
        body = api.ApiTokenCreate(
            name=name,
            kind=kind,
            user_id=user_id_for(client, user) if user else None,
            expires_in_days=expires_in_days,
        )
        token = client.post("/api/v1/tokens", api.ApiTokenOut, body)
    fields = [(header, get(token)) for header, get in TOKEN_COLUMNS if header != "Last used"]
    record([*fields, ("Token", token.token)], as_json=as_json, data=token)
    warn("the token is shown only this once; store it somewhere safe now")


@app.command("list", epilog=examples("bms admin token list", "bms admin token list --all --json"))
def list_tokens(
    include_all: Annotated[
        bool, typer.Option("--all", help="Also show revoked and expired tokens.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the API and kiosk tokens you may manage (login sessions are not listed).

    Theater admins see their own tokens and those of their theaters' staff.
    """
    with connect() as client:
        tokens = client.get("/api/v1/tokens", list[api.ApiTokenOut])
    if not include_all:
        tokens = [t for t in tokens if token_state(t) == "active"]
    listing(tokens, TOKEN_COLUMNS, as_json=as_json, empty="no tokens (--all shows revoked ones)")


@app.command("revoke", epilog=examples("bms admin token revoke TOKEN_ID [TOKEN_ID...]"))
def revoke(
    token_ids: Annotated[
        list[uuid.UUID], typer.Argument(help="Ids of the tokens to revoke (see token list).")
    ],
) -> None:
    """Revoke tokens: they stop working within seconds. Revoking twice is harmless.

    Exits 3 when some of several tokens could not be revoked.
    """
    refused = 0
    with connect() as client:
        for token_id in token_ids:
            try:
                client.delete(f"/api/v1/tokens/{token_id}")
            except ApiError as exc:
                refused += 1
                fail(f"{token_id}: {exc.message}")
            else:
                success(f"revoked {token_id}")
    if refused == len(token_ids):
        raise typer.Exit(EXIT_ERROR)
    if refused:
        info(f"{len(token_ids) - refused} of {len(token_ids)} tokens revoked")
        raise typer.Exit(EXIT_PARTIAL)
