"""SERIALIZABLE isolation: PostgreSQL detects any interleaving that is not equivalent to some
serial order and aborts one side (SQLSTATE 40001); we retry that side a few times."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
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
from server.domain.inventory.strategies.pessimistic import _sqlstate

MAX_ATTEMPTS = 6
RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock detected


class SerializableStrategy:
    name = "serializable"

    async def hold(self, engine: AsyncEngine, target: HoldTarget) -> HoldResult:
        serializable = engine.execution_options(isolation_level="SERIALIZABLE")
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with serializable.begin() as conn:
                    rows = await queries.read_seats(
                        conn, target.show_id, target.seat_ids, lock=False
                    )
                    taken = queries.unavailable(rows, target)
                    if taken:
                        raise SeatsUnavailable(taken)
                    return await take_or_raise(conn, target)
            except _Incomplete:
                break
            except DBAPIError as exc:
                if _sqlstate(exc) not in RETRYABLE:
                    raise
                await backoff(attempt)
        raise await explain_conflict(engine, target)
