"""Rate limits per client address and per buyer, counted in the real Redis."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient

from tests.factories import auth, make_user


async def test_over_the_limit_gets_a_clear_429(engine, settings, clock, session) -> None:
    from server.app import create_app

    _, token = await make_user(session)
    app = create_app(replace(settings, rate_limit_per_minute=5), clock=clock)
    async with AsyncTestClient(app=app) as client:
        codes = [
            (await client.get("/api/v1/me", headers=auth(token))).status_code for _ in range(7)
        ]
        assert codes[:5] == [200] * 5
        assert codes[5:] == [429, 429]
        limited = await client.get("/api/v1/me", headers=auth(token))
        assert limited.json()["detail"]
        assert "retry-after" in {k.lower() for k in limited.headers}
        # Health probes are never limited: load balancers must always see the truth.
        assert (await client.get("/health/live")).status_code == 200
