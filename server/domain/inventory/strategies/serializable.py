"""SERIALIZABLE isolation: read, decide and write in one serializable transaction.

PostgreSQL aborts any transaction whose interleaving is not equivalent to some serial order
(SQLSTATE 40001); that side is retried a few times with jitter. This strategy is the easiest
to reason about and the slowest under contention: it is here to be measured against.
"""

from __future__ import annotations

import asyncpg

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    backoff,
    completed,
    refusal,
)
from server.infra.database import DriverPool

MAX_ATTEMPTS = 6
RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock detected


class SerializableStrategy:
    name = "serializable"

    async def hold(self, pool: DriverPool, target: HoldTarget) -> HoldResult:
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with (
                    pool.connection() as conn,
                    conn.transaction(isolation="serializable"),
                ):
                    rows = await queries.read_seats(conn, target.show_id, target.seat_ids)
                    taken = queries.unavailable(rows, target)
                    if taken:
                        raise SeatsUnavailable(taken)
                    result = await queries.take_seats(conn, target)
                done = completed(result)
                if done:
                    return done
                raise refusal(target, result)
            except asyncpg.PostgresError as exc:
                if exc.sqlstate not in RETRYABLE:
                    raise
                await backoff(attempt)
        raise SeatsUnavailable(
            list(target.seat_ids),
            "Too many buyers are changing these seats at once; try again in a moment.",
        )
