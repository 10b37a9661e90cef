"""Health probes, the OpenAPI schema, and answers when the database is busy."""

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.app import create_app
from tests.factories import make_world


async def test_live_and_ready(client: AsyncTestClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_openapi_schema_lists_the_public_api(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "bms box office"
    assert "/api/v1/auth/guest" in schema["paths"]


async def test_unknown_route_is_a_problem_document(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    # The framework's own answers say what to do, not just "Not Found".
    not_an_id = await client.get("/api/v1/shows/not-a-uuid/seatmap")
    assert not_an_id.json()["detail"] == (
        "There is nothing at /api/v1/shows/not-a-uuid/seatmap; check the address and any id "
        "in it (ids are UUIDs)."
    )
    wrong_method = await client.delete("/api/v1/shows")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"].startswith("DELETE is not accepted at this address; use")
    malformed = await client.post(
        "/api/v1/auth/login", content=b"{1:2}", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["detail"].endswith("; fix the request and send it again.")


@pytest.mark.parametrize("pool", ["engine", "driver"])
async def test_a_request_finding_no_free_database_connection_is_answered_busy(
    pool: str, settings, clock, session
) -> None:
    """Neither pool grows past its size: a request that waits out its pool (SQLAlchemy's for
    most requests, asyncpg's for taking seats) gets a clean 503 with Retry-After and changes
    nothing, and the same request, once a connection is free, is served."""
    small = replace(settings, database_pool_size=2, database_pool_wait_seconds=1)
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    app = create_app(small, clock=clock)
    acquired, release = threading.Event(), threading.Event()

    async def occupy_the_pool() -> None:
        """Runs on the app's own event loop, where its pools live (one connection each)."""
        services = app.state.services
        taken = services.engine.connect() if pool == "engine" else services.driver_pool.connection()
        async with taken:
            acquired.set()
            await anyio.to_thread.run_sync(release.wait)

    async with AsyncTestClient(app=app) as client:
        token = (await client.post("/api/v1/auth/guest", json={})).json()["token"]

        async def ask() -> httpx.Response:
            if pool == "engine":
                return await client.get("/api/v1/shows")
            return await client.post(
                f"/api/v1/shows/{world.show_id}/holds",
                json={"seat_ids": [str(world.seats["A1"])]},
                headers={"Authorization": f"Bearer {token}"},
            )

        occupied = client.blocking_portal.start_task_soon(occupy_the_pool)
        await asyncio.to_thread(acquired.wait)
        busy = await ask()
        release.set()
        await asyncio.wrap_future(occupied)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "2"
        assert "nothing was changed" in busy.json()["detail"]
        assert (await ask()).status_code == (200 if pool == "engine" else 201)


async def test_a_database_restart_costs_one_clean_503_not_a_500(
    client, session, engine, clock, caplog
) -> None:
    """PostgreSQL ends every bms session (as a restart or a failover does): the request that
    meets a dead pooled connection is told to retry, and the pools replace their connections
    on their own, so the next requests, reads and holds alike, are served."""
    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    token = (await client.post("/api/v1/auth/guest", json={})).json()["token"]
    buyer = {"Authorization": f"Bearer {token}"}
    hold_url = f"/api/v1/shows/{world.show_id}/holds"
    assert (await client.get("/api/v1/shows")).status_code == 200
    assert (
        await client.post(hold_url, json={"seat_ids": [str(world.seats["A1"])]}, headers=buyer)
    ).status_code == 201

    async with engine.connect() as conn:
        ended = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'bms'"
            )
        )
    assert ended > 0

    # The first request on a dead connection is answered 503 (unless a background job met the
    # dead connection first); none is a 500, and the pool heals at once.
    answers = [await client.get("/api/v1/shows") for _ in range(3)]
    assert [answer.status_code for answer in answers[1:]] == [200, 200]
    for answer in answers:
        assert answer.status_code in (200, 503)
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "2"
            assert "lost its connection to the database" in answer.json()["detail"]
    assert "unhandled error" not in caplog.text
    held = await client.post(hold_url, json={"seat_ids": [str(world.seats["A2"])]}, headers=buyer)
    assert held.status_code == 201
