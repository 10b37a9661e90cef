"""Countdown: the time left on a hold, counted to the server's ``expires_at``."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

URGENT_SECONDS = 60


class Countdown(Static):
    """ "Held for 09:41"; turns urgent in the last minute, posts ``Expired`` at zero.

    ``now`` is the clock to count with (the app's), so a fixed clock gives a still picture.
    """

    class Expired(Message):
        """The hold this countdown tracked has run out."""

    def __init__(
        self,
        expires_at: datetime,
        now: Callable[[], datetime],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.expires_at = expires_at
        self._now = now
        self._timer: Timer | None = None

    @property
    def seconds_left(self) -> int:
        return max(0, math.ceil((self.expires_at - self._now()).total_seconds()))

    def on_mount(self) -> None:
        self._tick()
        if self.seconds_left:
            self._timer = self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        left = self.seconds_left
        minutes, seconds = divmod(left, 60)
        self.update(f"Held for {minutes:02d}:{seconds:02d}")
        self.set_class(left <= URGENT_SECONDS, "-urgent")
        if left == 0:
            if self._timer is not None:
                self._timer.stop()
            self.post_message(self.Expired())
