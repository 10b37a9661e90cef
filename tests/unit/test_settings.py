"""Settings from the environment and the optional TOML file, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_defaults_use_the_embedded_backend(tmp_path: Path) -> None:
    settings = load_settings({"BMS_CONFIG": "", "HOME": str(tmp_path)})
    assert settings.uses_embedded_database and settings.uses_embedded_redis
    assert settings.lock_strategy == "pessimistic" and settings.port == 8000
    assert settings.reminder_hours == 3


def test_environment_overrides_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bms.toml"
    config.write_text('port = 9000\nlock_strategy = "optimistic"\nredlock_urls = ["a", "b", "c"]\n')
    settings = load_settings({"BMS_CONFIG": str(config), "BMS_PORT": "9100"})
    assert settings.port == 9100
    assert settings.lock_strategy == "optimistic"
    assert settings.redlock_urls == ("a", "b", "c")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BMS_PORT": "eighty"}, "BMS_PORT='eighty' is not a valid int"),
        ({"BMS_PORT": "70000"}, "outside 1-65535"),
        ({"BMS_LOCK_STRATEGY": "yolo"}, "use one of optimistic, pessimistic, redlock"),
        ({"BMS_REDLOCK_URLS": "redis://a,redis://b"}, "at least 3 independent"),
        ({"BMS_CONFIG": "/nonexistent/bms.toml"}, "does not exist"),
        ({"BMS_RISK_SEATS_BEFORE_REVIEW": "0"}, "BMS_RISK_SEATS_BEFORE_REVIEW must be at least 1"),
        ({"BMS_REMINDER_HOURS": "0"}, "BMS_REMINDER_HOURS must be at least 1"),
    ],
)
def test_bad_settings_say_what_and_how_to_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bms.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(SettingsError, match=r"bms\.toml: .*fix the TOML syntax"):
        load_settings({"BMS_CONFIG": str(config)})
