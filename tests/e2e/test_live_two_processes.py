"""Two server processes on one database and one Redis: a hold made through one is seen live
by a WebSocket watcher connected to the other."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import websockets

from tests.factories import auth, make_user, make_world

pytestmark = pytest.mark.slow


async def test_hold_on_one_process_reaches_a_watcher_of_the_other(server_factory, session) -> None:
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=1))
    _, token = await make_user(session)
    first, second = server_factory(), server_factory()
    seat = str(world.seats["D4"])
    ws_url = second.url.replace("http://", "ws://") + f"/api/v1/shows/{world.show_id}/live"
    async with websockets.connect(ws_url) as watcher:
        hello = json.loads(await asyncio.wait_for(watcher.recv(), 10))
        assert hello["seats"] == []  # subscribed: nothing from now on can be missed
        async with httpx.AsyncClient(base_url=first.url) as client:
            held = await client.post(
                f"/api/v1/shows/{world.show_id}/holds",
                json={"seat_ids": [seat]},
                headers=auth(token),
            )
            assert held.status_code == 201, held.text
            event = json.loads(await asyncio.wait_for(watcher.recv(), 10))
            assert event["seats"] == [{"seat_id": seat, "status": "BLOCKED", "version": 1}]
            assert event["sequence"] > hello["sequence"]

            released = await client.delete(
                f"/api/v1/holds/{held.json()['hold_id']}", headers=auth(token)
            )
            assert released.status_code == 204
            freed = json.loads(await asyncio.wait_for(watcher.recv(), 10))
            assert freed["seats"][0]["status"] == "AVAILABLE"
            assert freed["sequence"] > event["sequence"]
