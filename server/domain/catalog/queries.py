"""SQL for the catalog: cities, theaters, screens, movies, reviews and show listings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Row,
    Select,
    and_,
    cast,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.catalog import MovieSort, MovieStatus
from server.contracts.enums import BookingSeatStatus, SeatStatus, ShowStatus
from server.db.models import (
    BookingSeat,
    City,
    Movie,
    Review,
    Screen,
    Seat,
    Show,
    ShowSeat,
    SnackItem,
    Theater,
    User,
)

# "Now showing" and the default show listing look this far ahead.
SHOWING_WINDOW = timedelta(days=14)
# Popularity counts tickets sold for shows from this long ago onwards.
POPULARITY_WINDOW = timedelta(days=14)


# -- cities and theaters --------------------------------------------------------------------


async def cities(session: AsyncSession) -> Sequence[City]:
    return (await session.scalars(select(City).order_by(City.name))).all()


async def city_by_id(session: AsyncSession, city_id: uuid.UUID) -> City | None:
    return await session.get(City, city_id)


async def city_by_name(session: AsyncSession, name: str) -> City | None:
    return await session.scalar(select(City).where(func.lower(City.name) == name.lower()))


async def theaters(session: AsyncSession, city_id: uuid.UUID | None) -> Sequence[Row[Theater, str]]:
    query = select(Theater, City.name).join(City, City.id == Theater.city_id)
    if city_id is not None:
        query = query.where(Theater.city_id == city_id)
    return (await session.execute(query.order_by(Theater.name))).all()


async def theater(session: AsyncSession, theater_id: uuid.UUID) -> Row[Theater, str] | None:
    query = (
        select(Theater, City.name)
        .join(City, City.id == Theater.city_id)
        .where(Theater.id == theater_id)
    )
    return (await session.execute(query)).first()


async def snack_menu(session: AsyncSession, theater_id: uuid.UUID) -> Sequence[Row[SnackItem]]:
    """The items on sale now, by category then name."""
    query = (
        select(SnackItem)
        .where(SnackItem.theater_id == theater_id, SnackItem.available)
        .order_by(SnackItem.category, SnackItem.name)
    )
    return (await session.execute(query)).all()


async def screens_with_capacity(
    session: AsyncSession, theater_id: uuid.UUID
) -> Sequence[Row[Screen, int]]:
    """The theater's screens with their count of seats still in use (retired ones excluded)."""
    seats_total = (
        select(func.count())
        .where(Seat.screen_id == Screen.id, Seat.retired.is_(False))
        .scalar_subquery()
    )
    query = select(Screen, seats_total).where(Screen.theater_id == theater_id)
    return (await session.execute(query.order_by(Screen.name))).all()


# -- movies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovieFilter:
    """Validated movie-list filters. ``today`` is the release-date reference (the city's
    local date when a city is given)."""

    now: datetime
    today: date
    city_id: uuid.UUID | None = None
    q: str | None = None
    language: str | None = None
    genre: str | None = None
    screen_format: str | None = None
    status: MovieStatus | None = None
    sort: MovieSort | None = None

    @property
    def needs_shows(self) -> bool:
        """Upcoming movies are listed everywhere; the rest only where they play soon."""
        if self.status is MovieStatus.NOW_SHOWING or self.screen_format is not None:
            return True
        return self.city_id is not None and self.status is not MovieStatus.UPCOMING


async def movies(session: AsyncSession, f: MovieFilter) -> Sequence[Movie]:
    query = select(Movie)
    if f.status is MovieStatus.NOW_SHOWING:
        query = query.where(Movie.release_date <= f.today)
    elif f.status is MovieStatus.UPCOMING:
        query = query.where(Movie.release_date > f.today)
    if f.needs_shows:
        query = query.where(_plays_soon(f))
    if f.language:
        query = query.where(_array_has(Movie.languages, f.language))
    if f.genre:
        query = query.where(_array_has(Movie.genres, f.genre))
    if f.q:
        query = query.where(_matches(f.q))
    return (await session.scalars(query.order_by(*_movie_order(f)))).all()


