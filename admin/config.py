"""Where the admin CLI finds its server and its bearer token.

The server is BMS_SERVER_URL (default http://127.0.0.1:8000). The token is BMS_TOKEN when set,
otherwise the one ``bms admin login`` stored for that server in
``<user config dir>/bms/credentials.json`` (mode 600). Tokens are kept per server URL so a
token is only ever sent to the server that issued it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import platformdirs

from admin.output import CliError
from server.contracts import api

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
SERVER_URL_ENV = "BMS_SERVER_URL"
TOKEN_ENV = "BMS_TOKEN"


class CredentialsFile(msgspec.Struct, kw_only=True):
    servers: dict[str, api.TokenOut] = {}


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str
    source: str  # "BMS_TOKEN" or the credentials file's path, for messages


def server_url() -> str:
    return os.environ.get(SERVER_URL_ENV, "").strip().rstrip("/") or DEFAULT_SERVER_URL


def credentials_path() -> Path:
    return Path(platformdirs.user_config_dir("bms")) / "credentials.json"


def _read() -> CredentialsFile:
    path = credentials_path()
    try:
        return msgspec.json.decode(path.read_bytes(), type=CredentialsFile)
    except FileNotFoundError:
        return CredentialsFile()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}; check its permissions") from None
    except msgspec.DecodeError:
        raise CliError(f"{path} is damaged; delete it and run `bms admin login` again") from None


def _write(credentials: CredentialsFile) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    # Created 0600 from the start, so the token is never readable by others, even briefly.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(msgspec.json.format(msgspec.json.encode(credentials), indent=2))
    os.chmod(partial, 0o600)  # os.open keeps the mode of a file that already existed
    os.replace(partial, path)


def stored_login(url: str) -> api.TokenOut | None:
    return _read().servers.get(url)


def save_login(url: str, login: api.TokenOut) -> Path:
    credentials = _read()
    credentials.servers[url] = login
    _write(credentials)
    return credentials_path()


def forget_login(url: str) -> api.TokenOut | None:
    credentials = _read()
    login = credentials.servers.pop(url, None)
    if login is not None:
        _write(credentials)
    return login


def credentials(url: str) -> Credentials:
    """The token to send to ``url``, or a CliError saying how to get one."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return Credentials(token, TOKEN_ENV)
    login = stored_login(url)
    if login is None:
        raise CliError(f"not logged in to {url}; run `bms admin login` or set {TOKEN_ENV}")
    if login.expires_at is not None and login.expires_at <= datetime.now(UTC):
        raise CliError(f"your login to {url} has expired; run `bms admin login` again")
    return Credentials(login.token, str(credentials_path()))
