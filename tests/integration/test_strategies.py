"""The same correctness suite for all four lock strategies, under real concurrency.

Many buyers (separate database connections) fight over overlapping seats of one show; after
the dust settles, SQL proves that no seat has two owners and every answer was clean.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.settings import LOCK_STRATEGIES
from tests.factories import auth, make_user, make_world

pytestmark = pytest.mark.parametrize("strategy", LOCK_STRATEGIES)


@pytest.fixture
async def strategy_client(engine, settings, clock, strategy):
    from server.app import create_app

    app = create_app(replace(settings, lock_strategy=strategy), clock=clock)
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_overlapping_buyers_never_share_a_seat(
    strategy_client, session, engine, clock, strategy
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    row_e = [world.seats[f"E{n}"] for n in range(1, 13)]
    tokens = [(await make_user(session))[1] for _ in range(40)]
    rng = random.Random(7)
    wanted = [rng.sample(row_e, rng.randint(1, 4)) for _ in tokens]
    url = f"/api/v1/shows/{world.show_id}/holds"

    async def attempt(token: str, seats: list[uuid.UUID]):
        return await strategy_client.post(
            url, json={"seat_ids": [str(s) for s in seats]}, headers=auth(token)
        )

    answers = await asyncio.gather(*(attempt(t, s) for t, s in zip(tokens, wanted, strict=True)))
    assert {a.status_code for a in answers} <= {201, 409}, [a.text for a in answers]
    won = [a.json() for a in answers if a.status_code == 201]
    assert won, "someone must get seats"

    claimed = [seat for hold in won for seat in hold["seat_ids"]]
    assert len(claimed) == len(set(claimed)), "a seat was handed to two holds"
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT seat_id::text, hold_id::text FROM show_seats"
                    " WHERE show_id = :s AND status = 'BLOCKED'"
                ),
                {"s": world.show_id},
            )
        ).all()
        holds = await conn.scalar(
            text("SELECT count(*) FROM holds WHERE show_id = :s AND status = 'ACTIVE'"),
            {"s": world.show_id},
        )
    owner = dict(rows)
    assert holds == len(won)
    assert owner == {seat: hold["hold_id"] for hold in won for seat in hold["seat_ids"]}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["unavailable"], "a 409 names the seats that are gone"


async def test_whole_show_sells_out_exactly_once(
    strategy_client, session, engine, clock, strategy
) -> None:
    world = await make_world(
        session, starts_at=clock.now() + timedelta(days=1), layout="recliner-lounge-40"
    )
    seat_ids = sorted(world.seats.values())
    buyers = [(await make_user(session))[1] for _ in range(30)]
    url = f"/api/v1/shows/{world.show_id}/holds"
    rng = random.Random(11)

    async def buyer(token: str) -> int:
        got = 0
        for _ in range(6):
            pick = rng.sample(seat_ids, 2)
            answer = await strategy_client.post(
                url,
                json={"seat_ids": [str(s) for s in pick], "accessible": True},
                headers=auth(token),
            )
            assert answer.status_code in {201, 409, 429}, answer.text
            got += 2 if answer.status_code == 201 else 0
        return got

    total = sum(await asyncio.gather(*(buyer(t) for t in buyers)))
    async with engine.connect() as conn:
        blocked = await conn.scalar(
            text("SELECT count(*) FROM show_seats WHERE show_id = :s AND status = 'BLOCKED'"),
            {"s": world.show_id},
        )
        held = await conn.scalar(
            text(
                "SELECT count(*) FROM hold_seats hs JOIN holds h ON h.id = hs.hold_id"
                " WHERE h.show_id = :s AND h.status = 'ACTIVE'"
            ),
            {"s": world.show_id},
        )
    assert blocked == held == total
