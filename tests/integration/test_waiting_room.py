"""The per-show waiting room on real Valkey: capacity, FIFO promotion, turn timeouts, the
pre-sale shuffle, several app instances sharing one room, and the gate for seat holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import create_app
from server.clock import FrozenClock
from server.contracts.api import AdmissionOut
from server.db.models import Show
from server.domain.errors import TooManyRequests
from server.domain.live import waiting_room
from server.domain.live.waiting_room import WaitingRoom, admission_token
from server.infra.state import Services
from server.settings import Settings
from tests.factories import World, auth, make_user, make_world

T = TypeVar("T")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, waiting_room_capacity=2)


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await make_world(session, starts_at=clock.now() + timedelta(days=2), shows=2)


@pytest.fixture
async def other_client(
    client: AsyncTestClient, settings: Settings, clock: FrozenClock
) -> AsyncIterator[AsyncTestClient]:
    """A second app instance on the same database and Redis, like a second server process."""
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as second:
        yield second


class OnApp:
    """Calls into the app's services on the app's own event loop: the test client serves the
    app from a thread, and its database and Redis connections belong to that loop."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.portal = client.blocking_portal
        self.services: Services = client.app.state.services

    def __call__(self, service: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return self.portal.call(partial(service, self.services, *args, **kwargs))


async def room_key_ttls(services: Services) -> list[int]:
    keys = await services.redis.keys("bms:wr:*")
    return [await services.redis.pttl(key) for key in keys]


def room_url(show_id: uuid.UUID) -> str:
    return f"/api/v1/shows/{show_id}/admission"


async def buyers(session: AsyncSession, count: int) -> list[tuple[uuid.UUID, dict[str, str]]]:
    users = [await make_user(session) for _ in range(count)]
    return [(user.id, auth(token)) for user, token in users]


async def test_capacity_queue_and_fifo_promotion(client, session, world, clock) -> None:
    (_, alice), (_, bob), (carol_id, carol), (_, dave) = await buyers(session, 4)
    url = room_url(world.show_id)
    for admitted in (alice, bob):
        answer = await client.post(url, headers=admitted)
        assert answer.status_code == 200, answer.text
        assert answer.json()["admitted"] is True
        assert answer.json()["admission_token"]

    third = await client.post(url, headers=carol)
    fourth = await client.post(url, headers=dave)
    assert third.json()["admitted"] is False
    assert (third.json()["position"], fourth.json()["position"]) == (1, 2)
    # No admissions from the queue yet: a full 10-minute turn per capacity (2) per place.
    assert [answer.json()["estimated_wait_seconds"] for answer in (third, fourth)] == [300, 600]
    assert third.headers["retry-after"] == "15"

    assert (await client.delete(url, headers=alice)).status_code == 204
    # Dave's poll promotes the head of the line (Carol) into the freed turn.
    after = (await client.post(url, headers=dave)).json()
    assert (after["admitted"], after["position"]) == (False, 1)
    assert after["estimated_wait_seconds"] == 300  # one admission in the 5-minute window

    carol_answer = (await client.post(url, headers=carol)).json()
    assert carol_answer["admitted"] is True
    expires = int((clock.now() + timedelta(minutes=10)).timestamp())
    on_app = OnApp(client)
    secret = on_app.services.secret
    assert carol_answer["admission_token"] == admission_token(
        secret, world.show_id, carol_id, expires
    )
    ttls = on_app(room_key_ttls)
    assert ttls and all(ttl > 0 for ttl in ttls)  # abandoned rooms disappear on their own


async def test_turn_times_out_unless_renewed(client, session, world, clock) -> None:
    (_, alice), (_, bob), (_, carol) = await buyers(session, 3)
    url = room_url(world.show_id)
    for buyer in (alice, bob, carol):
        await client.post(url, headers=buyer)
    clock.advance(minutes=9)
    assert (await client.post(url, headers=alice)).json()["admitted"] is True  # renews
    clock.advance(minutes=2)

    assert (await client.post(url, headers=carol)).json()["admitted"] is True
    assert (await client.get(url, headers=alice)).json()["admitted"] is True
    bob_now = (await client.get(url, headers=bob)).json()
    assert (bob_now["admitted"], bob_now["position"]) == (False, None)


async def test_presale_draw_puts_early_arrivals_ahead_in_shuffled_order(
    client, session, world, clock
) -> None:
    on_app = OnApp(client)
    opens = clock.now() + timedelta(hours=1)
    await session.execute(
        update(Show).where(Show.id.in_(world.show_ids)).values(sale_opens_at=opens)
    )
    await session.commit()
    WaitingRoom.of(on_app.services).shuffle_seed = lambda: 20261120

    async def draw(show_id: uuid.UUID, arrivals: list[uuid.UUID]) -> list[uuid.UUID]:
        """Join before opening, open with a late arrival, and read everyone's place (room for
        one buyer at a time, so every place is distinct)."""
        clock.set(opens - timedelta(hours=1))
        for buyer in arrivals:
            waiting = on_app(waiting_room.join, show_id, buyer, capacity=1)
            assert (waiting.admitted, waiting.position) == (False, None)
            assert waiting.estimated_wait_seconds == 3600
        clock.set(opens)
        late = on_app(waiting_room.join, show_id, uuid.uuid4(), capacity=1)
        assert late.position == len(arrivals)  # one admitted at opening, the rest ahead
        places: dict[uuid.UUID, int] = {}
        for buyer in arrivals:
            # The one admitted buyer has no position: place 0, ahead of the line.
            places[buyer] = on_app(waiting_room.status, show_id, buyer, capacity=1).position or 0
        assert sorted(places.values()) == list(range(len(arrivals)))
        return sorted(arrivals, key=places.__getitem__)

    early = [uuid.uuid4() for _ in range(20)]
    first_show, second_show = world.show_ids
    order = await draw(first_show, early)
    assert sorted(order) == sorted(early)
    assert order != early
    # Same people and seed, other arrival order: the same draw (arrival order counts for nothing).
    assert await draw(second_show, early[::-1]) == order


async def test_two_app_instances_share_one_room(client, other_client, session, world) -> None:
    (_, alice), (_, bob), (_, carol), (_, dave) = await buyers(session, 4)
    url = room_url(world.show_id)
    assert (await client.post(url, headers=alice)).json()["admitted"] is True
    assert (await other_client.post(url, headers=bob)).json()["admitted"] is True
    assert (await client.post(url, headers=carol)).json()["position"] == 1
    assert (await other_client.post(url, headers=dave)).json()["position"] == 2

    assert (await other_client.delete(url, headers=alice)).status_code == 204
    assert (await other_client.post(url, headers=carol)).json()["admitted"] is True
    assert (await client.get(url, headers=dave)).json()["position"] == 1


async def script_calls(services: Services) -> int:
    stats = await services.redis.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    )


