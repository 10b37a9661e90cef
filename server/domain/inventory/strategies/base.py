"""What every lock strategy provides, and the outcome types they share."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from server.domain.errors import Conflict, DomainError, TooManyRequests
from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget, TakeResult
from server.infra.database import DriverPool


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

    async def hold(self, pool: DriverPool, target: HoldTarget) -> HoldResult: ...


def completed(result: TakeResult) -> HoldResult | None:
    if result.sequence is None:
        return None
    return HoldResult(seats=result.seats, sequence=result.sequence)


def refusal(target: HoldTarget, result: TakeResult) -> DomainError:
    if not result.within_quota and len(result.still_free) == len(target.seat_ids):
        return TooManyRequests(
            f"You already have {target.max_holds} live holds for this show; book or release "
            "one first."
        )
    taken = [seat for seat in target.seat_ids if seat not in result.still_free]
    if taken:
        return SeatsUnavailable(taken)
    return SeatsUnavailable(
        list(target.seat_ids),
        "Those seats were being taken by another buyer at the same moment; try again.",
    )


async def read_unavailable(conn: asyncpg.Connection, target: HoldTarget) -> list[uuid.UUID]:
    rows = await queries.read_seats(conn, target.show_id, target.seat_ids)
    return queries.unavailable(rows, target)


async def backoff(attempt: int, base: float = 0.005, cap: float = 0.1) -> None:
    """Full-jitter exponential backoff, so retrying buyers do not collide again in lockstep."""
    await asyncio.sleep(random.uniform(0, min(cap, base * 2**attempt)))
