"""The embedded box office: when no server is configured, the TUI runs ``bms serve --demo``
itself (embedded PostgreSQL and Valkey, demo data on first run) and stops it on exit.

It is a subprocess, not an in-process server, so the TUI still reaches it only over HTTP and a
crash of one cannot take down the other. Its output goes to a log file in the user's state
directory, which the start-up screen names when something goes wrong.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import platformdirs

READY_TIMEOUT_SECONDS = 120.0  # the first run initialises PostgreSQL and loads the demo data
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2


class BackendFailed(Exception):
    """The embedded server did not come up; the message says why and where the log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_log_path() -> Path:
    return Path(platformdirs.user_state_dir("bms")) / "embedded-server.log"


class EmbeddedServer:
    """``url = await server.start()`` … ``server.stop()``; safe to stop twice or unstarted."""

    def __init__(self, log_path: Path | None = None, port: int | None = None) -> None:
        self.log_path = log_path or default_log_path()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> str:
        self._spawn()
        await self._wait_ready()
        return self.url

    def _spawn(self) -> None:
        """Start ``bms serve --demo``; Popen returns at once, so the event loop never waits."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bmscli.main", "serve", "--demo", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ),
                # Its own process group: Ctrl+C in the terminal reaches the TUI only, which then
                # stops the server cleanly instead of both dying half-way.
                start_new_session=True,
            )

    async def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_SECONDS
        async with httpx.AsyncClient(timeout=1.0) as http:
            while loop.time() < deadline:
                if process.poll() is not None:
                    raise BackendFailed(
                        f"The embedded server stopped while starting (exit code "
                        f"{process.returncode}); its log is {self.log_path}."
                    )
                try:
                    if (await http.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(POLL_SECONDS)
        self.stop()
        raise BackendFailed(
            f"The embedded server was not ready after {READY_TIMEOUT_SECONDS:.0f} s; "
            f"its log is {self.log_path}."
        )

    def stop(self) -> None:
        """Ask the server to shut down (it stops its embedded PostgreSQL), then insist."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
