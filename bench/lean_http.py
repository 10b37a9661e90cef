"""A minimal HTTP/1.1 keep-alive client for load generation, and nothing else.

The benchmarks run the load generator on the same two cores as the server, PostgreSQL and
Valkey, so every microsecond it spends is taken from what it measures. aiohttp costs about
0.45 ms of CPU per request here; this client, one asyncio Protocol per connection that writes
pre-encoded requests and reads ``Content-Length`` bodies, costs a fraction of that. It speaks
only what bms answers (no chunked bodies, no redirects, no TLS); use a real client anywhere else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class LeanConnection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self, host: str) -> None:
        self.host = host.encode()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    @classmethod
    async def open(cls, base_url: str) -> LeanConnection:
        parts = urlsplit(base_url)
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            lambda: cls(parts.netloc), parts.hostname, parts.port or 80
        )
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[: head_end + 2]).lower()
        length_at = head.find(b"content-length:")
        length = int(head[length_at + 15 : head.find(b"\r\n", length_at)]) if length_at > 0 else 0
        if len(self.buffer) < head_end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[head_end + 4 : head_end + 4 + length])
        del self.buffer[: head_end + 4 + length]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, body))

    async def request(
        self, method: str, path: str, payload: Any = None, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request (a JSON body when ``payload`` is not None); returns (status, body)."""
        head = method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host
        body = b""
        if payload is not None:
            body = json.dumps(payload).encode()
            head += b"\r\nContent-Type: application/json"
        head += b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + headers + b"\r\n"
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(head + body)
        return await self.waiter

    async def post_json(self, path: str, payload: Any, headers: bytes = b"") -> tuple[int, Any]:
        """POST a JSON body; returns (status, decoded JSON body or None)."""
        status, raw = await self.request("POST", path, payload, headers)
        return status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def bearer(token: str) -> bytes:
    """A pre-encoded Authorization header line for ``post_json``."""
    return f"Authorization: Bearer {token}\r\n".encode()
