"""A real program in a pseudo-terminal, with its screen read as a person would see it
(pexpect drives it, pyte renders what it draws)."""

from __future__ import annotations

import contextlib
import re
import sys
import time

import pexpect
import pyte

from tests.conftest import ROOT

COLUMNS, LINES = 110, 34


class Terminal:
    """A pseudo-terminal running one command, with the screen as a person would see it."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.child = pexpect.spawn(
            sys.executable, args, cwd=str(ROOT), env=env, dimensions=(LINES, COLUMNS)
        )

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, seconds: float = 0.1) -> None:
        with contextlib.suppress(pexpect.TIMEOUT):
            self.stream.feed(self.child.read_nonblocking(1 << 16, timeout=seconds))

    def wait_for(self, wanted: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while wanted not in self.text:
            if time.monotonic() > deadline or not self.child.isalive():
                raise AssertionError(f"{wanted!r} never appeared; the screen shows:\n{self.text}")
            self.pump()

    def wait_for_match(self, pattern: str, seconds: float = 30) -> re.Match[str]:
        """The first match of ``pattern`` on the screen, once there is one: unlike a fixed
        text, it can ask for a whole value (a frame may have arrived only in part)."""
        deadline = time.monotonic() + seconds
        while (match := re.search(pattern, self.text)) is None:
            if time.monotonic() > deadline or not self.child.isalive():
                raise AssertionError(f"{pattern!r} never matched; the screen shows:\n{self.text}")
            self.pump()
        return match

    def press(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)
            self.pump(0.05)

    def wait_exit(self, seconds: float = 20) -> int:
        deadline = time.monotonic() + seconds
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the kiosk is still running; the screen shows:\n{self.text}")
            try:
                self.pump()
            except pexpect.EOF:
                break
        self.child.close()
        return int(self.child.exitstatus or 0)
