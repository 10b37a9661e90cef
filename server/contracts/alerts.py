"""Release alerts ("notify me"): a signed-in customer asks to hear when a movie has shows on
sale in a city."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class AlertCreate(msgspec.Struct, kw_only=True):
    # A city's name (any case) or id, as GET /api/v1/cities lists them.
    city: str


class AlertOut(msgspec.Struct, kw_only=True):
    alert_id: UUID
    movie_id: UUID
    movie_title: str
    release_date: date
    city_id: UUID
    city: str
    created_at: datetime
    # When the e-mail saying the movie is on sale was queued; null while still waiting.
    notified_at: datetime | None = None
