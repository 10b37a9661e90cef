"""Run a coroutine every few seconds for the life of the process, logging (not dying on) errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

log = logging.getLogger("bms.periodic")


@asynccontextmanager
async def periodic(
    name: str, interval: float, job: Callable[[], Awaitable[object]]
) -> AsyncIterator[asyncio.Task[None]]:
    async def loop() -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background job %s failed; retrying in %.1fs", name, interval)
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
