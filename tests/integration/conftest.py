"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from server.clock import FrozenClock
from server.domain.notifications.providers import Providers, build_providers, load_settings
from server.infra.database import DriverPool, make_sessionmaker
from server.infra.state import Services
from server.settings import Settings
from tests.mailbox import Mailbox


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """The SMTP server, configured through the same environment variables as production."""
    box = Mailbox()
    box.start()
    monkeypatch.setenv("BMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BMS_SMTP_PORT", str(box.port))
    monkeypatch.setenv("BMS_SMTP_STARTTLS", "false")
    monkeypatch.setenv("BMS_SMTP_FROM", "Test Cinema <tickets@cinema.example.test>")
    monkeypatch.delenv("BMS_SMS_PROVIDER", raising=False)
    yield box
    box.stop()


@pytest.fixture
async def services(
    engine: AsyncEngine, driver_pool: DriverPool, settings: Settings, clock: FrozenClock
) -> AsyncIterator[Services]:
    """The app's collaborators without the app, so no background job races the test."""
    redis = Redis.from_url(settings.redis_url or "")
    yield Services(
        settings=settings,
        engine=engine,
        driver_pool=driver_pool,
        sessions=make_sessionmaker(engine),
        redis=redis,
        clock=clock,
        secret="test",
    )
    await redis.aclose()


@pytest.fixture
def providers(mailbox: Mailbox, tmp_path: Path) -> Providers:
    """The delivery providers the worker would build, sending to the test mailbox."""
    return build_providers(load_settings(), tmp_path / "drop")
