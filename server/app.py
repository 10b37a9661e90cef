"""create_app(): the one place that wires plugins, routes, dependencies and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SqlAlchemyPoolExhausted
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock, SystemClock
from server.domain import routes
from server.domain.accounts.guards import provide_principal
from server.domain.errors import DomainError, problem, problem_of
from server.domain.nul_characters import refuse_nul_characters
from server.infra.database import DriverPool, PoolExhausted, make_engine, make_sessionmaker
from server.infra.heap import settle_heap
from server.infra.rate_limits import RateLimitMiddleware
from server.infra.redis_client import shared_redis
from server.infra.state import Services
from server.settings import Settings, secret_key

log = logging.getLogger("bms.server")


def _domain_error(_: Request[Any, Any, State], exc: DomainError) -> Response[dict[str, Any]]:
    return problem_of(exc)


def _validation_error(
    _: Request[Any, Any, State], exc: ValidationException
) -> Response[dict[str, Any]]:
    extra = exc.extra if isinstance(exc.extra, (list, dict)) else None
    detail = exc.detail or "The request is not valid."
    if isinstance(extra, list) and extra:
        first = extra[0]
        if isinstance(first, dict) and first.get("message"):
            where = first.get("key") or first.get("source") or "body"
            detail = f"{first['message']} (at {where}); fix the request and send it again."
    return problem(400, "Invalid request", detail, errors=extra or [])


def _http_error(request: Request[Any, Any, State], exc: HTTPException) -> Response[dict[str, Any]]:
    detail = _what_to_do(request, exc)
    extra = exc.extra if isinstance(exc.extra, dict) else {}
    response = problem(exc.status_code, type(exc).__name__, detail, **extra)
    response.headers.update(exc.headers or {})
    return response


def _what_to_do(request: Request[Any, Any, State], exc: HTTPException) -> str:
    """The framework's own answers (a path that matches no route, e.g. a non-UUID id; a wrong
    method; a body that is not JSON) carry a bare phrase: add what the client should do."""
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        return (
            f"There is nothing at {request.url.path[:200]}; check the address and any id in it "
            "(ids are UUIDs)."
        )
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("allow")
        use = f"; use {allowed}" if allowed else ""
        return f"{request.method} is not accepted at this address{use}."
    if exc.status_code == 400 and not detail.endswith("."):
        return f"{detail}; fix the request and send it again."
    return detail


# SQLSTATEs that mean "the database is too busy right now", not "this request is wrong": a
# lock wait past lock_timeout, a statement cancelled by a timeout, no connection slot left.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "53300"})


def _busy(
    request: Request[Any, Any, State],
    exc: PoolExhausted | SqlAlchemyPoolExhausted | DBAPIError | asyncpg.PostgresError,
) -> Response[dict[str, Any]]:
    """No database connection, or no lock, came free in time: shed the request with a 503
    that tells the client to retry, not a 500."""
    log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
    return _retry_later(
        "Server busy",
        "The box office is handling more requests than it can right now; nothing was changed. "
        "Try again in a few seconds.",
    )


def _retry_later(title: str, detail: str) -> Response[dict[str, Any]]:
    """A 503 the client should retry on its own after a short wait."""
    answer = problem(503, title, detail)
    answer.headers["Retry-After"] = "2"
    return answer


def _database_error(
    request: Request[Any, Any, State], exc: DBAPIError | asyncpg.PostgresError
) -> Response[dict[str, Any]]:
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(driver_error, "sqlstate", None) in BUSY_SQLSTATES:
        return _busy(request, exc)
    lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
    if lost or isinstance(driver_error, asyncpg.PostgresConnectionError):
        return _connection_lost(request, exc)
    return _unexpected(request, exc)


def _connection_lost(request: Request[Any, Any, State], exc: Exception) -> Response[dict[str, Any]]:
    """The database closed a pooled connection under a request (a restart, a failover, an
    administrator ending sessions). The pools replace their connections on their own, so the
    client is told to retry, not that the server is broken; whether the interrupted statement
    took effect is unknown, so the answer does not promise that nothing changed."""
    log.warning("database connection lost on %s %s: %s", request.method, request.url.path, exc)
    return _retry_later(
        "Database connection lost",
        "The box office lost its connection to the database for a moment. Try again in a few "
        "seconds; a retry with the same Idempotency-Key is never applied twice.",
    )


def _unexpected(request: Request[Any, Any, State], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal error",
        "Something went wrong on the server; the request was not applied. Try again, and "
        "report it if it keeps happening.",
    )


def provide_services(state: State) -> Services:
    services: Services = state.services
    return services


async def provide_db(state: State) -> AsyncIterator[AsyncSession]:
    services: Services = state.services
    async with services.sessions() as session:
        yield session


def create_app(
    settings: Settings, *, clock: Clock | None = None, serving: bool = False
) -> Litestar:
    """Build the application. ``settings`` must carry real database and Redis URLs:
    embedded servers are started by the caller (``bms serve``) before this. ``serving`` is
    for a process that does nothing else (``bms serve``, ``server.asgi``): it tunes the
    garbage collector for the process once the app is up, which tests must not."""
    if settings.database_url is None or settings.redis_url is None:
        raise ValueError(
            "create_app needs database_url and redis_url; start embedded servers first"
        )
    redis = shared_redis(settings.redis_url)
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # The process's connections, split: half for taking seats, half for everything else.
        driver_share = settings.database_pool_size // 2
        engine = make_engine(
            settings.database_url or "",
            pool_size=settings.database_pool_size - driver_share,
            pool_wait_seconds=settings.database_pool_wait_seconds,
        )
        driver_pool = await DriverPool.open(
            settings.database_url or "",
            size=driver_share,
            wait_seconds=settings.database_pool_wait_seconds,
        )
        services = Services(
            settings=settings,
            engine=engine,
            driver_pool=driver_pool,
            sessions=make_sessionmaker(engine),
            redis=redis,
            clock=clock,
            secret=secret_key(settings),
        )
        app.state.services = services
        try:
            # The background jobs stop first: a job still running while its pools close
            # could hold a connection that closing the pool waits for.
            async with routes.background(app, services):
                yield
        finally:
            await redis.aclose()
            await driver_pool.close()
            await engine.dispose()

    return Litestar(
        route_handlers=routes.handlers(),
        plugins=routes.plugins(redis),
        middleware=[RateLimitMiddleware(redis, settings.rate_limit_per_minute, clock)],
        lifespan=[lifespan],
        on_startup=[settle_heap] if serving else [],
        before_request=refuse_nul_characters,
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "db": Provide(provide_db),
            "principal": Provide(provide_principal),
        },
        exception_handlers={
            DomainError: _domain_error,
            ValidationException: _validation_error,
            HTTPException: _http_error,
            PoolExhausted: _busy,
            SqlAlchemyPoolExhausted: _busy,
            DBAPIError: _database_error,
            asyncpg.PostgresError: _database_error,
            Exception: _unexpected,
        },
        openapi_config=OpenAPIConfig(
            title="bms box office",
            version="1.0.0",
            description="Shows, seat maps, holds, bookings and admin operations for cinemas.",
        ),
        debug=settings.debug,
    )
