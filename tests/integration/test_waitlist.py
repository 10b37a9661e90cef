"""The waiting list: join a sold-out show, get a priority hold when seats free up, move on
when the offer runs out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from server.clock import FrozenClock
from tests.factories import auth, make_user, make_world
from tests.polling import eventually


@pytest.fixture
async def world(session, clock: FrozenClock):
    return await make_world(
        session, starts_at=clock.now() + timedelta(days=1), layout="recliner-lounge-40"
    )


async def sell_out(session, world, buyer_id) -> None:
    """Mark every general-sale seat BLOCKED by a long hold (a sold-out show)."""
    await session.execute(
        text(
            """
            WITH h AS (
                INSERT INTO holds (id, show_id, buyer_id, status, kind, channel, expires_at)
                VALUES (gen_random_uuid(), :show, :buyer, 'ACTIVE', 'group', 'box_office',
                        now() + interval '30 days') RETURNING id)
            UPDATE show_seats SET status = 'BLOCKED', hold_id = (SELECT id FROM h),
                   held_until = now() + interval '30 days'
             WHERE show_id = :show AND NOT accessible_only
            """
        ),
        {"show": world.show_id, "buyer": buyer_id},
    )
    await session.commit()


async def wait_for(client, url, token, status: str) -> dict:
    async def entry_in_status() -> dict | None:  # the offer job runs every second by itself
        entry = (await client.get(url, headers=auth(token))).json()
        return entry if entry["status"] == status else None

    return await eventually(entry_in_status, f"the entry to become {status}", seconds=6)


async def test_line_gets_priority_holds_in_order(client, session, world, clock) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    _, first = await make_user(session)
    _, second = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/waitlist"
    one = await client.post(url, json={"seats_wanted": 2}, headers=auth(first))
    assert one.status_code == 201, one.text
    assert one.json()["position"] == 1
    two = await client.post(url, json={"seats_wanted": 2}, headers=auth(second))
    assert two.json()["position"] == 2
    again = await client.post(url, json={"seats_wanted": 1}, headers=auth(first))
    assert again.status_code == 409

    # Two seats side by side come free (the block is cut back): the head of the line gets them.
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"show": world.show_id, "seats": [world.seats["B2"], world.seats["B3"]]},
    )
    await session.commit()
    first_url = f"/api/v1/waitlist/{one.json()['entry_id']}"
    offered = await wait_for(client, first_url, first, "OFFERED")
    assert offered["hold_id"] and offered["offer_expires_at"]
    second_entry = (
        await client.get(f"/api/v1/waitlist/{two.json()['entry_id']}", headers=auth(second))
    ).json()
    assert second_entry["status"] == "WAITING" and second_entry["position"] == 1
    outbox = await session.scalar(
        text("SELECT count(*) FROM outbox WHERE topic = 'waitlist.offered'")
    )
    assert outbox == 1

    # Unanswered, the offer runs out and the seats go to the next in line.
    clock.advance(minutes=11)
    await wait_for(client, first_url, first, "EXPIRED")
    await wait_for(client, f"/api/v1/waitlist/{two.json()['entry_id']}", second, "OFFERED")


async def test_cannot_wait_for_seats_that_are_free(client, session, world) -> None:
    _, buyer = await make_user(session)
    answer = await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist", json={"seats_wanted": 2}, headers=auth(buyer)
    )
    assert answer.status_code == 409
    assert "hold them instead" in answer.json()["detail"]
    bad = await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist",
        json={"seats_wanted": 2, "seat_type": "balcony"},
        headers=auth(buyer),
    )
    assert bad.status_code == 422
