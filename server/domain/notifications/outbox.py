"""Queue a notification in the caller's transaction: it is sent if, and only if, that
transaction commits (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from server.domain.notifications import queries
from server.domain.notifications.templates import TOPICS

T = TypeVar("T")


async def enqueue(
    db: AsyncConnection | AsyncSession, topic: str, payload: Mapping[str, Any] | msgspec.Struct
) -> int:
    """Write an outbox event and return its id. The topic and payload are checked against
    ``server/contracts/notifications.py`` here, so a mistake fails in the writer's own
    request and tests instead of in the background worker."""
    document = msgspec.to_builtins(payload)
    spec = TOPICS.get(topic)
    if spec is None:
        raise ValueError(f"no notification template for topic {topic!r}; known: {sorted(TOPICS)}")
    try:
        msgspec.convert(document, spec.payload)
    except msgspec.ValidationError as exc:
        raise ValueError(f"the payload does not fit topic {topic!r}: {exc}") from exc
    return await queries.insert_event(db, topic, msgspec.json.encode(document).decode())


async def enqueue_claimed(
    engine: AsyncEngine,
    claim: Callable[[AsyncConnection, int], Awaitable[Sequence[T]]],
    topic: str,
    event_of: Callable[[T], msgspec.Struct],
    limit: int,
) -> int:
    """Claim up to ``limit`` items and queue one event each, in one transaction per batch,
    until a batch comes back short; returns how many were queued. ``claim`` marks what it
    returns as done in the same transaction, so two processes never queue one item twice."""
    queued = 0
    while True:
        async with engine.begin() as conn:
            claimed = await claim(conn, limit)
            for item in claimed:
                await enqueue(conn, topic, event_of(item))
        queued += len(claimed)
        if len(claimed) < limit:
            return queued
