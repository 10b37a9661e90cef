"""Request-rate limits per client address and per buyer, counted in Redis.

Litestar's rate-limit middleware, twice: once keyed by the client's address, once by the
caller's bearer token (so one buyer cannot hog a show from many addresses, and one address
cannot hide many buyers). Both limits come from ``BMS_RATE_LIMIT_PER_MINUTE``; health and
schema routes are exempt. Over the limit the answer is a 429 problem with Retry-After headers.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

STORE = "rate_limit"
EXEMPT = ["/health", "/schema"]


def by_address(request: Request[Any, Any, Any]) -> str:
    return f"addr:{get_remote_address(request)}"


def by_buyer(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    if not header:
        return by_address(request)
    return "buyer:" + hashlib.sha256(header.encode()).hexdigest()[:24]


def rate_limit_middleware(per_minute: int) -> list[Any]:
    return [
        RateLimitConfig(
            rate_limit=("minute", per_minute),
            identifier_for_request=identify,
            exclude=EXEMPT,
            store=STORE,
        ).middleware
        for identify in (by_address, by_buyer)
    ]


def rate_limit_store(redis: Redis) -> RedisStore:
    return RedisStore(redis, namespace="bms:ratelimit")
