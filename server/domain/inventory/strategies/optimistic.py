"""Optimistic locking: read versions without locks, write only if nothing changed since.

A seat that is really taken ends the attempt at once with a 409. A seat whose version moved
on between our read and our write (someone held and released it meanwhile) costs a short
jittered retry with a fresh read, a bounded number of times.
"""

from __future__ import annotations

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    backoff,
    completed,
    read_unavailable,
    refusal,
)
from server.infra.database import DriverPool

MAX_ATTEMPTS = 4


class OptimisticStrategy:
    name = "optimistic"

    async def hold(self, pool: DriverPool, target: HoldTarget) -> HoldResult:
        async with pool.connection() as conn:
            for attempt in range(MAX_ATTEMPTS):
                rows = await queries.read_seats(conn, target.show_id, target.seat_ids)
                taken = queries.unavailable(rows, target)
                if taken:
                    raise SeatsUnavailable(taken)
                versions = {row.seat_id: row.version for row in rows}
                result = await queries.take_seats(conn, target, expected_versions=versions)
                done = completed(result)
                if done:
                    return done
                if not result.within_quota:
                    raise refusal(target, result)
                await backoff(attempt)
            taken = await read_unavailable(conn, target)
        raise SeatsUnavailable(taken) if taken else refusal(target, result)
