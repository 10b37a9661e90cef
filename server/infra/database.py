"""The async SQLAlchemy engine and session factory, and the short path to asyncpg.

Most SQL goes through SQLAlchemy. The statements on the hot paths of a release night (taking
seats, pricing a hold, confirming a booking, serving a ticket) run on asyncpg connections
instead: asyncpg's prepared-statement path costs about a third of the CPU of SQLAlchemy's
execution layer (statement cache keys, compilation, result wrapping): 0.09 ms against 0.27 ms
for one pricing query on this machine. They keep the same ``:name`` placeholders, so the SQL
reads the same either way.

Taking seats, the one statement every request of a stampede runs, also skips SQLAlchemy's
pool: the server opens a plain asyncpg pool beside its engine (``open_driver_pool``), whose
checkout and return cost about a third of SQLAlchemy's (0.047 ms against 0.13 ms per
connection with its statement, measured by the same loop). The two pools share the
``BMS_DATABASE_POOL_SIZE`` connections of a process.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolExhausted
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

UNIQUE_VIOLATION = "23505"


def violates_unique(exc: IntegrityError, constraint: str) -> bool:
    """Whether ``exc`` is PostgreSQL refusing a second row under the unique index or
    constraint ``constraint``: SQLAlchemy's IntegrityError wraps the driver's error, which
    carries the SQLSTATE, and asyncpg's own error underneath names the constraint."""
    driver_error = exc.orig
    return (
        getattr(driver_error, "sqlstate", None) == UNIQUE_VIOLATION
        and getattr(getattr(driver_error, "__cause__", None), "constraint_name", None) == constraint
    )


def async_url(url: str) -> str:
    """Accept the usual ``postgresql://`` URLs and point them at the asyncpg driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def driver_url(url: str) -> str:
    """The same database as a plain ``postgresql://`` URL, as asyncpg itself takes it."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


# Every connection, from either pool: nobody waits forever behind a slow transaction (a lock
# wait over 3 s fails cleanly; the pessimistic strategy turns that into a 409).
SERVER_SETTINGS = {"application_name": "bms", "lock_timeout": "3s"}


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


_driver_pools: weakref.WeakKeyDictionary[AsyncEngine, tuple[asyncpg.Pool, float]] = (
    weakref.WeakKeyDictionary()
)


async def open_driver_pool(engine: AsyncEngine, url: str, *, size: int, wait_seconds: int) -> None:
    """Open a plain asyncpg pool of ``size`` connections for ``driver_connection(engine)``.
    Until one is open (or after ``close_driver_pool``), that borrows SQLAlchemy's instead."""
    pool = await asyncpg.create_pool(
        driver_url(url),
        min_size=0,
        max_size=size,
        max_inactive_connection_lifetime=1800,
        server_settings=SERVER_SETTINGS,
        init=_codecs_like_sqlalchemy,
        # Returned connections are only rolled back if a transaction was left open (asyncpg
        # always does that): nothing on this path sets session state, so the default reset
        # (RESET ALL, UNLISTEN, advisory unlock, a round trip per checkout) would buy nothing.
        reset=_nothing_to_reset,
    )
    _driver_pools[engine] = (pool, float(wait_seconds))


async def close_driver_pool(engine: AsyncEngine) -> None:
    entry = _driver_pools.pop(engine, None)
    if entry is not None:
        await entry[0].close()


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    return None


async def _codecs_like_sqlalchemy(conn: asyncpg.Connection) -> None:
    """json and jsonb as SQLAlchemy's asyncpg dialect sets them up on its connections, so a
    statement means the same on either pool: text in, parsed JSON out."""
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=_json_value, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),  # jsonb's binary format version byte
        decoder=lambda raw: _json_value(raw[1:]),
        schema="pg_catalog",
        format="binary",
    )


def _json_value(raw: bytes) -> Any:
    return json.loads(raw.decode())


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


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """An asyncpg connection of the engine's database: from its asyncpg pool when the server
    opened one, else the one under a connection of SQLAlchemy's pool. Each statement commits
    by itself (a single-statement write needs no BEGIN/COMMIT trips); open
    ``conn.transaction()`` for more. A pool that stays busy for its whole wait raises the
    same error as SQLAlchemy's (answered 503 "busy")."""
    entry = _driver_pools.get(engine)
    if entry is None:
        async with engine.connect() as conn:
            pooled = await conn.get_raw_connection()
            yield pooled.driver_connection
        return
    pool, wait_seconds = entry
    try:
        conn = await pool.acquire(timeout=wait_seconds)
    except TimeoutError:  # asyncpg's acquire timed out
        raise PoolExhausted(f"no database connection came free in {wait_seconds:g} s") from None
    try:
        yield conn
    finally:
        await pool.release(conn)


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
