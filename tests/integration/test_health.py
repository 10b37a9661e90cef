"""Health probes and the OpenAPI schema."""

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
    settings, clock
) -> None:
    """The pool does not grow past its size: a request that waits out the pool gets a clean
    503 with Retry-After, and the next one, after a connection is free, is served."""
    import asyncio
    import threading
    from dataclasses import replace

    import anyio

    from server.app import create_app

    small = replace(settings, database_pool_size=2, database_pool_wait_seconds=1)
    app = create_app(small, clock=clock)
    acquired, release = threading.Event(), threading.Event()

    async def occupy_the_pool() -> None:
        """Runs on the app's own event loop, where its pool lives."""
        pool_engine = app.state.services.engine
        async with pool_engine.connect(), pool_engine.connect():
            acquired.set()
            await anyio.to_thread.run_sync(release.wait)

    async with AsyncTestClient(app=app) as client:
        occupied = client.blocking_portal.start_task_soon(occupy_the_pool)
        await asyncio.to_thread(acquired.wait)
        busy = await client.get("/api/v1/shows")
        release.set()
        await asyncio.wrap_future(occupied)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "2"
        assert "nothing was changed" in busy.json()["detail"]
        assert (await client.get("/api/v1/shows")).status_code == 200
