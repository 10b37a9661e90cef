"""Bring a server process up: settings, embedded backends, migrations, then the app."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from server.infra.embedded import EmbeddedBackend, start_embedded
from server.settings import Settings

log = logging.getLogger("bms.server")

REDLOCK_NODES = 3


def redact(url: str) -> str:
    """Hide the password in a URL before it goes to a log."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def with_backends(settings: Settings) -> tuple[Settings, EmbeddedBackend]:
    """Fill in embedded PostgreSQL/Valkey for whatever URL is not configured."""
    wants_redlock_nodes = settings.lock_strategy == "redlock" and not settings.redlock_urls
    nodes = 0
    if settings.uses_embedded_redis:
        nodes = REDLOCK_NODES if wants_redlock_nodes else 1
    backend = start_embedded(
        settings.data_dir, database=settings.uses_embedded_database, redis_nodes=nodes
    )
    resolved = replace(
        settings,
        database_url=settings.database_url or backend.database_url,
        redis_url=settings.redis_url or backend.redis_url,
        redlock_urls=settings.redlock_urls or backend.redlock_urls,
    )
    if resolved.lock_strategy == "redlock" and len(resolved.redlock_urls) < REDLOCK_NODES:
        raise SystemExit(
            "the redlock strategy needs BMS_REDLOCK_URLS with at least 3 independent Redis "
            "nodes when BMS_REDIS_URL is set"
        )
    return resolved, backend


def describe(configured: Settings, resolved: Settings) -> None:
    """Log which database and Redis this process uses, and whether they are embedded."""
    kind = "embedded" if configured.uses_embedded_database else "external"
    log.info("database (%s): %s", kind, redact(resolved.database_url or ""))
    kind = "embedded" if configured.uses_embedded_redis else "external"
    log.info("redis (%s): %s", kind, redact(resolved.redis_url or ""))
    log.info("lock strategy: %s", resolved.lock_strategy)


def migrate(settings: Settings) -> None:
    from server.db.migrate import upgrade

    asyncio.run(upgrade(settings.database_url or ""))
