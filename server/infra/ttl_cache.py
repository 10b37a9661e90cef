"""A tiny per-process cache whose entries expire after a few seconds.

For values that are read on every request and change rarely (resolved tokens, show terms),
so a stampede does not turn into the same query thousands of times a second.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # crude but bounded; entries are cheap to rebuild
        self._entries[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        self._entries.clear()
