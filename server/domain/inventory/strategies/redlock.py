"""Redlock over N independent Redis/Valkey nodes, with a fencing token checked by PostgreSQL.

Per-seat lock keys are acquired in sorted order on every node; the lock counts only when a
majority of nodes granted every key within the lock's validity time. Redlock alone is not safe
(a paused process can outlive its lock), so right after acquiring, the holder draws a fencing
token from a PostgreSQL sequence (durable and strictly increasing, unlike a Redis counter that a
flush would reset). The database write requires ``fence < token`` on every seat, so a writer
whose lock expired and was re-granted to someone else carries an older token and is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    completed,
    refusal,
)
from server.infra.database import DriverPool

LOCK_TTL_MS = 5_000
CLOCK_DRIFT_FACTOR = 0.01

# Take every key or none on one node: SET NX each, undo the ones we set if any is taken.
_ACQUIRE = """
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) == false then
    for j = 1, i - 1 do
      if redis.call('GET', KEYS[j]) == ARGV[1] then redis.call('DEL', KEYS[j]) end
    end
    return 0
  end
end
return 1
"""

# Delete only keys that still carry our random value (never another holder's lock).
_RELEASE = """
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then n = n + redis.call('DEL', key) end
end
return n
"""


@dataclass(frozen=True, slots=True)
class Lease:
    keys: list[str]
    value: str


class Redlock:
    def __init__(self, nodes: list[Redis], ttl_ms: int = LOCK_TTL_MS) -> None:
        if len(nodes) < 3:
            raise ValueError("Redlock needs at least 3 independent Redis nodes")
        self.nodes = nodes
        self.ttl_ms = ttl_ms
        self.quorum = len(nodes) // 2 + 1

    async def acquire(self, keys: list[str]) -> Lease | None:
        value = secrets.token_hex(16)
        started = time.monotonic()
        results = await asyncio.gather(
            *(self._acquire_on(node, keys, value) for node in self.nodes)
        )
        granted = [node for node, ok in zip(self.nodes, results, strict=True) if ok]
        elapsed_ms = (time.monotonic() - started) * 1000
        validity = self.ttl_ms - elapsed_ms - self.ttl_ms * CLOCK_DRIFT_FACTOR - 2
        if len(granted) < self.quorum or validity <= 0:
            await self._release_on(self.nodes, keys, value)
            return None
        return Lease(keys=keys, value=value)

    async def release(self, lease: Lease) -> None:
        await self._release_on(self.nodes, lease.keys, lease.value)

    async def _acquire_on(self, node: Redis, keys: list[str], value: str) -> bool:
        try:
            return bool(await _eval(node, _ACQUIRE, keys, value, str(self.ttl_ms)))
        except (RedisError, OSError):
            return False  # an unreachable node simply does not vote

    async def _release_on(self, nodes: list[Redis], keys: list[str], value: str) -> None:
        async def one(node: Redis) -> None:
            with contextlib.suppress(RedisError, OSError):  # the key expires by itself anyway
                await _eval(node, _RELEASE, keys, value)

        await asyncio.gather(*(one(node) for node in nodes))


async def _eval(node: Redis, script: str, keys: list[str], *args: str) -> Any:
    # redis-py types eval for both its sync and async clients; this client is async.
    return await cast(Awaitable[Any], node.eval(script, len(keys), *keys, *args))


def seat_keys(show_id: uuid.UUID, seat_ids: tuple[uuid.UUID, ...]) -> list[str]:
    # A hash tag keeps one show's keys on one slot should the nodes ever be clusters.
    return [f"bms:lock:{{{show_id}}}:{seat}" for seat in sorted(seat_ids)]


class RedlockStrategy:
    name = "redlock"

    def __init__(self, redlock: Redlock) -> None:
        self.redlock = redlock

    async def hold(self, pool: DriverPool, target: HoldTarget) -> HoldResult:
        lease = await self.redlock.acquire(seat_keys(target.show_id, target.seat_ids))
        if lease is None:
            raise SeatsUnavailable(
                list(target.seat_ids),
                "Another buyer is taking some of these seats right now; try again in a moment "
                "or pick other seats.",
            )
        try:
            async with pool.connection() as conn:
                fence = await queries.next_fence(conn)
                result = await queries.take_seats(conn, target, fence=fence)
        finally:
            await self.redlock.release(lease)
        done = completed(result)
        if done is None:
            raise refusal(target, result)
        return done
