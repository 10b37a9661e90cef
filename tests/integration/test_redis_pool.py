"""The shared Redis pool (server/infra/redis_client.py) against a real Valkey: every caller
gets its own answer however many queue for a few connections, and a connection left with an
unread answer is started afresh before anyone else uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import pytest
from redis.asyncio import Redis

from server.infra.redis_client import SharedPool
from tests.conftest import Backend
from tests.polling import eventually


@pytest.fixture
async def small_pool(backend: Backend) -> AsyncIterator[SharedPool]:
    pool = SharedPool.from_url(backend.redis_url, max_connections=4, timeout=5)
    yield pool
    await pool.disconnect()


async def test_two_hundred_callers_on_four_connections_each_get_their_own_answer(
    small_pool: SharedPool,
) -> None:
    redis = Redis(connection_pool=small_pool)

    async def round_trip(n: int) -> bytes | None:
        await redis.set(f"test:pool:{n}", str(n), ex=60)
        return await redis.get(f"test:pool:{n}")

    answers = await asyncio.gather(*(round_trip(n) for n in range(200)))
    assert answers == [str(n).encode() for n in range(200)]
    assert len(small_pool._in_use_connections) == 0
    assert len(small_pool._available_connections) <= 4


async def test_a_connection_returned_with_an_unread_answer_is_not_reused_as_is(
    small_pool: SharedPool,
) -> None:
    redis = Redis(connection_pool=small_pool)
    await redis.set("test:pool:key", "value", ex=60)
    connection = await small_pool.get_connection("PING")
    await connection.send_command("PING")  # its answer is never read
    await eventually(partial(_received, connection), "the PONG in the connection's buffer")
    await small_pool.release(connection)

    # The same connection is handed out next (the pool is a stack): had the PONG stayed in
    # it, this GET would read it as its own answer.
    assert await redis.get("test:pool:key") == b"value"


async def _received(connection: object) -> bool:
    return bool(connection._reader._buffer)  # type: ignore[attr-defined]