async def test_buyers_arriving_together_share_round_trips_in_order_of_arrival(
    client, world
) -> None:
    """A release night's first requests reach the room at once: they go to Redis in a few
    script calls, not one each, and are admitted and queued exactly as if one by one."""
    on_app = OnApp(client)
    arrivals = [uuid.uuid4() for _ in range(12)]

    async def together(services: Services) -> tuple[list[AdmissionOut], int]:
        before = await script_calls(services)
        answers = await asyncio.gather(
            *(waiting_room.join(services, world.show_id, buyer, capacity=5) for buyer in arrivals)
        )
        return answers, await script_calls(services) - before

    answers, calls = on_app(together)
    assert [answer.admitted for answer in answers] == [True] * 5 + [False] * 7
    assert [answer.position for answer in answers[5:]] == list(range(1, 8))
    assert calls < len(arrivals) / 2
    places = [on_app(waiting_room.status, world.show_id, b, capacity=5) for b in arrivals]
    assert [place.position for place in places[5:]] == list(range(1, 8))


async def test_check_admitted_gates_holds_with_429(client, world) -> None:
    on_app = OnApp(client)
    first, second = uuid.uuid4(), uuid.uuid4()
    # Quiet room: the hold path takes a turn on the buyer's behalf.
    on_app(waiting_room.check_admitted, world.show_id, first, capacity=1)
    assert on_app(waiting_room.status, world.show_id, first, capacity=1).admitted

    with pytest.raises(TooManyRequests) as refused:
        on_app(waiting_room.check_admitted, world.show_id, second, capacity=1)
    assert refused.value.status_code == 429
    assert refused.value.extra["position"] == 1
    assert refused.value.extra["retry_after_seconds"] == 15
    assert "number 1 in line" in refused.value.detail

    on_app(waiting_room.finish, world.show_id, first)
    on_app(waiting_room.check_admitted, world.show_id, second, capacity=1)


async def test_hold_gate_renews_a_turn_in_redis_at_most_every_30_seconds(
    client, world, clock
) -> None:
    """Clicks within 30 s of a renewal skip Redis, yet the turn never outlives its length
    counted from the last renewal, and finishing forgets it at once."""
    on_app = OnApp(client)
    buyer, rival = uuid.uuid4(), uuid.uuid4()
    on_app(waiting_room.check_admitted, world.show_id, buyer, capacity=1)
    turn_ends = on_app(waiting_room.status, world.show_id, buyer, capacity=1).admission_token

    clock.advance(seconds=20)
    on_app(waiting_room.check_admitted, world.show_id, buyer, capacity=1)  # within 30 s: local
    assert on_app(waiting_room.status, world.show_id, buyer, capacity=1).admission_token == (
        turn_ends
    )
    clock.advance(seconds=15)
    on_app(waiting_room.check_admitted, world.show_id, buyer, capacity=1)  # renewed in Redis
    renewed = on_app(waiting_room.status, world.show_id, buyer, capacity=1).admission_token
    assert renewed != turn_ends

    on_app(waiting_room.finish, world.show_id, buyer)
    on_app(waiting_room.check_admitted, world.show_id, rival, capacity=1)
    with pytest.raises(TooManyRequests):  # the finished buyer is not waved through locally
        on_app(waiting_room.check_admitted, world.show_id, buyer, capacity=1)


async def test_delete_leaves_the_queue(client, session, world) -> None:
    (_, alice), (_, bob), (_, carol), (_, dave) = await buyers(session, 4)
    url = room_url(world.show_id)
    for buyer in (alice, bob, carol, dave):
        await client.post(url, headers=buyer)
    assert (await client.delete(url, headers=carol)).status_code == 204
    assert (await client.delete(url, headers=carol)).status_code == 204  # harmless twice

    assert (await client.get(url, headers=dave)).json()["position"] == 1
    gone = (await client.get(url, headers=carol)).json()
    assert (gone["admitted"], gone["position"]) == (False, None)
    assert gone["estimated_wait_seconds"] == 600  # what joining again would cost: place 2


async def test_unknown_show_and_missing_token_are_clear_problems(client, session) -> None:
    [(_, alice)] = await buyers(session, 1)
    missing = await client.post(room_url(uuid.uuid4()), headers=alice)
    assert missing.status_code == 404
    assert "no show" in missing.json()["detail"]
    anonymous = await client.post(room_url(uuid.uuid4()))
    assert anonymous.status_code == 401
