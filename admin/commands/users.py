"""user create | list | reset-password."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

import msgspec
import typer

from admin.api import AdminApi, as_uuid, connect
from admin.commands.theaters import theater_id_for
from admin.output import (
    EXIT_USAGE,
    AdminTyper,
    CliError,
    Column,
    JsonFlag,
    examples,
    listing,
    record,
    warn,
)
from server.contracts import api
from server.contracts.enums import Role

app = AdminTyper(
    help="Staff and customer accounts: create, list, reset passwords.", no_args_is_help=True
)

PASSWORD_NOTICE = "the password is shown only this once; pass it on to its owner safely"

USER_COLUMNS: list[Column[api.UserOut]] = [
    ("ID", lambda u: u.user_id),
    ("Name", lambda u: u.name),
    ("Role", lambda u: u.role),
    ("E-mail", lambda u: u.email),
    ("Phone", lambda u: u.phone),
    ("Theaters", lambda u: u.theater_ids),
]

UserRef = Annotated[str, typer.Argument(help="The user's id or e-mail.", show_default=False)]


def user_id_for(client: AdminApi, ref: str) -> uuid.UUID:
    """A user id from an id or an e-mail (looked up among the accounts the caller manages)."""
    known = as_uuid(ref)
    if known is not None:
        return known
    if "@" not in ref:
        raise CliError(f"'{ref}' is neither a user id nor an e-mail", EXIT_USAGE)
    found = client.get("/api/v1/admin/users", list[api.UserOut], email=ref)
    if not found:
        raise CliError(
            f"no user with e-mail {ref} among the accounts you manage; "
            "see them with `bms admin user list`"
        )
    return found[0].user_id


def _user_fields(user: api.UserOut, password: str | None) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = [(name, get(user)) for name, get in USER_COLUMNS]
    return fields + ([("Password", password)] if password else [])


def _with_password(user: api.UserOut, password: str | None) -> object:
    return {**msgspec.to_builtins(user), "password": password} if password else user


@app.command(
    "create",
    epilog=examples(
        "bms admin user create --name 'Asha Rao' --role clerk --email asha@example.com "
        "--theater 'Harbour Screens'",
        "bms admin user create --name 'Lobby kiosk 1' --role kiosk --theater THEATER_ID",
    ),
)
def create(
    name: Annotated[str, typer.Option(help="Full name, as shown on receipts and in lists.")],
    role: Annotated[Role, typer.Option(help="What the account may do.")],
    email: Annotated[
        str | None, typer.Option(help="Login e-mail; without one the account cannot log in.")
    ] = None,
    theater: Annotated[
        list[str] | None,
        typer.Option(
            help="A theater (id or name) the account acts for; repeat for several. "
            "Clerks, kiosks and theater admins need at least one."
        ),
    ] = None,
    phone: Annotated[str | None, typer.Option(help="Contact phone number.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Initial password; when left out one is generated and shown once."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a clerk, kiosk device, theater admin, platform admin or customer account.

    Theater admins may create clerks, kiosks and theater admins for their own theaters only.
    Kiosk devices have no password: give them a kiosk token (bms admin token create).
    """
    if role is Role.KIOSK and password is not None:
        raise typer.BadParameter(
            "kiosk devices sign in with kiosk tokens, not passwords", param_hint="--password"
        )
    generated = None
    if password is None and email is not None and role is not Role.KIOSK:
        password = generated = secrets.token_urlsafe(12)
    with connect() as client:
        body = api.UserCreate(
            name=name,
            role=role.value,
            email=email,
            phone=phone,
            password=password,
            theater_ids=[theater_id_for(client, ref) for ref in theater or []],
        )
        user = client.post("/api/v1/admin/users", api.UserOut, body)
    record(_user_fields(user, generated), as_json=as_json, data=_with_password(user, generated))
    if generated:
        warn(PASSWORD_NOTICE)


@app.command(
    "list", epilog=examples("bms admin user list --role clerk", "bms admin user list --json")
)
def list_users(
    role: Annotated[Role | None, typer.Option(help="Only accounts with this role.")] = None,
    theater: Annotated[
        str | None, typer.Option(help="Only accounts acting for this theater (id or name).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Only the account with this e-mail.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """List the accounts you manage, by name.

    Platform admins see every registered account; theater admins see the clerks, kiosks and
    theater admins of their own theaters. Guest sessions are never listed.
    """
    with connect() as client:
        users = client.get(
            "/api/v1/admin/users",
            list[api.UserOut],
            role=role.value if role else None,
            theater_id=theater_id_for(client, theater) if theater else None,
            email=email,
            limit=limit,
        )
    listing(users, USER_COLUMNS, as_json=as_json, empty="no accounts match")


@app.command(
    "reset-password",
    epilog=examples(
        "bms admin user reset-password asha@example.com",
        "bms admin user reset-password USER_ID --password 'a long new password'",
    ),
)
def reset_password(
    user: UserRef,
    password: Annotated[
        str | None,
        typer.Option(help="The new password; when left out one is generated and shown once."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a new password for an account and end all of its login sessions.

    API and kiosk tokens stay valid; revoke them with `bms admin token revoke`.
    """
    with connect() as client:
        user_id = user_id_for(client, user)
        reset = client.post(
            f"/api/v1/admin/users/{user_id}/password",
            api.PasswordResetOut,
            api.PasswordReset(password=password),
        )
    fields: list[tuple[str, object]] = [
        ("User id", reset.user_id),
        ("Sessions ended", reset.sessions_revoked),
    ]
    if reset.password:
        fields.append(("Password", reset.password))
    record(fields, as_json=as_json, data=reset)
    if reset.password:
        warn(PASSWORD_NOTICE)
