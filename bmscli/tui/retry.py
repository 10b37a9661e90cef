"""Backoff: how long to wait before the next attempt to reach a server that did not answer."""

from __future__ import annotations


class Backoff:
    """0.5 s, 1 s, 2 s, 4 s … never more than ``longest``; ``reset`` after a success."""

    def __init__(self, first: float = 0.5, longest: float = 10.0) -> None:
        self.first = first
        self.longest = longest
        self._next = first

    def next(self) -> float:
        delay = self._next
        self._next = min(self.longest, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self.first
