"""Waiting in tests for what a background job does by itself (the outbox, waiting-list offers,
refund retries): poll a condition until it holds, with a deadline, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.05


async def eventually(check: Callable[[], Awaitable[T]], what: str, seconds: float = 20) -> T:
    """The first truthy answer of ``check``; fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (answer := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)
    return answer
