"""The process's shared Redis client."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

# Requests beyond this many concurrent Redis calls wait (briefly) for a free connection
# instead of opening another: without a cap a stampede of a thousand requests opens a thousand
# connections, each a TCP handshake and a client handshake, for calls that take microseconds.
MAX_CONNECTIONS = 64
WAIT_FOR_CONNECTION_SECONDS = 5


def shared_redis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=WAIT_FOR_CONNECTION_SECONDS
    )
    return Redis(connection_pool=pool)
