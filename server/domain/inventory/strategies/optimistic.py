"""Optimistic locking: read versions without locks, write only if nothing changed.

A conflict (a row moved on since we read it) costs a rollback and a short jittered retry; a
seat that is really taken ends the attempt at once with a 409.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    _Incomplete,
    backoff,
    explain_conflict,
    take_or_raise,
)

MAX_ATTEMPTS = 4


class OptimisticStrategy:
    name = "optimistic"

    async def hold(self, engine: AsyncEngine, target: HoldTarget) -> HoldResult:
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with engine.begin() as conn:
                    rows = await queries.read_seats(
                        conn, target.show_id, target.seat_ids, lock=False
                    )
                    taken = queries.unavailable(rows, target)
                    if taken:
                        raise SeatsUnavailable(taken)
                    versions = {row.seat_id: row.version for row in rows}
                    return await take_or_raise(conn, target, expected_versions=versions)
            except _Incomplete:
                await backoff(attempt)
        raise await explain_conflict(engine, target)
