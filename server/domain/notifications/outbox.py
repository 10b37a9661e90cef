"""Queue a notification in the caller's transaction: it is sent if, and only if, that
transaction commits (the transactional outbox)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.domain.notifications import queries
from server.domain.notifications.templates import TOPICS


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
