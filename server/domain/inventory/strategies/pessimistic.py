"""Pessimistic locking: lock the wanted rows in seat order before selecting, then write.

The take statement locks the requested rows (``SELECT … ORDER BY seat_id FOR UPDATE``) and
writes only if all of them are free, in one statement: locks are taken in one global order,
so overlapping buyers never deadlock, and they are held only while that statement runs. The
connections' ``lock_timeout`` (SERVER_SETTINGS in server/infra/database.py) bounds any wait.
"""

from __future__ import annotations

import asyncpg

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    completed,
    refusal,
)
from server.infra.database import DriverPool

LOCK_NOT_AVAILABLE = "55P03"


class PessimisticStrategy:
    name = "pessimistic"

    async def hold(self, pool: DriverPool, target: HoldTarget) -> HoldResult:
        try:
            async with pool.connection() as conn:
                result = await queries.take_seats(conn, target)
        except asyncpg.PostgresError as exc:
            if exc.sqlstate == LOCK_NOT_AVAILABLE:
                raise SeatsUnavailable(
                    list(target.seat_ids),
                    "These seats are busy right now (another sale is in progress); try again.",
                ) from None
            raise
        done = completed(result)
        if done is None:
            raise refusal(target, result)
        return done
