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


def make_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
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
