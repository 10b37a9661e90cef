"""Pessimistic locking: lock the wanted rows in seat order, check them, then write.

Locks are taken in one global order (seat id), so two buyers wanting overlapping seats never
deadlock. ``lock_timeout`` bounds the wait: nobody queues behind a slow transaction forever.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.base import (
    HoldResult,
    SeatsUnavailable,
    _Incomplete,
    explain_conflict,
    take_or_raise,
)

LOCK_TIMEOUT = "2s"


class PessimisticStrategy:
    name = "pessimistic"

    async def hold(self, engine: AsyncEngine, target: HoldTarget) -> HoldResult:
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                rows = await queries.read_seats(conn, target.show_id, target.seat_ids, lock=True)
                taken = queries.unavailable(rows, target)
                if taken:
                    raise SeatsUnavailable(taken)
                return await take_or_raise(conn, target)
        except _Incomplete:
            raise await explain_conflict(engine, target) from None
        except DBAPIError as exc:
            if _sqlstate(exc) == "55P03":  # lock_not_available: the wait timed out
                raise await explain_conflict(engine, target) from None
            raise


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(
        getattr(exc.orig, "__cause__", None), "sqlstate", None
    )
