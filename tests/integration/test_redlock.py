"""Redlock specifics: quorum, release, and the fencing token checked by PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

from redis.asyncio import Redis

from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies.redlock import Redlock
from tests.factories import make_user, make_world


async def test_lock_needs_a_majority_and_excludes_others(backend) -> None:
    nodes = [Redis.from_url(url) for url in backend.redlock_urls]
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    first = Redlock(nodes)
    lease = await first.acquire(["k1", "k2"])
    assert lease is not None
    assert await Redlock(nodes).acquire(["k2", "k3"]) is None  # k2 is taken on every node
    await first.release(lease)
    assert await Redlock(nodes).acquire(["k2", "k3"]) is not None
    # Two of three nodes still form a quorum; one of three does not.
    assert await Redlock([nodes[0], nodes[1], dead]).acquire(["q1"]) is not None
    assert await Redlock([nodes[0], dead, dead]).acquire(["q2"]) is None
    for node in [*nodes, dead]:
        await node.aclose()


async def test_stale_writer_is_refused_by_the_fence(session, driver_pool, clock) -> None:
    """A writer holding an older fencing token cannot overwrite a newer one's seats."""
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    buyer, _ = await make_user(session)
    seat = (world.seats["C3"],)

    def target() -> HoldTarget:
        return HoldTarget(
            hold_id=uuid.uuid4(),
            show_id=world.show_id,
            buyer_id=buyer.id,
            seat_ids=seat,
            now=clock.now(),
            expires_at=clock.now() + timedelta(minutes=10),
            accessible=False,
            channel="online",
        )

    async with driver_pool.connection() as conn:
        taken = await queries.take_seats(conn, target(), fence=100)
        assert len(taken.seats) == 1
    clock.advance(minutes=11)  # the first hold expired: the seat is free again
    async with driver_pool.connection() as conn:
        stale = await queries.take_seats(conn, target(), fence=99)
        assert not stale.complete and stale.seats == []
    async with driver_pool.connection() as conn:
        fresh = await queries.take_seats(conn, target(), fence=101)
        assert len(fresh.seats) == 1
