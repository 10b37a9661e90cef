"""Everything a request handler may need, built once per process and shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.clock import Clock
from server.domain.accounts.principal import Principal
from server.domain.accounts.services import token_cache
from server.infra.database import DriverPool
from server.infra.ttl_cache import TtlCache
from server.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    driver_pool: DriverPool  # asyncpg's own pool, for taking seats
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    clock: Clock
    secret: str
    tokens: TtlCache[str, Principal] = field(default_factory=token_cache)
    # Filled by the lifespan: the lock strategy, the live-feed publisher, background tasks.
    extras: dict[str, Any] = field(default_factory=dict)
