"""The same correctness suite for all four lock strategies, under real concurrency.

Many buyers, each on its own database connection, run a strategy's hold at the same moment
over overlapping seats of one show; afterwards SQL proves that no seat has two owners and
that every refusal was a clean conflict. (The HTTP-level stampede against a real server
process is tests/e2e/test_stampede.py.)
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from server.domain.errors import TooManyRequests
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies import SeatsUnavailable, make_strategy
from server.settings import LOCK_STRATEGIES
from tests.factories import make_user, make_world

pytestmark = pytest.mark.parametrize("strategy_name", LOCK_STRATEGIES)


def target_for(world, buyer_id, seats, clock, *, max_holds=1_000_000) -> HoldTarget:
    now = clock.now()
    return HoldTarget(
        hold_id=uuid.uuid4(),
        show_id=world.show_id,
        buyer_id=buyer_id,
        seat_ids=tuple(sorted(seats)),
        now=now,
        expires_at=now + timedelta(minutes=10),
        accessible=True,
        channel="online",
        max_holds=max_holds,
    )


async def owners(engine, show_id) -> dict[uuid.UUID, uuid.UUID]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT seat_id, hold_id FROM show_seats WHERE show_id = :s AND status = 'BLOCKED'"
            ),
            {"s": show_id},
        )
        return dict(rows.all())


async def test_overlapping_buyers_never_share_a_seat(
    session, engine, driver_pool, backend, clock, strategy_name
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    buyer, _ = await make_user(session)
    strategy = make_strategy(strategy_name, backend.redlock_urls)
    row_e = [world.seats[f"E{n}"] for n in range(1, 13)]
    rng = random.Random(7)
    targets = [
        target_for(world, buyer.id, rng.sample(row_e, rng.randint(1, 4)), clock) for _ in range(60)
    ]

    async def attempt(target: HoldTarget):
        try:
            return await strategy.hold(driver_pool, target)
        except SeatsUnavailable as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt(t) for t in targets))
    won = [t for t, o in zip(targets, outcomes, strict=True) if not isinstance(o, Exception)]
    assert won, "someone must get seats"
    claimed = [seat for t in won for seat in t.seat_ids]
    assert len(claimed) == len(set(claimed)), "a seat was handed to two holds"
    assert await owners(engine, world.show_id) == {
        seat: t.hold_id for t in won for seat in t.seat_ids
    }
    for target, outcome in zip(targets, outcomes, strict=True):
        if isinstance(outcome, SeatsUnavailable):
            assert set(outcome.unavailable) <= set(target.seat_ids)
            assert outcome.unavailable, "a refusal names the seats that are gone"


async def test_whole_show_sells_out_exactly_once(
    session, engine, driver_pool, backend, clock, strategy_name
) -> None:
    world = await make_world(
        session, starts_at=clock.now() + timedelta(days=1), layout="recliner-lounge-40"
    )
    buyer, _ = await make_user(session)
    strategy = make_strategy(strategy_name, backend.redlock_urls)
    seats = sorted(world.seats.values())
    rng = random.Random(11)

    async def buyer_loop(index: int) -> list[uuid.UUID]:
        mine: list[uuid.UUID] = []
        for _ in range(8):
            target = target_for(world, buyer.id, rng.sample(seats, 2), clock)
            try:
                await strategy.hold(driver_pool, target)
                mine += target.seat_ids
            except SeatsUnavailable:
                pass
        return mine

    held = [
        seat for part in await asyncio.gather(*(buyer_loop(i) for i in range(25))) for seat in part
    ]
    assert len(held) == len(set(held))
    assert set((await owners(engine, world.show_id)).keys()) == set(held)


async def test_per_buyer_quota_is_enforced_by_the_statement(
    session, engine, driver_pool, backend, clock, strategy_name
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    buyer, _ = await make_user(session)
    strategy = make_strategy(strategy_name, backend.redlock_urls)
    await strategy.hold(
        driver_pool, target_for(world, buyer.id, [world.seats["A1"]], clock, max_holds=1)
    )
    with pytest.raises(TooManyRequests):
        await strategy.hold(
            driver_pool, target_for(world, buyer.id, [world.seats["A2"]], clock, max_holds=1)
        )
