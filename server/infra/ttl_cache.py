"""A tiny per-process cache whose entries expire after a few seconds.

For values that are read on every request and change rarely (resolved tokens, show terms),
so a stampede does not turn into the same query thousands of times a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V | None]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # crude but bounded; entries are cheap to rebuild
        self._entries[key] = (time.monotonic() + self.ttl, value)

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or the result of ``load()``, cached unless None. Callers that miss
        while a load for the same key is under way wait for it instead of loading again: when
        an entry expires under a stampede, one query runs, not one per waiting request."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load))
            self._loading[key] = pending
        # shield: a caller that gives up (client gone) must not cancel the others' load.
        return await asyncio.shield(pending)

    async def _load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        try:
            value = await load()
            if value is not None:
                self.put(key, value)
            return value
        finally:
            del self._loading[key]

    def clear(self) -> None:
        self._entries.clear()
