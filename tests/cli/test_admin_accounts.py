"""`bms admin` login, users and tokens against a real `bms serve`, plus the output conventions.

The end-to-end tests run the real command in a subprocess, exactly as an administrator would;
the convention tests use Typer's CliRunner for a quick look at stdout, stderr and exit codes.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from admin.config import credentials_path
from admin.main import app
from admin.output import AdminTyper, CliError
from server.clock import FrozenClock
from server.contracts.enums import Role
from tests.conftest import ROOT, ServerProcess, free_port
from tests.factories import make_user, make_world

PASSWORD = "secret-pass"
ROOT_EMAIL = "root@example.test"
NORTH_ADMIN_EMAIL = "north.admin@example.test"

runner = CliRunner()
StartServer = Callable[..., ServerProcess]


@dataclass
class Accounts:
    north: uuid.UUID
    south: uuid.UUID
    north_admin_token: str


@pytest.fixture
async def accounts(session: AsyncSession, clock: FrozenClock) -> Accounts:
    """Two theaters, a platform admin and North's theater admin (password PASSWORD, and an
    API token)."""
    starts_at = clock.now() + timedelta(days=1)
    north = await make_world(session, starts_at=starts_at, name_suffix=" North")
    south = await make_world(session, starts_at=starts_at, name_suffix=" South")
    await make_user(session, role=Role.PLATFORM_ADMIN, email=ROOT_EMAIL, password=PASSWORD)
    _, north_admin_token = await make_user(
        session,
        role=Role.THEATER_ADMIN,
        email=NORTH_ADMIN_EMAIL,
        password=PASSWORD,
        theater_ids=[north.theater_id],
    )
    return Accounts(
        north=north.theater_id, south=south.theater_id, north_admin_token=north_admin_token
    )


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private config dir (so no real login is touched) and no token from the environment."""
    config_home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.delenv("BMS_TOKEN", raising=False)
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    return config_home


