"""Every setting the server reads, in one typed object.

Values come from the environment (``BMS_*``), then an optional TOML file (``BMS_CONFIG`` or
``<config dir>/bms.toml``), then defaults. The README documents each one.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

LOCK_STRATEGIES = ("optimistic", "pessimistic", "redlock", "serializable")
RISK_LIMITS = (
    "risk_bookings_per_buyer",
    "risk_bookings_per_card",
    "risk_bookings_per_address",
    "risk_seats_before_review",
    "risk_declines_before_refusal",
)


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names it and says what to do."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    # Comma-separated Redis URLs of independent nodes for the redlock strategy (N >= 3).
    redlock_urls: tuple[str, ...] = ()
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir("bms")))
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    # Database connections per server process. Requests beyond it wait for a free one instead
    # of opening more: a 2-core database runs a handful of statements at once anyway, and a
    # connection opened per burst costs a backend process and a type handshake each time.
    database_pool_size: int = 30
    # How long a request waits for a free connection before it is answered 503 "busy".
    database_pool_wait_seconds: int = 10
    lock_strategy: str = "pessimistic"
    max_seats_per_hold: int = 10
    max_holds_per_buyer: int = 2
    rate_limit_per_minute: int = 600
    waiting_room_capacity: int = 500
    # Fraud rules (server/domain/payments/fraud.py), per hour: above these a booking waits for
    # review; at the declines limit a checkout is refused.
    risk_bookings_per_buyer: int = 10
    risk_bookings_per_card: int = 10
    risk_bookings_per_address: int = 30
    risk_seats_before_review: int = 8
    risk_declines_before_refusal: int = 3
    # A confirmed booking's customer is reminded of the show this many hours before it starts
    # (server/domain/booking/reminders.py).
    reminder_hours: int = 3
    log_level: str = "INFO"
    debug: bool = False
    workers: int = 1

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, Path):
            return Path(str(raw)).expanduser()
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list) else str(raw).split(",")
            return tuple(item.strip() for item in items if item.strip())
    except ValueError as exc:
        raise SettingsError(
            f"BMS_{name.upper()}={raw!r} is not a valid {type(default).__name__}; "
            "fix the environment variable or config file"
        ) from exc
    return str(raw) if raw is not None else None


def _config_file(environ: dict[str, str]) -> dict[str, Any]:
    path = Path(environ.get("BMS_CONFIG") or Path(platformdirs.user_config_dir("bms")) / "bms.toml")
    if not path.exists():
        if environ.get("BMS_CONFIG"):
            raise SettingsError(f"BMS_CONFIG points to {path}, which does not exist")
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}; fix the TOML syntax") from exc


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from the environment and the optional config file."""
    env = dict(os.environ if environ is None else environ)
    from_file = _config_file(env)
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"BMS_{f.name.upper()}", from_file.get(f.name))
        if raw is not None and raw != "":
            values[f.name] = _coerce(f.name, raw, getattr(defaults, f.name))
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if settings.lock_strategy not in LOCK_STRATEGIES:
        raise SettingsError(
            f"BMS_LOCK_STRATEGY={settings.lock_strategy!r} is unknown; "
            f"use one of {', '.join(LOCK_STRATEGIES)}"
        )
    if settings.redlock_urls and len(settings.redlock_urls) < 3:
        raise SettingsError(
            "BMS_REDLOCK_URLS needs at least 3 independent Redis nodes "
            f"(got {len(settings.redlock_urls)})"
        )
    for name in RISK_LIMITS:
        if getattr(settings, name) < 1:
            raise SettingsError(f"BMS_{name.upper()} must be at least 1")
    if settings.reminder_hours < 1:
        raise SettingsError("BMS_REMINDER_HOURS must be at least 1")
    if settings.database_pool_size < 2:
        raise SettingsError("BMS_DATABASE_POOL_SIZE must be at least 2")
    if settings.database_pool_wait_seconds < 1:
        raise SettingsError("BMS_DATABASE_POOL_WAIT_SECONDS must be at least 1")
    if not 1 <= settings.port <= 65535:
        raise SettingsError(f"BMS_PORT={settings.port} is outside 1-65535")


def secret_key(settings: Settings) -> str:
    """The signing secret: configured, or generated once and kept in the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
