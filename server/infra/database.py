"""The async SQLAlchemy engine and session factory, and the short paths to asyncpg.

Most SQL goes through SQLAlchemy. The statements on the hot paths of a release night (taking
seats, pricing a hold, confirming a booking, serving a ticket) run on asyncpg directly instead:
asyncpg's prepared-statement path costs about a third of the CPU of SQLAlchemy's execution
layer (statement cache keys, compilation, result wrapping): 0.09 ms against 0.27 ms for one
pricing query on this machine. They keep the same ``:name`` placeholders, so the SQL reads the
same either way.

Taking seats, the one statement a stampede sends a thousand times a second, also skips
SQLAlchemy's pool: it draws from asyncpg's own (``DriverPool``), whose checkout costs a third
of SQLAlchemy's (0.027 against 0.08–0.10 ms with a statement, measured here). The process's
connections are split between the two pools, so the total stays ``database_pool_size``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

UNIQUE_VIOLATION = "23505"
# Every connection of either pool: named in pg_stat_activity, and nobody waits forever behind a
# slow transaction: a lock wait over 3 s fails cleanly (the pessimistic strategy turns that
# into a 409).
SERVER_SETTINGS = {"application_name": "bms", "lock_timeout": "3s"}


class PoolExhausted(Exception):
    """No connection came free within the pool wait: the request is answered 503 "busy"."""


def violates_unique(exc: IntegrityError, constraint: str) -> bool:
    """Whether ``exc`` is PostgreSQL refusing a second row under the unique index or
    constraint ``constraint``: SQLAlchemy's IntegrityError wraps the driver's error, which
    carries the SQLSTATE, and asyncpg's own error underneath names the constraint."""
    driver_error = exc.orig
    return (
        getattr(driver_error, "sqlstate", None) == UNIQUE_VIOLATION
        and getattr(getattr(driver_error, "__cause__", None), "constraint_name", None) == constraint
    )


def driver_url(url: str) -> str:
    """The same database without SQLAlchemy's ``+driver`` part, as asyncpg takes it."""
    scheme, separator, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{separator}{rest}"


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
        connect_args={"server_settings": SERVER_SETTINGS},
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


# How long closing the driver pool waits for connections in use before cutting them.
CLOSE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class DriverPool:
    """asyncpg's own pool, for the statements that run a thousand times a second. Each
    statement on its connections commits by itself (a single-statement write needs no
    BEGIN/COMMIT trips); open ``conn.transaction()`` for more."""

    pool: asyncpg.Pool
    wait_seconds: float

    @classmethod
    async def open(cls, url: str, *, size: int, wait_seconds: float) -> DriverPool:
        pool = await asyncpg.create_pool(
            driver_url(url),
            min_size=size,
            max_size=size,
            init=_decode_json,
            reset=_keep_session,
            server_settings=SERVER_SETTINGS,
        )
        return cls(pool, wait_seconds)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with asyncio.timeout(self.wait_seconds):
                conn = await self.pool.acquire()
        except TimeoutError:
            raise PoolExhausted(f"no connection came free in {self.wait_seconds} s") from None
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    async def close(self) -> None:
        """Close gracefully, but never wait forever on a connection nobody gives back."""
        try:
            await asyncio.wait_for(self.pool.close(), CLOSE_SECONDS)
        except TimeoutError:
            self.pool.terminate()


async def _decode_json(conn: asyncpg.Connection) -> None:
    """JSON in and out as SQLAlchemy's asyncpg dialect does it (text in, Python values out),
    so a query returns the same values whichever pool runs it."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=str, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing beyond what asyncpg always does for a returned connection (roll back an open
    transaction). Its default reset sends one more statement per checkout, to undo session
    state (LISTEN, advisory locks, SET) that no bms code on these connections creates."""


async def driver_of(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under an SQLAlchemy one, for a read on a hot path. Not for
    writes inside ``engine.begin()``: SQLAlchemy sends its BEGIN only with its own first
    statement, so a write sent here before that would commit on its own."""
    return (await conn.get_raw_connection()).driver_connection


_PLACEHOLDER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@functools.cache
def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """asyncpg numbers its parameters ($1, $2, …): turn ``:name`` placeholders into numbers,
    once per statement text, and remember which name goes where."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)


async def fetch(conn: asyncpg.Connection, sql: str, params: Mapping[str, Any]) -> list[Any]:
    """Run ``sql`` (``:name`` placeholders) on an asyncpg connection; all rows."""
    text, names = numbered(sql)
    return list(await conn.fetch(text, *(params[name] for name in names)))


async def fetchrow(conn: asyncpg.Connection, sql: str, params: Mapping[str, Any]) -> Any:
    """Like ``fetch``: the first row, or None."""
    text, names = numbered(sql)
    return await conn.fetchrow(text, *(params[name] for name in names))
