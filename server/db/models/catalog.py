"""Cities, theaters, screens, seats, movies and reviews."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.models.base import Base, created_at, money, uuid_pk

# Refund share of the ticket price by hours before the show (the brief's default policy).
DEFAULT_CANCELLATION_POLICY: dict[str, Any] = {
    "tiers": [
        {"min_hours_before": 24, "refund_percent": 100},
        {"min_hours_before": 6, "refund_percent": 50},
        {"min_hours_before": 0, "refund_percent": 0},
    ],
    "convenience_fee_refundable": False,
}


class City(Base):
    __tablename__ = "cities"
    __table_args__ = (
        CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="tax_rate_range"),
        CheckConstraint("char_length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    # Tax on tickets and fees, in basis points (1800 = 18 %).
    tax_rate_bp: Mapped[int] = mapped_column(default=0, server_default="0")


class Theater(Base):
    __tablename__ = "theaters"
    __table_args__ = (
        CheckConstraint("hold_minutes BETWEEN 10 AND 15", name="hold_minutes_range"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        money("convenience_fee_minor"),
        CheckConstraint("cleaning_minutes BETWEEN 0 AND 120", name="cleaning_minutes_range"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    city_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cities.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    facilities: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    hold_minutes: Mapped[int] = mapped_column(SmallInteger, default=10, server_default="10")
    cleaning_minutes: Mapped[int] = mapped_column(SmallInteger, default=15, server_default="15")
    convenience_fee_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    # Wheelchair and companion seats go on general sale this long before the show.
    accessible_release_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    cancellation_policy: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=lambda: dict(DEFAULT_CANCELLATION_POLICY)
    )
    created_at: Mapped[datetime] = created_at()


class Screen(Base):
    __tablename__ = "screens"
    __table_args__ = (Index("uq_screens_theater_name", "theater_id", "name", unique=True),)

    id: Mapped[uuid.UUID] = uuid_pk()
    theater_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theaters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    formats: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    layout_name: Mapped[str] = mapped_column(String(200))
    # The layout source text as imported, so the map can be re-rendered and audited.
    layout_source: Mapped[str] = mapped_column(Text)
    screen_side: Mapped[str] = mapped_column(String(6), default="top")
    width: Mapped[int] = mapped_column(SmallInteger)
    height: Mapped[int] = mapped_column(SmallInteger)


class Seat(Base):
    __tablename__ = "seats"
    __table_args__ = (
        Index("uq_seats_screen_label", "screen_id", "label", unique=True),
        CheckConstraint(
            "seat_type IN ('regular', 'premium', 'recliner', 'couple', 'wheelchair', 'companion')",
            name="seat_type_valid",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    screen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16))
    row_label: Mapped[str] = mapped_column(String(8))
    number: Mapped[int] = mapped_column(SmallInteger)
    seat_type: Mapped[str] = mapped_column(String(12))
    section: Mapped[str] = mapped_column(String(40))
    x: Mapped[int] = mapped_column(SmallInteger)
    y: Mapped[int] = mapped_column(SmallInteger)
    accessible: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Couple seats: the partner seat's label; companion seats: their wheelchair space's label.
    pair_label: Mapped[str | None] = mapped_column(String(16))
    # A retired seat stays for history (bookings point at it) but is never sold again.
    retired: Mapped[bool] = mapped_column(default=False, server_default="false")


class Movie(Base):
    __tablename__ = "movies"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 600", name="duration_range"),
        Index(
            "ix_movies_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    title: Mapped[str] = mapped_column(String(300))
    genres: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    languages: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    cast_members: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    crew: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    certification: Mapped[str] = mapped_column(String(10))
    release_date: Mapped[date]
    synopsis: Mapped[str] = mapped_column(Text, default="")
    poster_url: Mapped[str | None] = mapped_column(Text)
    trailer_url: Mapped[str | None] = mapped_column(Text)
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at()


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 10", name="rating_range"),
        Index("uq_reviews_movie_user", "movie_id", "user_id", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    movie_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("movies.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_at()
