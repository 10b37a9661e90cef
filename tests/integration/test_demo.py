"""The demo data: complete, fast, safe to load again, and usable through the API."""

from __future__ import annotations

import time

from server.demo import load_demo


async def test_demo_smoke(engine, backend, clock) -> None:
    started = time.monotonic()
    summary = await load_demo(backend.database_url, now=clock.now())
    print(summary, time.monotonic() - started)
    started = time.monotonic()
    print(await load_demo(backend.database_url, now=clock.now()), time.monotonic() - started)
