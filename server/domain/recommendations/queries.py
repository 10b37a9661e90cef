"""SQL for recommendations: who booked what, what plays soon, and what people co-booked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CTE, Integer, Row, and_, cast, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import BookingSeatStatus, BookingStatus, Role, ShowStatus
from server.db.models import Booking, BookingSeat, Movie, Show, Theater, User
from server.domain.catalog.queries import POPULARITY_WINDOW, SHOWING_WINDOW

# A booking says someone chose a movie while at least one of its seats is still theirs.
KEPT_BOOKINGS = (BookingStatus.CONFIRMED.value, BookingStatus.PARTIALLY_CANCELLED.value)


@dataclass(frozen=True, slots=True)
class Audience:
    """Whose recommendations, where (None: every city) and at what moment."""

    user_id: uuid.UUID
    now: datetime
    city_id: uuid.UUID | None = None


# (movie, people who booked it and one of yours, your movie most of them booked, tickets sold)
CandidateRow = Row[Movie, int, str | None, int]


def _history() -> CTE:
    """(user, movie) once per customer who kept a booking for it. Staff are left out: a
    clerk's bookings are walk-in customers' choices, not one person's taste."""
    kept_seat = (
        select(BookingSeat.booking_id)
        .where(
            BookingSeat.booking_id == Booking.id,
            BookingSeat.status == BookingSeatStatus.ACTIVE.value,
        )
        .exists()
    )
    return (
        select(Booking.user_id, Show.movie_id)
        .distinct()
        .join(Show, Show.id == Booking.show_id)
        .join(User, User.id == Booking.user_id)
        .where(Booking.status.in_(KEPT_BOOKINGS), kept_seat, User.role == Role.CUSTOMER.value)
        .cte("history")
    )


def _in_city(city_id: uuid.UUID | None) -> list[Any]:
    if city_id is None:
        return []
    return [Show.theater_id.in_(select(Theater.id).where(Theater.city_id == city_id))]


async def candidates(session: AsyncSession, audience: Audience) -> Sequence[CandidateRow]:
    """Every movie with a bookable show in the showing window (in the city) that the user has
    not booked, with its item-to-item co-booking count and popularity, in one statement.

    The co-booking count of a candidate X sums, over each movie M the user booked, the number
    of other customers who booked both M and X (item-to-item collaborative filtering)."""
    history = _history()
    mine = select(history.c.movie_id).where(history.c.user_id == audience.user_id)
    showing = (
        select(Show.movie_id)
        .distinct()
        .where(
            Show.status == ShowStatus.SCHEDULED.value,
            Show.starts_at >= audience.now,
            Show.starts_at < audience.now + SHOWING_WINDOW,
            Show.movie_id.not_in(mine),
            *_in_city(audience.city_id),
        )
        .cte("showing")
    )
    seed, peer, other = history.alias("seed"), history.alias("peer"), history.alias("other")
    pairs = (
        select(
            other.c.movie_id,
            seed.c.movie_id.label("seed_id"),
            func.count().label("people"),
        )
        .join(peer, and_(peer.c.movie_id == seed.c.movie_id, peer.c.user_id != seed.c.user_id))
        .join(other, other.c.user_id == peer.c.user_id)
        .where(
            seed.c.user_id == audience.user_id,
            other.c.movie_id.in_(select(showing.c.movie_id)),
        )
        .group_by(other.c.movie_id, seed.c.movie_id)
        .cte("pairs")
    )
    # One row per candidate: the total, and the seed most co-booked with it as the reason.
    seed_movie = Movie.__table__.alias("seed_movie")
    co_booked = (
        select(
            pairs.c.movie_id,
            cast(func.sum(pairs.c.people).over(partition_by=pairs.c.movie_id), Integer).label(
                "people"
            ),
            seed_movie.c.title.label("because"),
        )
        .ext(distinct_on(pairs.c.movie_id))
        .join(seed_movie, seed_movie.c.id == pairs.c.seed_id)
        .order_by(pairs.c.movie_id, pairs.c.people.desc(), seed_movie.c.title, seed_movie.c.id)
        .cte("co_booked")
    )
    sold = (
        select(Show.movie_id, func.count().label("tickets"))
        .join(BookingSeat, BookingSeat.show_id == Show.id)
        .where(
            BookingSeat.status == BookingSeatStatus.ACTIVE.value,
            Show.starts_at >= audience.now - POPULARITY_WINDOW,
            Show.movie_id.in_(select(showing.c.movie_id)),
            *_in_city(audience.city_id),
        )
        .group_by(Show.movie_id)
        .cte("sold")
    )
    query = (
        select(
            Movie,
            func.coalesce(co_booked.c.people, 0),
            co_booked.c.because,
            func.coalesce(sold.c.tickets, 0),
        )
        .join(showing, showing.c.movie_id == Movie.id)
        .outerjoin(co_booked, co_booked.c.movie_id == Movie.id)
        .outerjoin(sold, sold.c.movie_id == Movie.id)
    )
    return (await session.execute(query)).all()


@dataclass(frozen=True, slots=True)
class Taste:
    """What the user said they like (profile ``preferences``: ``{"genres": [...],
    "languages": [...]}``) and the genres and languages of the movies they booked."""

    preferences: dict[str, Any]
    booked_genres: list[str]
    booked_languages: list[str]


async def taste(session: AsyncSession, user_id: uuid.UUID) -> Taste:
    preferences = await session.scalar(select(User.preferences).where(User.id == user_id))
    history = _history()
    booked = select(history.c.movie_id).where(history.c.user_id == user_id)
    rows = (
        await session.execute(select(Movie.genres, Movie.languages).where(Movie.id.in_(booked)))
    ).all()
    return Taste(
        preferences=preferences or {},
        booked_genres=[genre for genres, _ in rows for genre in genres],
        booked_languages=[language for _, languages in rows for language in languages],
    )
