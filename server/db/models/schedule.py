"""Shows and dynamic-pricing rules."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.contracts.enums import ScreenFormat, ShowStatus
from server.db.models.base import Base, created_at, one_of, uuid_pk


class Show(Base):
    __tablename__ = "shows"
    __table_args__ = (
        one_of("status", ShowStatus),
        one_of("format", ScreenFormat),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("cleaning_ends_at >= ends_at", name="cleaning_after_end"),
        # Two live shows on one screen may not overlap, cleaning buffer included. The database
        # enforces it (btree_gist), so no upload path or race can sneak an overlap in.
        ExcludeConstraint(
            (text("screen_id"), "="),
            (text("tstzrange(starts_at, cleaning_ends_at)"), "&&"),
            name="no_overlap_on_screen",
            using="gist",
            where=text("status <> 'CANCELLED'"),
        ),
        Index("ix_shows_starts_at", "starts_at"),
        Index("ix_shows_movie_starts", "movie_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    movie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("movies.id"))
    screen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screens.id"))
    theater_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theaters.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    cleaning_ends_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(
        String(12), default=ShowStatus.SCHEDULED.value, server_default=ShowStatus.SCHEDULED.value
    )
    # When sale opens (a waiting room shuffles whoever queued before this).
    sale_opens_at: Mapped[datetime | None]
    # Base price per seat type in minor units, e.g. {"regular": 25000, "premium": 40000}.
    prices: Mapped[dict[str, int]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    cancel_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at()


class PriceRule(Base):
    """A dynamic-pricing rule: an adjustment that applies when its condition holds.

    ``condition`` examples: {"kind": "occupancy", "min_percent": 70},
    {"kind": "weekday", "days": [5, 6]}, {"kind": "time_of_day", "from": "18:00", "to": "23:59"},
    {"kind": "days_before", "max_days": 1}.
    """

    __tablename__ = "price_rules"

    id: Mapped[uuid.UUID] = uuid_pk()
    theater_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theaters.id", ondelete="CASCADE"))
    screen_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("screens.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(120))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    adjust_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    seat_types: Mapped[list[str] | None] = mapped_column(JSONB)
    # Per seat type bounds in minor units, e.g. {"regular": {"floor": 15000, "ceiling": 40000}}.
    bounds: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    priority: Mapped[int] = mapped_column(default=100, server_default="100")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at()
