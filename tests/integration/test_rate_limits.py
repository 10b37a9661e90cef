"""Rate limits per client address and per buyer, counted in the real Redis."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

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


async def test_processes_share_their_counts_through_redis(settings, clock, session) -> None:
    """Two server processes (two apps on one Redis) count one buyer together: each adds its
    requests to the shared counter within moments, and refuses past the limit once it has
    heard of the other's."""
    from redis.asyncio import Redis

    from server.app import create_app
    from tests.polling import eventually

    _, token = await make_user(session)
    limited = replace(settings, rate_limit_per_minute=5)
    first, second = create_app(limited, clock=clock), create_app(limited, clock=clock)
    redis = Redis.from_url(settings.redis_url)

    async def buyer_count(expected: int) -> bool:
        counters = [key async for key in redis.scan_iter("bms:rl:*:buyer:*")]
        return len(counters) == 1 and int(await redis.get(counters[0])) == expected

    async with AsyncTestClient(app=first) as one, AsyncTestClient(app=second) as other:
        for _ in range(3):
            assert (await one.get("/api/v1/me", headers=auth(token))).status_code == 200
        await eventually(partial(buyer_count, 3), "the first process's requests in Redis")
        codes = []
        for sent in range(1, 6):
            codes.append((await other.get("/api/v1/me", headers=auth(token))).status_code)
            if codes[-1] == 200:
                await eventually(partial(buyer_count, 3 + sent), "the second process's request")
    # Counting alone, the second process would have let all five through. It let through
    # two (at most three: Redis may show a total a moment before the process reads it).
    assert codes.count(200) <= 3 and codes[-1] == 429, codes
    await redis.aclose()


async def test_one_process_is_exact_under_a_burst(settings, clock, session) -> None:
    """Many requests at once, while earlier counts are on their way to Redis: one process
    lets exactly the limit through."""
    import asyncio

    from server.app import create_app

    _, token = await make_user(session)
    app = create_app(replace(settings, rate_limit_per_minute=10), clock=clock)
    async with AsyncTestClient(app=app) as client:
        codes = []
        for _ in range(4):  # bursts one after another, while syncs start and answer
            burst = [client.get("/api/v1/me", headers=auth(token)) for _ in range(6)]
            codes += [answer.status_code for answer in await asyncio.gather(*burst)]
    assert codes.count(200) == 10 and codes.count(429) == 14