class Admin:
    """Runs the real `bms admin` in a subprocess, with its own server URL and config dir."""

    def __init__(self, server_url: str, config_home: Path) -> None:
        self.env = {
            **os.environ,
            "BMS_SERVER_URL": server_url,
            "XDG_CONFIG_HOME": str(config_home),
        }
        self.env.pop("BMS_TOKEN", None)
        self.env.pop("BMS_DEBUG", None)

    def __call__(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "BMS_TOKEN": token} if token else self.env
        return subprocess.run(
            [sys.executable, "-m", "bmscli.main", "admin", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def json(self, *args: str, token: str | None = None) -> Any:
        done = self(*args, "--json", token=token)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- the real command against a real server -------------------------------------------------


def test_real_command_logs_in_creates_and_revokes(
    server_factory: StartServer, accounts: Accounts, tmp_path: Path
) -> None:
    server = server_factory()
    admin = Admin(server.url, tmp_path / "root")

    logged_in = admin("login", "--email", ROOT_EMAIL, "--password", PASSWORD)
    assert logged_in.returncode == 0, logged_in.stderr
    assert f"logged in to {server.url}" in logged_in.stderr
    stored = tmp_path / "root" / "bms" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert server.url in json.loads(stored.read_text())["servers"]
    assert admin.json("whoami")["role"] == "platform_admin"

    created = admin.json(
        "user", "create", "--name", "Asha Rao", "--role", "clerk",
        "--email", "asha@example.test", "--theater", str(accounts.north),
    )  # fmt: skip
    assert created["theater_ids"] == [str(accounts.north)]
    assert len(created["password"]) >= 12

    token = admin.json("token", "create", "nightly report")
    listed = {t["token_id"]: t for t in admin.json("token", "list")}
    assert listed[token["token_id"]]["name"] == "nightly report"
    assert listed[token["token_id"]]["token"] is None
    assert admin.json("whoami", token=token["token"])["role"] == "platform_admin"
    revoked = admin("token", "revoke", token["token_id"])
    assert revoked.returncode == 0, revoked.stderr
    refused = admin("whoami", token=token["token"])
    assert refused.returncode == 1
    assert one_error_line(refused) == (
        "error: 401 Unauthorized: The bearer token is unknown, expired or revoked; log in "
        "again. (the token came from BMS_TOKEN)"
    )

    elsewhere = admin(
        "user", "create", "--name", "Spy", "--role", "clerk",
        "--email", "spy@example.test", "--theater", str(accounts.south),
        token=accounts.north_admin_token,
    )  # fmt: skip
    assert elsewhere.returncode == 1
    assert elsewhere.stdout == ""
    assert one_error_line(elsewhere).startswith(
        "error: 403 Forbidden: You can only create staff for your own theaters"
    )


# -- output conventions ---------------------------------------------------------------------


def test_unreachable_server_is_one_line_with_the_fix(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("BMS_SERVER_URL", url)
    result = runner.invoke(app, ["whoami"], env={"BMS_TOKEN": "bms_anything"})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot reach the bms server at {url}; start it with `bms serve` "
        "or set BMS_SERVER_URL\n"
    )


def test_bms_debug_lets_the_exception_through(isolated: Path) -> None:
    result = runner.invoke(app, ["whoami"], env={"BMS_DEBUG": "1"})
    assert isinstance(result.exception, CliError)
    assert "not logged in" in result.exception.message


def test_unexpected_errors_are_one_line_without_traceback() -> None:
    broken = AdminTyper()

    @broken.command()
    def explode() -> None:
        raise ZeroDivisionError("division by zero")

    result = runner.invoke(broken, [])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected ZeroDivisionError: division by zero; run again with BMS_DEBUG=1 to "
        "see where, and report it if it keeps happening\n"
    )


def test_usage_errors_exit_2(isolated: Path) -> None:
    result = runner.invoke(app, ["user", "create", "--name", "X", "--role", "wizard"])
    assert result.exit_code == 2
    kiosk = runner.invoke(
        app, ["user", "create", "--name", "K", "--role", "kiosk", "--password", "p4ssword!"]
    )
    assert kiosk.exit_code == 2
    assert "kiosk tokens" in kiosk.stderr


def test_a_damaged_credentials_file_says_what_to_do(isolated: Path) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = runner.invoke(app, ["whoami"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {path} is damaged; delete it and run `bms admin login` again\n"
    )


def test_accounts_in_process_against_a_real_server(
    server_factory: StartServer,
    accounts: Accounts,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tables, --json purity, reset-password, refusals, partial revokes (exit 3) and logout."""
    server = server_factory()
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    login = runner.invoke(app, ["login", "--email", NORTH_ADMIN_EMAIL, "--password", PASSWORD])
    assert login.exit_code == 0, login.output
    assert login.stdout == ""

    created = runner.invoke(
        app,
        ["user", "create", "--name", "Ben", "--role", "clerk", "--email", "ben@example.test",
         "--theater", "test cinema north", "--json"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    ben = json.loads(created.stdout)
    assert ben["theater_ids"] == [str(accounts.north)]  # the theater's name, as elsewhere
    assert "shown only this once" in created.stderr
    table = runner.invoke(app, ["user", "list"])
    assert table.exit_code == 0
    assert "ben@example.test" in table.stdout
    assert NORTH_ADMIN_EMAIL in table.stdout
    assert ROOT_EMAIL not in table.stdout

    reset = runner.invoke(app, ["user", "reset-password", "ben@example.test", "--json"])
    assert reset.exit_code == 0, reset.output
    new_password = json.loads(reset.stdout)["password"]
    ben_home = {"XDG_CONFIG_HOME": str(isolated / "ben")}
    old = runner.invoke(
        app, ["login", "--email", "ben@example.test", "--password", ben["password"]], env=ben_home
    )
    assert old.exit_code == 1
    assert old.stderr.startswith("error: 401 Unauthorized: E-mail or password is wrong")
    runner.invoke(
        app, ["login", "--email", "ben@example.test", "--password", new_password], env=ben_home
    )
    clerk_list = runner.invoke(app, ["user", "list"], env=ben_home)
    assert clerk_list.exit_code == 1
    assert clerk_list.stderr == (
        "error: 403 Forbidden: This needs one of the roles theater_admin, platform_admin; "
        "you are clerk.\n"
    )

    token = json.loads(runner.invoke(app, ["token", "create", "ci", "--json"]).stdout)
    revoked = runner.invoke(app, ["token", "revoke", token["token_id"], str(uuid.uuid4())])
    assert revoked.exit_code == 3
    assert f"revoked {token['token_id']}" in revoked.stderr
    assert "404 Not found: No token" in revoked.stderr
    assert "1 of 2 tokens revoked" in revoked.stderr
    everything = runner.invoke(app, ["token", "list", "--all", "--json"])
    ci = [t for t in json.loads(everything.stdout) if t["name"] == "ci"]
    assert [t["revoked_at"] is not None for t in ci] == [True]
    assert token["token_id"] not in runner.invoke(app, ["token", "list"]).stdout

    assert runner.invoke(app, ["logout"]).exit_code == 0
    after = runner.invoke(app, ["whoami"])
    assert after.exit_code == 1
    assert after.stderr == (
        f"error: not logged in to {server.url}; run `bms admin login` or set BMS_TOKEN\n"
    )


def test_every_command_shows_an_example() -> None:
    commands = {
        "": ["login", "logout", "whoami"],
        "user": ["create", "list", "reset-password"],
        "token": ["create", "list", "revoke"],
    }
    for group, names in commands.items():
        for name in names:
            args = [*group.split(), name, "--help"]
            result = runner.invoke(app, args)
            assert result.exit_code == 0
            assert "Example" in result.stdout, args
            assert f"bms admin {' '.join(args[:-1])}" in result.stdout, args
