"""The route table and background tasks of every domain slice, in one readable list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar
from redis.asyncio import Redis

from server.domain.accounts.controllers import AccountController, AuthController
from server.domain.health.controllers import HealthController
from server.infra.state import Services


def handlers() -> list[Any]:
    return [HealthController, AuthController, AccountController]


def plugins(redis: Redis) -> list[Any]:
    return []


@asynccontextmanager
async def background(app: Litestar, services: Services) -> AsyncIterator[None]:
    """Start the per-process background tasks (sweepers, outbox worker) and stop them after."""
    async with AsyncExitStack():
        yield
