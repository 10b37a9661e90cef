"""Run a coroutine every few seconds for the life of the process, logging (not dying on) errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

log = logging.getLogger("bms.periodic")

STOP_SECONDS = 10.0


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
        # Bounded: a job stuck in a call that ignores cancellation must not stop the process
        # from shutting down.
        done, _ = await asyncio.wait({task}, timeout=STOP_SECONDS)
        if not done:
            log.warning(
                "background job %s did not stop within %.0fs; leaving it", name, STOP_SECONDS
            )
        else:
            with suppress(asyncio.CancelledError):
                await task
