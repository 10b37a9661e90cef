"""The per-process TTL cache: one load per key however many callers miss at once."""

from __future__ import annotations

import asyncio

import pytest

from server.infra.ttl_cache import TtlCache


async def test_concurrent_misses_share_one_load() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl=60)
    loads = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return 42

    waiting = [asyncio.create_task(cache.get_or_load("show", load)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42] * 50
    assert loads == 1
    assert await cache.get_or_load("show", load) == 42 and loads == 1  # now cached


async def test_a_missing_value_is_not_cached_and_a_failure_reaches_every_caller() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl=60)

    async def nothing() -> int | None:
        return None

    assert await cache.get_or_load("gone", nothing) is None
    assert cache.get("gone") is None

    async def broken() -> int:
        await asyncio.sleep(0)
        raise RuntimeError("database down")

    callers = [cache.get_or_load("show", broken) for _ in range(3)]
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
    with pytest.raises(RuntimeError):  # the failed load is forgotten: the next caller retries
        await cache.get_or_load("show", broken)


async def test_a_caller_that_gives_up_does_not_cancel_the_others() -> None:
    cache: TtlCache[str, int] = TtlCache(ttl=60)
    release = asyncio.Event()

    async def load() -> int:
        await release.wait()
        return 7

    impatient = asyncio.create_task(cache.get_or_load("show", load))
    patient = asyncio.create_task(cache.get_or_load("show", load))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == 7
