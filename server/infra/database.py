"""The async SQLAlchemy engine and session factory."""

from __future__ import annotations

import functools

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_url(url: str) -> str:
    """Accept the usual ``postgresql://`` URLs and point them at the asyncpg driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 30, pool_wait_seconds: int = 10) -> AsyncEngine:
    """A fixed pool: a burst beyond ``pool_size`` waits for a connection (``pool_wait_seconds``
    at most, then SQLAlchemy's TimeoutError, answered 503) instead of opening and closing
    overflow connections, each a new PostgreSQL backend and type handshake."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_wait_seconds,
        pool_pre_ping=False,
        pool_recycle=1800,
        # Nobody waits forever behind a slow transaction: a lock wait over 3 s fails cleanly
        # (the pessimistic strategy turns that into a 409).
        connect_args={"server_settings": {"application_name": "bms", "lock_timeout": "3s"}},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@functools.cache
def isolated(engine: AsyncEngine, level: str) -> AsyncEngine:
    """The engine at an isolation level (cached: building an engine with options costs more
    than the statement it then runs)."""
    return engine.execution_options(isolation_level=level)


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """Each statement commits by itself: a single-statement write needs no BEGIN/COMMIT trips."""
    return isolated(engine, "AUTOCOMMIT")
