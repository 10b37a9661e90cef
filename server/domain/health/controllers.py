"""``/health/live`` answers while the process runs; ``/health/ready`` also checks PostgreSQL
and Redis, so a load balancer only sends traffic to a server that can sell seats."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from sqlalchemy import text

from server.contracts.api import Health
from server.domain.deps import AppServices


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/live", summary="The process is up")
    async def live(self) -> Health:
        return Health(status="ok")

    @get("/ready", summary="PostgreSQL and Redis answer")
    async def ready(self, services: AppServices) -> Response[Health]:
        database, redis_state = await asyncio.gather(_check_db(services), _check_redis(services))
        healthy = database == "ok" and redis_state == "ok"
        return Response(
            Health(status="ok" if healthy else "degraded", database=database, redis=redis_state),
            status_code=200 if healthy else 503,
        )


async def _check_db(services: AppServices) -> str:
    try:
        async with asyncio.timeout(2), services.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means "not ready"; the reason goes in the body
        return f"error: {type(exc).__name__}"


async def _check_redis(services: AppServices) -> str:
    try:
        async with asyncio.timeout(2):
            await services.redis.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
