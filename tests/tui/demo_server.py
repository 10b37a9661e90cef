"""A real ``bms serve`` over the demo data, for tests that drive the TUI end to end.

The database is emptied first (earlier tests may have left rows: the demo loader refuses a
database holding other data), then the demo is loaded as ``bms demo`` would load it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis as redis_sync
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from server.demo import load_demo
from tests.conftest import TRUNCATE, Backend, ServerProcess, start_server

# Every client of these tests shares the loopback address.
SERVER_ENV = {"BMS_RATE_LIMIT_PER_MINUTE": "100000"}


async def _reset_and_load(backend: Backend) -> None:
    engine = create_async_engine(backend.database_url)
    async with engine.begin() as conn:
        await conn.execute(text(TRUNCATE))
    await engine.dispose()
    for url in backend.redlock_urls:
        client = redis_sync.Redis.from_url(url)
        client.flushdb()
        client.close()
    await load_demo(backend.database_url)


def start_demo_server(backend: Backend, data_dir: Path) -> ServerProcess:
    asyncio.run(_reset_and_load(backend))
    return start_server(backend, data_dir, **SERVER_ENV)