def _plays_soon(f: MovieFilter) -> ColumnElement[bool]:
    conditions = [
        Show.movie_id == Movie.id,
        Show.status != ShowStatus.CANCELLED.value,
        Show.starts_at >= f.now,
        Show.starts_at < f.now + SHOWING_WINDOW,
    ]
    if f.city_id is not None:
        conditions.append(
            Show.theater_id.in_(select(Theater.id).where(Theater.city_id == f.city_id))
        )
    if f.screen_format is not None:
        conditions.append(Show.format == f.screen_format)
    return select(Show.id).where(*conditions).exists()


def _array_has(column: Any, value: str) -> ColumnElement[bool]:
    """Case-insensitive membership in a text[] column ("hindi" finds "Hindi")."""
    element = func.unnest(column).table_valued("value").render_derived()
    return (
        select(1).select_from(element).where(func.lower(element.c.value) == value.lower()).exists()
    )


def _like_pattern(text: str, *, prefix_only: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


def _matches(q: str) -> ColumnElement[bool]:
    """Title by substring or trigram similarity (typos), cast names and genres by substring."""
    pattern = _like_pattern(q)
    member = func.jsonb_array_elements(Movie.cast_members).table_valued("value")
    cast_hit = (
        select(1)
        .select_from(member)
        .where(member.c.value.op("->>")("name").ilike(pattern))
        .exists()
    )
    return or_(
        Movie.title.ilike(pattern),
        Movie.title.op("%")(q),
        cast_hit,
        func.array_to_string(Movie.genres, " ").ilike(pattern),
    )


def _movie_order(f: MovieFilter) -> list[Any]:
    if f.sort is MovieSort.TITLE:
        return [Movie.title]
    if f.sort is MovieSort.RELEASE:
        return [Movie.release_date.desc(), Movie.title]
    if f.sort is MovieSort.RATING:
        average = Movie.rating_sum * 1.0 / func.nullif(Movie.rating_count, 0)
        return [average.desc().nulls_last(), Movie.rating_count.desc(), Movie.title]
    if f.sort is None and f.q:
        return [*_relevance(f.q), Movie.title]
    tickets = (
        select(func.count())
        .select_from(BookingSeat)
        .join(Show, Show.id == BookingSeat.show_id)
        .where(
            Show.movie_id == Movie.id,
            Show.starts_at >= f.now - POPULARITY_WINDOW,
            BookingSeat.status == BookingSeatStatus.ACTIVE.value,
        )
        .scalar_subquery()
    )
    return [tickets.desc(), Movie.rating_count.desc(), Movie.title]


def _relevance(q: str) -> list[Any]:
    """Titles starting with the text first, then the closest titles by trigram word match."""
    return [
        Movie.title.ilike(_like_pattern(q, prefix_only=True)).desc(),
        func.word_similarity(q, Movie.title).desc(),
    ]


async def movie(session: AsyncSession, movie_id: uuid.UUID) -> Movie | None:
    return await session.get(Movie, movie_id)


async def suggestions(
    session: AsyncSession, q: str, limit: int
) -> Sequence[Row[uuid.UUID, str, date]]:
    # ILIKE and the word-similarity operator (%>) both use the title's trigram index.
    query = (
        select(Movie.id, Movie.title, Movie.release_date)
        .where(or_(Movie.title.ilike(_like_pattern(q)), Movie.title.op("%>")(q)))
        .order_by(*_relevance(q), Movie.title)
        .limit(limit)
    )
    return (await session.execute(query)).all()


# -- reviews --------------------------------------------------------------------------------


async def reviews(
    session: AsyncSession, movie_id: uuid.UUID, limit: int, offset: int
) -> Sequence[Row[Review, str]]:
    query = (
        select(Review, User.name)
        .join(User, User.id == Review.user_id)
        .where(Review.movie_id == movie_id)
        .order_by(Review.created_at.desc(), Review.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(query)).all()


async def insert_review(
    session: AsyncSession,
    *,
    movie_id: uuid.UUID,
    user_id: uuid.UUID,
    rating: int,
    body: str,
    at: datetime,
) -> Review | None:
    """The new review, or None when this user already reviewed this movie."""
    statement = (
        insert(Review)
        .values(movie_id=movie_id, user_id=user_id, rating=rating, body=body, created_at=at)
        .on_conflict_do_nothing(index_elements=["movie_id", "user_id"])
        .returning(Review)
    )
    return await session.scalar(statement)


async def add_rating(session: AsyncSession, movie_id: uuid.UUID, rating: int) -> None:
    await session.execute(
        update(Movie)
        .where(Movie.id == movie_id)
        .values(rating_sum=Movie.rating_sum + rating, rating_count=Movie.rating_count + 1)
    )


# -- shows ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowFilter:
    now: datetime
    day: date | None = None
    city_id: uuid.UUID | None = None
    theater_id: uuid.UUID | None = None
    movie_id: uuid.UUID | None = None


ShowRow = Row[Show, str, str, str, str, float, float, int, int]


def _show_rows(now: datetime) -> Select[Show, str, str, str, str, float, float, int, int]:
    """Shows with their names, currency, theater position and live seat counts. A BLOCKED
    seat whose hold has run out counts as available, even before the sweeper frees it."""
    available = or_(
        ShowSeat.status == SeatStatus.AVAILABLE.value,
        and_(ShowSeat.status == SeatStatus.BLOCKED.value, ShowSeat.held_until <= now),
    )
    counts = (
        select(
            func.count().label("total"),
            func.count().filter(available).label("available"),
        )
        .where(ShowSeat.show_id == Show.id)
        .lateral("counts")
    )
    return (
        select(
            Show,
            Movie.title,
            Theater.name,
            Screen.name,
            City.currency,
            Theater.latitude,
            Theater.longitude,
            counts.c.total,
            counts.c.available,
        )
        .join(Movie, Movie.id == Show.movie_id)
        .join(Theater, Theater.id == Show.theater_id)
        .join(City, City.id == Theater.city_id)
        .join(Screen, Screen.id == Show.screen_id)
        .join(counts, true())
    )


async def shows(session: AsyncSession, f: ShowFilter) -> Sequence[ShowRow]:
    query = _show_rows(f.now).where(Show.status != ShowStatus.CANCELLED.value)
    if f.day is not None:
        query = query.where(*_on_local_day(f.day))
    else:
        query = query.where(Show.starts_at >= f.now, Show.starts_at < f.now + SHOWING_WINDOW)
    if f.city_id is not None:
        query = query.where(Theater.city_id == f.city_id)
    if f.theater_id is not None:
        query = query.where(Show.theater_id == f.theater_id)
    if f.movie_id is not None:
        query = query.where(Show.movie_id == f.movie_id)
    return (await session.execute(query.order_by(Show.starts_at, Theater.name, Screen.name))).all()


def _on_local_day(day: date) -> list[ColumnElement[bool]]:
    """Shows whose start, on the wall clock of their own city, falls on ``day``. The UTC range
    (every offset is within a day) keeps the starts_at index usable."""
    widest_start = datetime.combine(day - timedelta(days=1), time(), UTC)
    widest_end = datetime.combine(day + timedelta(days=2), time(), UTC)
    local_start = func.timezone(City.timezone, Show.starts_at)
    return [
        Show.starts_at >= widest_start,
        Show.starts_at < widest_end,
        cast(local_start, Date) == day,
    ]


async def show(session: AsyncSession, show_id: uuid.UUID, now: datetime) -> ShowRow | None:
    return (await session.execute(_show_rows(now).where(Show.id == show_id))).first()


# -- accounts the catalog describes ---------------------------------------------------------


async def existing_emails(session: AsyncSession, emails: list[str]) -> set[str]:
    """Which of these e-mail addresses belong to active users (compared case-insensitively)."""
    rows = await session.scalars(
        select(func.lower(User.email)).where(
            func.lower(User.email).in_([e.lower() for e in emails]), User.is_active.is_(True)
        )
    )
    return set(rows)
