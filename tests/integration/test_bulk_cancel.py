"""Bulk cancellation through the real app: a dry run changes nothing, a run interrupted after
the gateway refunded but before we heard back is finished by a second run without refunding
anything twice, and a third run has nothing left to do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.domain.payments.gateway import GatewayResult
from server.domain.payments.simulator import SimulatorGateway
from tests.factories import World, auth, make_user, make_world
from tests.integration.test_cancellation import ONE_SEAT, buy, refunded_at_gateway
from tests.integration.test_checkout import count, new_buyer

URL = "/api/v1/admin/cancellations"


class DropsAfterRefunding(SimulatorGateway):
    """The simulator, except that the connection drops on the n-th refund just after the
    gateway made it: we never hear that it went through."""

    def __init__(self, redis: Redis, secret: str, drop_on: int) -> None:
        super().__init__(redis, secret)
        self.calls = 0
        self.drop_on = drop_on

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        result = await super().refund(capture_id, amount_minor, idempotency_key)
        self.calls += 1
        if self.calls == self.drop_on:
            raise ConnectionResetError("the connection dropped before the answer arrived")
        return result


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await make_world(session, starts_at=clock.now() + timedelta(days=2), shows=2)


@pytest.fixture
async def redis(settings: Any) -> Any:
    connection = Redis.from_url(settings.redis_url)
    yield connection
    await connection.aclose()


async def statuses(engine: AsyncEngine, sql: str) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).scalars())


async def test_bulk_cancellation_can_be_run_again_after_an_interruption(
    client, session, engine, redis, world
) -> None:
    buyers = [(await new_buyer(session))[1] for _ in range(3)]
    second_show = world.show_ids[1]
    sold = [
        await buy(client, buyers[0], world, "E7"),
        await buy(client, buyers[1], world, "E8"),
    ]
    later = World(world.city_id, world.theater_id, world.screen_id, world.movie_id,
                  [second_show], world.seats)  # fmt: skip
    sold.append(await buy(client, buyers[2], later, "E7"))
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    body = {
        "theater_id": str(world.theater_id),
        "from": "2026-11-22",
        "to": "2026-11-22",
        "reason": "flooded lobby",
    }

    assert (await client.post(URL, json=body, headers=auth(stranger))).status_code == 403
    assert (await client.post(URL, json=body, headers=buyers[0])).status_code == 403
    both = {**body, "screen_id": str(world.screen_id)}
    assert (await client.post(URL, json=both, headers=auth(manager))).status_code == 422
    backwards = {**body, "from": "2026-11-23"}
    assert (await client.post(URL, json=backwards, headers=auth(manager))).status_code == 422

    by_screen = {**body, "theater_id": None, "screen_id": str(world.screen_id), "dry_run": True}
    preview = (await client.post(URL, json=by_screen, headers=auth(manager))).json()
    assert (preview["dry_run"], preview["shows_cancelled"], preview["bookings_refunded"]) == (
        True,
        2,
        3,
    )
    assert preview["refund_minor"] == 3 * ONE_SEAT and preview["currency"] == "INR"
    assert await statuses(engine, "SELECT status FROM shows") == ["SCHEDULED"] * 2
    assert await count(engine, "SELECT count(*) FROM refunds") == 0

    services = client.app.state.services
    services.extras["card_gateway"] = DropsAfterRefunding(services.redis, services.secret, 2)
    interrupted = await client.post(URL, json=body, headers=auth(manager))
    assert interrupted.status_code == 500
    assert await statuses(engine, "SELECT status FROM bookings ORDER BY status") == [
        "CANCELLED",
        "CANCELLED",
        "CONFIRMED",
    ]
    assert await statuses(engine, "SELECT status FROM refunds ORDER BY status") == [
        "PENDING",
        "SUCCEEDED",
    ]

    services.extras["card_gateway"] = SimulatorGateway(services.redis, services.secret)
    finished = (await client.post(URL, json=body, headers=auth(manager))).json()
    assert (finished["shows_cancelled"], finished["bookings_refunded"]) == (1, 1)
    assert (finished["bookings_skipped"], finished["refund_minor"]) == (2, ONE_SEAT)
    assert (finished["refunds_pending"], finished["refunds_failed"]) == (0, 0)
    assert await statuses(engine, "SELECT DISTINCT status FROM refunds") == ["SUCCEEDED"]
    assert await statuses(engine, "SELECT DISTINCT status FROM shows") == ["CANCELLED"]
    for booked in sold:
        assert await refunded_at_gateway(redis, engine, booked["code"]) == [ONE_SEAT]
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'show.cancelled'") == 3

    again = (await client.post(URL, json=body, headers=auth(manager))).json()
    assert (again["shows_cancelled"], again["bookings_refunded"], again["bookings_skipped"]) == (
        0,
        0,
        3,
    )
    assert await count(engine, "SELECT count(*) FROM refunds") == 3
    assert await count(engine, "SELECT sum(refunded_minor) FROM bookings") == 3 * ONE_SEAT
