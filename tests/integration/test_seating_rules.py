"""Accessible seating, group holds and best-available through the real API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.db.models import PriceRule
from tests.factories import auth, make_user, make_world


@pytest.fixture
async def world(session, clock: FrozenClock):
    return await make_world(session, starts_at=clock.now() + timedelta(days=2))


async def test_wheelchair_seats_need_an_accessibility_request(
    client, session, world, clock: FrozenClock
) -> None:
    _, buyer = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/holds"
    pair = [str(world.seats["K2"]), str(world.seats["K1"])]
    refused = await client.post(url, json={"seat_ids": pair}, headers=auth(buyer))
    # Not "no longer available; refresh the seat map": the map shows it free, the 409 would
    # come back on every retry.
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        "Seats K1 (companion), K2 (wheelchair) are kept for customers who need an accessible "
        "space: ask for them with accessible: true."
    )
    elsewhere = await make_world(
        session, starts_at=clock.now() + timedelta(days=2), name_suffix=" 2"
    )
    for stranger in (elsewhere.seats["A1"], uuid.uuid4()):
        foreign = await client.post(url, json={"seat_ids": [str(stranger)]}, headers=auth(buyer))
        assert foreign.status_code == 422, foreign.text
        assert f"Seat {stranger} is not part of this show" in foreign.json()["detail"]
    granted = await client.post(
        url, json={"seat_ids": pair, "accessible": True}, headers=auth(buyer)
    )
    assert granted.status_code == 201
    # A seat really taken is still the 409 that asks for a fresh seat map.
    _, other = await make_user(session)
    taken = await client.post(url, json={"seat_ids": pair, "accessible": True}, headers=auth(other))
    assert taken.status_code == 409 and "refresh the seat map" in taken.json()["detail"]


async def test_accessible_seats_return_to_general_sale_before_the_show(
    client: AsyncTestClient, session, world, clock: FrozenClock
) -> None:
    _, buyer = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/holds"
    seat = {"seat_ids": [str(world.seats["K15"])]}
    assert (await client.post(url, json=seat, headers=auth(buyer))).status_code == 422
    # The theater releases them 60 minutes before the show (accessible_release_minutes).
    clock.advance(days=2, minutes=-59)
    assert (await client.post(url, json=seat, headers=auth(buyer))).status_code == 201


async def test_best_available_suggests_seats_together(client, session, world) -> None:
    answer = await client.get(f"/api/v1/shows/{world.show_id}/best-available?count=4")
    assert answer.status_code == 200, answer.text
    labels = answer.json()["labels"]
    assert len(labels) == 4 and len({label[0] for label in labels}) == 1  # one row
    premium = await client.get(f"/api/v1/shows/{world.show_id}/best-available?count=2&type=premium")
    assert {label[0] for label in premium.json()["labels"]} <= {"G", "H"}
    too_many = await client.get(f"/api/v1/shows/{world.show_id}/best-available?count=99")
    assert too_many.status_code == 400


async def test_group_hold_outlives_the_usual_timeout(
    client, session, world, clock: FrozenClock
) -> None:
    _, admin = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    seats = [str(world.seats[f"C{n}"]) for n in range(5, 16)]
    body = {
        "seat_ids": seats,
        "name": "St. Mary's School",
        "expires_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    url = f"/api/v1/admin/shows/{world.show_id}/group-holds"
    assert (await client.post(url, json=body, headers=auth(stranger))).status_code == 403
    created = await client.post(url, json=body, headers=auth(admin))
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "group" and len(created.json()["seat_ids"]) == 11

    clock.advance(hours=3)  # far past the 10-minute hold time
    _, buyer = await make_user(session)
    taken = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": seats[:1]}, headers=auth(buyer)
    )
    assert taken.status_code == 409
    listed = (await client.get(url, headers=auth(admin))).json()
    assert [h["name"] for h in listed] == ["St. Mary's School"]

    hold_id = created.json()["hold_id"]
    assert (await client.delete(f"/api/v1/holds/{hold_id}", headers=auth(admin))).status_code == 204
    again = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": seats[:1]}, headers=auth(buyer)
    )
    assert again.status_code == 201


async def test_group_hold_cannot_outlast_the_show(client, session, world, clock) -> None:
    _, admin = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    body = {
        "seat_ids": [str(world.seats["D1"])],
        "name": "Late",
        "expires_at": (clock.now() + timedelta(days=5)).isoformat(),
    }
    answer = await client.post(
        f"/api/v1/admin/shows/{world.show_id}/group-holds", json=body, headers=auth(admin)
    )
    assert answer.status_code == 422
    assert "show's start" in answer.json()["detail"]


async def test_sweeper_expires_holds_within_about_a_second(client, session, world, clock) -> None:
    """The background sweeper (every 0.5 s) marks the hold EXPIRED and records the change."""
    _, buyer = await make_user(session)
    seat = str(world.seats["B3"])
    held = await client.post(
        f"/api/v1/shows/{world.show_id}/holds", json={"seat_ids": [seat]}, headers=auth(buyer)
    )
    clock.advance(minutes=11)
    status = None
    for _ in range(50):  # polling the outcome, not timing it: the sweeper runs by itself
        status = await session.scalar(
            text("SELECT status FROM holds WHERE id = :h"), {"h": held.json()["hold_id"]}
        )
        if status == "EXPIRED":
            break
        await asyncio.sleep(0.1)
    assert status == "EXPIRED"
    history = await session.scalar(
        text("SELECT count(*) FROM seat_transitions WHERE reason = 'expired' AND seat_id = :s"),
        {"s": seat},
    )
    assert history == 1


async def test_holds_freeze_the_dynamic_price_in_force(client, session, world) -> None:
    """A theater rule (+20 % in the last 5 days before the show) prices the hold; the seat
    map shows the same price."""
    session.add(
        PriceRule(
            theater_id=world.theater_id,
            name="last days",
            condition={"kind": "days_before", "max_days": 5},
            adjust_percent=20,
        )
    )
    await session.commit()
    _, buyer = await make_user(session)
    seat = world.seats["E5"]  # a regular seat: base price 25000
    seatmap = (await client.get(f"/api/v1/shows/{world.show_id}/seatmap")).json()
    assert seatmap["prices"]["regular"] == 30000
    held = await client.post(
        f"/api/v1/shows/{world.show_id}/holds",
        json={"seat_ids": [str(seat)]},
        headers=auth(buyer),
    )
    assert held.status_code == 201
    price = await session.scalar(
        text("SELECT price_minor FROM hold_seats WHERE hold_id = :h"),
        {"h": held.json()["hold_id"]},
    )
    assert price == 30000
