"""The stampede: 200 buyers with real HTTP connections against a real server process.

For each lock strategy: a fresh ``bms serve`` process on the test PostgreSQL and Valkey, 200
guest buyers fighting over the seats of one show until it sells out. Afterwards SQL proves no
seat has two owners, every request got a 2xx or a clean 409/429, and the seat map the server
shows matches the database row for row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bench.stampede import (
    direct_ceiling,
    double_bookings,
    guest_tokens,
    run_stampede,
    seat_map_matches_database,
)
from server.settings import LOCK_STRATEGIES
from tests.factories import make_world

CLIENTS = 200

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("strategy", LOCK_STRATEGIES)
async def test_stampede_never_double_books(server_factory, session, engine, strategy) -> None:
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=1))
    general = list(
        await session.scalars(
            text("SELECT seat_id::text FROM show_seats WHERE show_id = :s AND NOT accessible_only"),
            {"s": world.show_id},
        )
    )
    server = server_factory(
        BMS_LOCK_STRATEGY=strategy,
        BMS_MAX_HOLDS_PER_BUYER="3",
        BMS_WAITING_ROOM_CAPACITY=str(CLIENTS),
        # All 200 buyers share one loopback address: lift the per-address request limit.
        BMS_RATE_LIMIT_PER_MINUTE="1000000",
    )
    tokens = await guest_tokens(server.url, CLIENTS)
    outcome = await run_stampede(server.url, world.show_id, general, tokens, attempts=10)

    assert set(outcome.codes) <= {201, 409, 429}, outcome.codes
    assert await double_bookings(engine, world.show_id, outcome) == 0
    assert await seat_map_matches_database(server.url, engine, world.show_id)
    assert outcome.holds > 0 and outcome.codes.get(409, 0) > 0, "the buyers really collided"
    async with engine.connect() as conn:
        blocked = await conn.scalar(
            text("SELECT count(*) FROM show_seats WHERE show_id = :s AND status = 'BLOCKED'"),
            {"s": world.show_id},
        )
    assert blocked == len(set(outcome.held_seats))


@pytest.mark.parametrize("strategy", LOCK_STRATEGIES)
async def test_the_benchmarks_no_http_ceiling_takes_seats(backend, engine, strategy) -> None:
    """``bench/stampede.py``'s ceiling drives each strategy the way the server does."""
    ceiling = await direct_ceiling(backend.database_url, backend.redlock_urls, strategy, 5)
    assert ceiling["requests_per_s"] >= ceiling["holds_per_s"] > 0
    async with engine.connect() as conn:
        blocked = await conn.scalar(
            text("SELECT count(*) FROM show_seats WHERE status = 'BLOCKED'")
        )
    assert blocked > 0
