"""What every lock strategy provides, and the outcome types they share."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.domain.errors import Conflict
from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget


@dataclass(frozen=True, slots=True)
class HoldResult:
    seats: list[tuple[uuid.UUID, int]]  # (seat id, new version)
    sequence: int


class SeatsUnavailable(Conflict):
    """Some of the requested seats are taken: the 409 every strategy answers with."""

    def __init__(self, unavailable: list[uuid.UUID], detail: str | None = None) -> None:
        count = len(unavailable)
        super().__init__(
            detail
            or (
                f"{count} of the seats you picked {'is' if count == 1 else 'are'} no longer "
                "available; refresh the seat map and choose again."
            ),
            unavailable=[str(seat) for seat in unavailable],
        )
        self.unavailable = unavailable


class LockStrategy(Protocol):
    name: str

    async def hold(self, engine: AsyncEngine, target: HoldTarget) -> HoldResult: ...


class _Incomplete(Exception):
    """Fewer seats were taken than asked: roll back the transaction (all-or-nothing)."""


async def take_or_raise(
    conn: AsyncConnection,
    target: HoldTarget,
    *,
    expected_versions: dict[uuid.UUID, int] | None = None,
    fence: int | None = None,
) -> HoldResult:
    """Run the take statement; raise _Incomplete (so the caller rolls back) unless all seats."""
    seats, sequence = await queries.take_seats(
        conn, target, expected_versions=expected_versions, fence=fence
    )
    if len(seats) != len(target.seat_ids) or sequence is None:
        raise _Incomplete
    return HoldResult(seats=seats, sequence=sequence)


async def explain_conflict(engine: AsyncEngine, target: HoldTarget) -> SeatsUnavailable:
    """After a failed attempt, read which seats are taken now so the 409 can name them."""
    async with engine.connect() as conn:
        rows = await queries.read_seats(conn, target.show_id, target.seat_ids, lock=False)
    taken = queries.unavailable(rows, target)
    if taken:
        return SeatsUnavailable(taken)
    # Everything looks free again: another buyer was mid-change and then let go.
    return SeatsUnavailable(
        list(target.seat_ids),
        "Those seats were being taken by another buyer at the same moment; try again.",
    )


async def backoff(attempt: int, base: float = 0.005, cap: float = 0.1) -> None:
    """Full-jitter exponential backoff, so retrying buyers do not collide again in lockstep."""
    await asyncio.sleep(random.uniform(0, min(cap, base * 2**attempt)))
