"""Health probes and the OpenAPI schema."""

import asyncio
from collections.abc import Awaitable, Callable

from httpx import Response
from litestar.testing import AsyncTestClient


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


async def test_a_request_finding_no_free_database_connection_is_answered_busy(
    settings, clock, session
) -> None:
    """Neither pool grows past its size: a request that waits out SQLAlchemy's pool (a seat
    map) or the seat-taking asyncpg pool (a hold) gets a clean 503 with Retry-After, and
    the next one, after a connection is free, is served."""
    import threading
    from contextlib import AsyncExitStack
    from dataclasses import replace
    from datetime import timedelta

    import anyio

    from server.app import create_app
    from server.infra.database import driver_connection
    from tests.factories import make_world

    world = await make_world(session, starts_at=clock.now() + timedelta(days=1))
    # Two connections: one in SQLAlchemy's pool, one in the seat-taking pool.
    small = replace(settings, database_pool_size=2, database_pool_wait_seconds=1)
    app = create_app(small, clock=clock)

    async def occupied_while(pool: str, request: Callable[[], Awaitable[Response]]) -> Response:
        acquired, release = threading.Event(), threading.Event()

        async def occupy() -> None:
            """Runs on the app's own event loop, where its pools live."""
            engine = app.state.services.engine
            async with AsyncExitStack() as stack:
                if pool == "sqlalchemy":
                    await stack.enter_async_context(engine.connect())
                else:
                    await stack.enter_async_context(driver_connection(engine))
                acquired.set()
                await anyio.to_thread.run_sync(release.wait)

        occupied = client.blocking_portal.start_task_soon(occupy)
        await asyncio.to_thread(acquired.wait)
        try:
            return await request()
        finally:
            release.set()
            await asyncio.wrap_future(occupied)

    async with AsyncTestClient(app=app) as client:
        guest = (await client.post("/api/v1/auth/guest", json={"name": "Ann"})).json()["token"]
        hold_url = f"/api/v1/shows/{world.show_id}/holds"
        seatmap_url = f"/api/v1/shows/{world.show_id}/seatmap"
        body = {"seat_ids": [str(world.seats["A1"])]}
        headers = {"Authorization": f"Bearer {guest}"}

        for pool, request in (
            ("sqlalchemy", lambda: client.get(seatmap_url)),
            ("asyncpg", lambda: client.post(hold_url, json=body, headers=headers)),
        ):
            busy = await occupied_while(pool, request)
            assert busy.status_code == 503, (pool, busy.text)
            assert busy.headers["retry-after"] == "2"
            assert "nothing was changed" in busy.json()["detail"]
        assert (await client.get(seatmap_url)).status_code == 200
        held = await client.post(hold_url, json=body, headers=headers)
        assert held.status_code == 201, held.text
