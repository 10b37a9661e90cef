"""Four ways to take a hold, one guarantee. ``BMS_LOCK_STRATEGY`` picks one; all of them pass
the same correctness suite, and the database constraints stop a double booking whatever a
strategy does."""

from __future__ import annotations

from redis.asyncio import Redis

from server.domain.inventory.strategies.base import HoldResult, LockStrategy, SeatsUnavailable
from server.domain.inventory.strategies.optimistic import OptimisticStrategy
from server.domain.inventory.strategies.pessimistic import PessimisticStrategy
from server.domain.inventory.strategies.redlock import Redlock, RedlockStrategy
from server.domain.inventory.strategies.serializable import SerializableStrategy

__all__ = ["HoldResult", "LockStrategy", "SeatsUnavailable", "make_strategy"]


def make_strategy(name: str, redlock_urls: tuple[str, ...] = ()) -> LockStrategy:
    if name == "optimistic":
        return OptimisticStrategy()
    if name == "pessimistic":
        return PessimisticStrategy()
    if name == "serializable":
        return SerializableStrategy()
    if name == "redlock":
        nodes = [Redis.from_url(url) for url in redlock_urls]
        return RedlockStrategy(Redlock(nodes))
    raise ValueError(f"unknown lock strategy {name!r}")
