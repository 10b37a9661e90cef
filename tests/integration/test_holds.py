"""Holds through the real app: all-or-nothing, conflicts, expiry by clock, release, seat map."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import IDEMPOTENCY_IN_PROGRESS, Role
from server.domain.idempotency import PENDING
from tests.factories import auth, make_user, make_world


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock):
    return await make_world(session, starts_at=clock.now() + timedelta(days=2))


async def test_hold_then_conflict_then_release(client: AsyncTestClient, session, world) -> None:
    _, alice = await make_user(session)
    _, bob = await make_user(session)
    seats = [str(world.seats["E7"]), str(world.seats["E8"])]
    first = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": seats}, headers=auth(alice)
    )
    assert first.status_code == 201, first.text
    hold = first.json()
    assert sorted(hold["seat_ids"]) == sorted(seats)

    overlap = [seats[1], str(world.seats["E9"])]
    second = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": overlap}, headers=auth(bob)
    )
    assert second.status_code == 409
    assert second.json()["unavailable"] == [seats[1]]

    seatmap = (await client.get(f"/api/v1/shows/{world.show_id}/seatmap")).json()
    status = {s["seat_id"]: s["status"] for s in seatmap["seats"]}
    assert status[seats[0]] == status[seats[1]] == "BLOCKED"
    assert status[str(world.seats["E9"])] == "AVAILABLE"  # all-or-nothing: E9 not kept

    released = await client.delete(f"/api/v1/holds/{hold['hold_id']}", headers=auth(alice))
    assert released.status_code == 204
    retry = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": overlap}, headers=auth(bob)
    )
    assert retry.status_code == 201


async def test_expired_hold_never_blocks(client, session, world, clock: FrozenClock) -> None:
    _, alice = await make_user(session)
    _, bob = await make_user(session)
    seat = [str(world.seats["F5"])]
    url = f"/api/v1/shows/{world.show_id}/holds"
    assert (await client.post(url, json={"seat_ids": seat}, headers=auth(alice))).status_code == 201
    clock.advance(minutes=9, seconds=59)
    assert (await client.post(url, json={"seat_ids": seat}, headers=auth(bob))).status_code == 409
    clock.advance(seconds=1)
    # No sweeper has to run first: the hold statement itself treats the expired hold as free.
    assert (await client.post(url, json={"seat_ids": seat}, headers=auth(bob))).status_code == 201


async def test_idempotent_retry_returns_the_same_hold(client, session, world) -> None:
    _, alice = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/holds"
    body = {"seat_ids": [str(world.seats["G1"])]}
    headers = {**auth(alice), "Idempotency-Key": "abc-123"}
    first, second = [await client.post(url, json=body, headers=headers) for _ in range(2)]
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = await client.post(url, json={"seat_ids": [str(world.seats["G2"])]}, headers=headers)
    assert other.status_code == 422
    # Once the hold is given back, a retry must not tell the client it still has the seats.
    hold_id = first.json()["hold_id"]
    assert (await client.delete(f"/api/v1/holds/{hold_id}", headers=auth(alice))).status_code == 204
    stale = await client.post(url, json=body, headers=headers)
    assert stale.status_code == 409 and stale.json()["reason"] == "hold_released", stale.text
    quoted = await client.post(f"/api/v1/holds/{hold_id}/quote", json={}, headers=auth(alice))
    assert quoted.status_code == 409 and "was released" in quoted.json()["detail"]


async def test_a_retry_while_the_first_request_runs_is_asked_to_wait(
    client, session, settings, world
) -> None:
    user, token = await make_user(session)
    redis = Redis.from_url(settings.redis_url)
    await redis.set(f"bms:idem:{user.id}:slow", PENDING)  # the first request is still running
    await redis.aclose()
    url = f"/api/v1/shows/{world.show_id}/holds"
    headers = {**auth(token), "Idempotency-Key": "slow"}
    retry = await client.post(url, json={"seat_ids": [str(world.seats["G1"])]}, headers=headers)
    assert retry.status_code == 409
    assert retry.json()["reason"] == IDEMPOTENCY_IN_PROGRESS  # the TUI waits and asks again


async def test_bad_input_is_a_clear_problem(client, session, world) -> None:
    _, alice = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/holds"
    empty = await client.post(url, json={"seat_ids": []}, headers=auth(alice))
    assert empty.status_code == 422 and "at least one seat" in empty.json()["detail"]
    garbage = await client.post(url, json={"seat_ids": ["nope"]}, headers=auth(alice))
    assert garbage.status_code == 400 and garbage.json()["detail"]
    no_token = await client.post(url, json={"seat_ids": [str(world.seats["A1"])]})
    assert no_token.status_code == 401


async def test_a_buyer_may_hold_only_so_many_times_per_show(client, session, world) -> None:
    _, alice = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/holds"
    for label in ("J1", "J2"):
        answer = await client.post(
            url, json={"seat_ids": [str(world.seats[label])]}, headers=auth(alice)
        )
        assert answer.status_code == 201
    third = await client.post(url, json={"seat_ids": [str(world.seats["J3"])]}, headers=auth(alice))
    assert third.status_code == 429
    assert "live holds" in third.json()["detail"]


async def test_a_booked_hold_cannot_be_released(client, session, world) -> None:
    _, alice = await make_user(session)
    held = await client.post(
        f"/api/v1/shows/{world.show_id}/holds",
        json={"seat_ids": [str(world.seats["D2"])]},
        headers=auth(alice),
    )
    hold_id = held.json()["hold_id"]
    await session.execute(
        text("UPDATE holds SET status = 'CONVERTED' WHERE id = :h"), {"h": hold_id}
    )
    await session.commit()
    refused = await client.delete(f"/api/v1/holds/{hold_id}", headers=auth(alice))
    assert refused.status_code == 409
    assert "cancel the booking" in refused.json()["detail"]


async def test_a_guest_started_by_a_kiosk_buys_through_the_kiosk_channel(
    client, session, world
) -> None:
    _, kiosk = await make_user(session, role=Role.KIOSK, theater_ids=[world.theater_id])
    walk_up = (await client.post("/api/v1/auth/guest", json={}, headers=auth(kiosk))).json()
    online = (await client.post("/api/v1/auth/guest", json={})).json()
    channels = []
    for token, label in ((walk_up["token"], "A3"), (online["token"], "A4")):
        held = await client.post(
            f"/api/v1/shows/{world.show_id}/holds",
            json={"seat_ids": [str(world.seats[label])]},
            headers=auth(token),
        )
        channels.append(
            await session.scalar(
                text("SELECT channel FROM holds WHERE id = :h"), {"h": held.json()["hold_id"]}
            )
        )
    assert channels == ["kiosk", "online"]
