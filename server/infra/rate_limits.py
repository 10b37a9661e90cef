"""Request-rate limits per client address and per buyer, counted in Redis.

Fixed one-minute windows, one Redis round trip per request (one script that counts both
keys and sets their expiry when a window starts), no lock. Litestar's own rate-limit middleware keeps a JSON list of every
request time per key and serialises all requests of a process behind one lock while it reads
and rewrites that list: under a stampede from one address that list grows to thousands of
entries per request, so we count instead.

Two counters: the client's address (one address cannot hide many buyers) and the bearer token
(one buyer cannot hog a show from many addresses). Over either limit the answer is a 429
problem with ``Retry-After``. Health and schema routes are exempt.
"""

from __future__ import annotations

import hashlib

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send
from redis.asyncio import Redis

from server.clock import Clock

WINDOW_SECONDS = 60

# KEYS: the counters of this window; ARGV[1]: their lifetime in seconds. Returns the highest
# count after this request. One command instead of an INCR and EXPIRE per key: on a busy night
# the Redis client's per-command cost in Python is a good part of the server's CPU.
_COUNT = """
local highest = 0
for _, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  if count > highest then highest = count end
end
return highest
"""


class RateLimitMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)
    # Health probes and the schema are never limited: load balancers must always see the truth.
    should_bypass_for_scope = staticmethod(
        lambda scope: scope["path"].startswith(("/health", "/schema"))
    )

    def __init__(self, redis: Redis, per_minute: int, clock: Clock) -> None:
        self.count = redis.register_script(_COUNT)
        self.per_minute = per_minute
        self.clock = clock

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        now = int(self.clock.now().timestamp())
        window = now // WINDOW_SECONDS
        keys = [f"bms:rl:{window}:{identity}" for identity in _identities(scope)]
        highest = await self.count(keys, [WINDOW_SECONDS + 1])
        if highest <= self.per_minute:
            await next_app(scope, receive, send)
            return
        retry_after = WINDOW_SECONDS - now % WINDOW_SECONDS
        await _too_many(send, retry_after)


def _identities(scope: Scope) -> list[str]:
    client = scope.get("client")
    address = f"addr:{client[0] if client else 'unknown'}"
    for name, value in scope["headers"]:
        if name == b"authorization":
            return [address, "buyer:" + hashlib.sha256(value).hexdigest()[:24]]
    return [address]


async def _too_many(send: Send, retry_after: int) -> None:
    body = msgspec.json.encode(
        {
            "type": "about:blank",
            "title": "Too many requests",
            "status": 429,
            "detail": f"Too many requests; wait {retry_after} s (Retry-After), then retry.",
            "retry_after_seconds": retry_after,
        }
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"retry-after", str(retry_after).encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
