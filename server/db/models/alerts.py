"""Release alerts: a customer asks to hear when a movie goes on sale in a city."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, uuid_pk


class ReleaseAlert(Base):
    __tablename__ = "release_alerts"
    __table_args__ = (
        # One alert per customer, movie and city: asking twice finds the first one.
        Index("uq_release_alerts_user_movie_city", "user_id", "movie_id", "city_id", unique=True),
        # The alerts job looks only at those still waiting.
        Index(
            "ix_release_alerts_waiting",
            "movie_id",
            "city_id",
            postgresql_where=text("notified_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    movie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("movies.id", ondelete="CASCADE"))
    city_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    # Set from the injected clock, like every time the alert rules compare.
    created_at: Mapped[datetime]
    # When the alert's e-mail was queued; set in the statement that picks the alert, so no
    # alert is ever sent twice.
    notified_at: Mapped[datetime | None]
