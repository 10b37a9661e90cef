"""Catalog rules: resolving filters, local dates and distances, review rules, list caching."""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from datetime import date
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar
from zoneinfo import ZoneInfo

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from server import demo
from server.clock import Clock
from server.contracts import api
from server.contracts.catalog import (
    MetaOut,
    MovieSort,
    MovieStatus,
    MovieSuggestion,
    ReviewCreate,
    ReviewOut,
    SnackItemOut,
    TheaterDetailOut,
)
from server.contracts.enums import Role, ScreenFormat
from server.db.models import City, Movie, Review, Screen, Theater
from server.domain.accounts.guards import require_role
from server.domain.accounts.principal import Principal
from server.domain.catalog import queries
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger("bms.catalog")

T = TypeVar("T")
Choice = TypeVar("Choice", bound=StrEnum)

# Catalog lists change rarely. Show listings carry live seat counts, so they are never cached.
LIST_TTL_SECONDS = 30
GENERATION_KEY = b"catalog:generation"
EARTH_RADIUS_KM = 6371.0088
MAX_REVIEW_CHARS = 2000
# The days a show search accepts: the search widens a day by the time zones around it, which
# overflows at the calendar's own ends.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


# -- caching --------------------------------------------------------------------------------


async def forget_lists(redis: Redis) -> None:
    """Drop every cached catalog list at once (call after changing cities, theaters, movies
    or shows): bumping the generation makes all old keys unreachable; they expire by TTL."""
    await redis.incr(GENERATION_KEY)


async def _cached(
    redis: Redis,
    name: str,
    params: tuple[object, ...],
    kind: type[T],
    load: Callable[[], Awaitable[T]],
) -> T:
    """The cached value of ``load()`` for these params, msgpack-encoded in Redis for a short
    while. A Redis outage only costs the cache: the list is then read from the database."""
    digest = hashlib.sha256(msgspec.json.encode([str(p) for p in params])).hexdigest()[:32]
    try:
        generation = (await redis.get(GENERATION_KEY) or b"0").decode()
        key = f"catalog:{generation}:{name}:{digest}"
        raw = await redis.get(key)
    except RedisError:
        log.warning("catalog cache unavailable; reading %s from the database", name)
        return await load()
    if raw is not None:
        return msgspec.msgpack.decode(raw, type=kind)
    value = await load()
    try:
        await redis.set(key, msgspec.msgpack.encode(value), ex=LIST_TTL_SECONDS)
    except RedisError:
        log.warning("catalog cache unavailable; %s not cached", name)
    return value


# -- input checks ---------------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


async def resolve_city(session: AsyncSession, key: str) -> City:
    """A city by id or by (case-insensitive) name."""
    try:
        city = await queries.city_by_id(session, uuid.UUID(key))
    except ValueError:
        city = await queries.city_by_name(session, key)
    if city is None:
        raise NotFound(f"There is no city {key!r}; GET /api/v1/cities lists them.")
    return city


def _origin(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise Invalid("Give both lat and lon (decimal degrees) to sort by distance, or neither.")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid(
            f"lat={lat}, lon={lon} is not a place on Earth; lat runs from -90 to 90 and lon "
            "from -180 to 180."
        )
    return lat, lon


def distance_km(origin: tuple[float, float], lat: float, lon: float) -> float:
    """Great-circle (haversine) distance, rounded to 10 m."""
    lat1, lon1, lat2, lon2 = map(math.radians, (origin[0], origin[1], lat, lon))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return round(2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a)), 2)


def _choice(kind: type[Choice], raw: str | None, name: str) -> Choice | None:
    value = _clean(raw)
    if value is None:
        return None
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise Invalid(f"{name}={raw!r} is not known; use one of {allowed}.") from None


def _screen_format(raw: str | None) -> str | None:
    value = _clean(raw)
    if value is None:
        return None
    for member in ScreenFormat:
        if member.value.lower() == value.lower():
            return member.value
    allowed = ", ".join(member.value for member in ScreenFormat)
    raise Invalid(f"format={raw!r} is not a screen format; use one of {allowed}.")


def _parse_day(raw: str | None) -> date | None:
    value = _clean(raw)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"date={raw!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Invalid(f"date={value} is out of range; give a date from {FIRST_DAY} to {LAST_DAY}.")
    return day


# -- cities and theaters --------------------------------------------------------------------


def city_out(city: City) -> api.CityOut:
    return api.CityOut(
        city_id=city.id,
        name=city.name,
        country=city.country,
        timezone=city.timezone,
        currency=city.currency,
        tax_rate_bp=city.tax_rate_bp,
    )


async def list_cities(session: AsyncSession, redis: Redis) -> list[api.CityOut]:
    async def load() -> list[api.CityOut]:
        return [city_out(city) for city in await queries.cities(session)]

    return await _cached(redis, "cities", (), list[api.CityOut], load)


def theater_out(theater: Theater, city_name: str) -> api.TheaterOut:
    return api.TheaterOut(
        theater_id=theater.id,
        name=theater.name,
        city_id=theater.city_id,
        city=city_name,
        address=theater.address,
        latitude=theater.latitude,
        longitude=theater.longitude,
        facilities=list(theater.facilities),
        hold_minutes=theater.hold_minutes,
        cleaning_minutes=theater.cleaning_minutes,
        convenience_fee_minor=theater.convenience_fee_minor,
        cancellation_policy=theater.cancellation_policy,
    )


async def list_theaters(
    session: AsyncSession,
    redis: Redis,
    *,
    city: str | None,
    lat: float | None,
    lon: float | None,
) -> list[api.TheaterOut]:
    """Theaters (in a city), by name; nearest first with ``distance_km`` when lat/lon given."""
    origin = _origin(lat, lon)
    city_key = _clean(city)

    async def load() -> list[api.TheaterOut]:
        city_id = (await resolve_city(session, city_key)).id if city_key else None
        return [theater_out(t, name) for t, name in await queries.theaters(session, city_id)]

    key = ((city_key or "").lower(),)
    found = await _cached(redis, "theaters", key, list[api.TheaterOut], load)
    if origin is None:
        return found
    for theater in found:
        theater.distance_km = distance_km(origin, theater.latitude, theater.longitude)
    return sorted(found, key=lambda t: (t.distance_km, t.name))


def screen_out(screen: Screen, seats_total: int) -> api.ScreenOut:
    return api.ScreenOut(
        screen_id=screen.id,
        theater_id=screen.theater_id,
        name=screen.name,
        formats=list(screen.formats),
        layout_name=screen.layout_name,
        seats_total=seats_total,
    )


async def theater_detail(session: AsyncSession, theater_id: uuid.UUID) -> TheaterDetailOut:
    found = await queries.theater(session, theater_id)
    if found is None:
        raise NotFound(f"There is no theater {theater_id}; GET /api/v1/theaters lists them.")
    theater, city_name = found
    screens = await queries.screens_with_capacity(session, theater_id)
    summary = theater_out(theater, city_name)
    return TheaterDetailOut(
        **msgspec.structs.asdict(summary), screens=[screen_out(s, n) for s, n in screens]
    )


async def snack_menu(session: AsyncSession, theater_id: uuid.UUID) -> list[SnackItemOut]:
    found = await queries.theater(session, theater_id)
    if found is None:
        raise NotFound(f"There is no theater {theater_id}; GET /api/v1/theaters lists them.")
    city = await queries.city_by_id(session, found[0].city_id)
    currency = city.currency if city is not None else ""
    return [
        SnackItemOut(
            item_id=item.id,
            name=item.name,
            category=item.category,
            price_minor=item.price_minor,
            currency=currency,
        )
        for (item,) in await queries.snack_menu(session, theater_id)
    ]


# -- movies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovieSearch:
    """The movie list's query string, as the client sent it."""

    city: str | None = None
    q: str | None = None
    language: str | None = None
    genre: str | None = None
    screen_format: str | None = None
    status: str | None = None
    sort: str | None = None


def average_rating(rating_sum: int, rating_count: int) -> float | None:
    """The mean rating rounded half-up to one decimal (integer arithmetic: 7.25 -> 7.3)."""
    if rating_count == 0:
        return None
    return ((rating_sum * 20 + rating_count) // (2 * rating_count)) / 10


def movie_out(movie: Movie) -> api.MovieOut:
    return api.MovieOut(
        movie_id=movie.id,
        title=movie.title,
        genres=list(movie.genres),
        languages=list(movie.languages),
        duration_minutes=movie.duration_minutes,
        certification=movie.certification,
        release_date=movie.release_date,
        synopsis=movie.synopsis,
        cast=movie.cast_members,
        crew=movie.crew,
        poster_url=movie.poster_url,
        trailer_url=movie.trailer_url,
        rating=average_rating(movie.rating_sum, movie.rating_count),
        rating_count=movie.rating_count,
    )


async def list_movies(
    session: AsyncSession, redis: Redis, clock: Clock, search: MovieSearch
) -> list[api.MovieOut]:
    status = _choice(MovieStatus, search.status, "status")
    sort = _choice(MovieSort, search.sort, "sort")
    screen_format = _screen_format(search.screen_format)
    city_key = _clean(search.city)
    normalized = tuple((_clean(v) or "").lower() for v in astuple(search))

    async def load() -> list[api.MovieOut]:
        now = clock.now()
        city = await resolve_city(session, city_key) if city_key else None
        today = now.astimezone(ZoneInfo(city.timezone)).date() if city else now.date()
        movie_filter = queries.MovieFilter(
            now=now,
            today=today,
            city_id=city.id if city else None,
            q=_clean(search.q),
            language=_clean(search.language),
            genre=_clean(search.genre),
            screen_format=screen_format,
            status=status,
            sort=sort,
        )
        return [movie_out(movie) for movie in await queries.movies(session, movie_filter)]

    return await _cached(redis, "movies", normalized, list[api.MovieOut], load)


async def autocomplete(session: AsyncSession, q: str | None, limit: int) -> list[MovieSuggestion]:
    text = _clean(q)
    if text is None:
        return []
    rows = await queries.suggestions(session, text, limit)
    return [
        MovieSuggestion(movie_id=movie_id, title=title, year=released.year)
        for movie_id, title, released in rows
    ]


async def find_movie(session: AsyncSession, movie_id: uuid.UUID) -> Movie:
    movie = await queries.movie(session, movie_id)
    if movie is None:
        raise NotFound(f"There is no movie {movie_id}; GET /api/v1/movies lists them.")
    return movie


async def movie_detail(session: AsyncSession, movie_id: uuid.UUID) -> api.MovieOut:
    return movie_out(await find_movie(session, movie_id))


# -- reviews --------------------------------------------------------------------------------


def review_out(review: Review, user_name: str) -> ReviewOut:
    return ReviewOut(
        review_id=review.id,
        movie_id=review.movie_id,
        user_id=review.user_id,
        user_name=user_name,
        rating=review.rating,
        text=review.body,
        created_at=review.created_at,
    )


async def list_reviews(
    session: AsyncSession, movie_id: uuid.UUID, *, limit: int, offset: int
) -> list[ReviewOut]:
    await find_movie(session, movie_id)
    rows = await queries.reviews(session, movie_id, limit, offset)
    return [review_out(review, name) for review, name in rows]


def _check_review(principal: Principal, body: ReviewCreate) -> str:
    require_role(principal, Role.CUSTOMER)
    if principal.is_guest:
        raise Forbidden("Guests cannot review movies; log in with a customer account first.")
    if not 1 <= body.rating <= 10:
        raise Invalid(f"rating {body.rating} is out of range; give a whole number from 1 to 10.")
    text = body.text.strip()
    if len(text) > MAX_REVIEW_CHARS:
        raise Invalid(f"The review text has {len(text)} characters; keep it to {MAX_REVIEW_CHARS}.")
    return text


async def add_review(
    session: AsyncSession,
    redis: Redis,
    clock: Clock,
    principal: Principal,
    movie_id: uuid.UUID,
    body: ReviewCreate,
) -> ReviewOut:
    """One review per user and movie; the movie's rating totals change in the same
    transaction, so the average always matches the reviews."""
    text = _check_review(principal, body)
    await find_movie(session, movie_id)
    review = await queries.insert_review(
        session,
        movie_id=movie_id,
        user_id=principal.user_id,
        rating=body.rating,
        body=text,
        at=clock.now(),
    )
    if review is None:
        raise Conflict("You have already reviewed this movie; each account reviews a movie once.")
    await queries.add_rating(session, movie_id, body.rating)
    await session.commit()
    await forget_lists(redis)
    return review_out(review, principal.name)


# -- shows ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowSearch:
    city: str | None = None
    day: str | None = None
    movie_id: uuid.UUID | None = None
    theater_id: uuid.UUID | None = None
    lat: float | None = None
    lon: float | None = None


def show_out(row: queries.ShowRow) -> api.ShowOut:
    show, title, theater_name, screen_name, currency, _, _, total, available = row
    return api.ShowOut(
        show_id=show.id,
        movie_id=show.movie_id,
        title=title,
        theater_id=show.theater_id,
        theater_name=theater_name,
        screen_id=show.screen_id,
        screen_name=screen_name,
        starts_at=show.starts_at,
        ends_at=show.ends_at,
        status=show.status,
        language=show.language,
        format=show.format,
        seats_total=total,
        seats_available=available,
        prices=show.prices,
        currency=currency,
    )


async def list_shows(session: AsyncSession, clock: Clock, search: ShowSearch) -> list[api.ShowOut]:
    """Shows on a local date (each city's own wall clock), or the next 14 days without one;
    nearest theater first when lat/lon are given."""
    origin = _origin(search.lat, search.lon)
    day = _parse_day(search.day)
    city_key = _clean(search.city)
    city = await resolve_city(session, city_key) if city_key else None
    if search.theater_id is not None and await queries.theater(session, search.theater_id) is None:
        raise NotFound(f"There is no theater {search.theater_id}; GET /api/v1/theaters lists them.")
    if search.movie_id is not None:
        await find_movie(session, search.movie_id)
    show_filter = queries.ShowFilter(
        now=clock.now(),
        day=day,
        city_id=city.id if city else None,
        theater_id=search.theater_id,
        movie_id=search.movie_id,
    )
    rows = await queries.shows(session, show_filter)
    if origin is not None:
        # Stable sort: within one theater the time order from SQL stays.
        rows = sorted(rows, key=lambda row: distance_km(origin, row.latitude, row.longitude))
    return [show_out(row) for row in rows]


async def show_detail(session: AsyncSession, clock: Clock, show_id: uuid.UUID) -> api.ShowOut:
    row = await queries.show(session, show_id, clock.now())
    if row is None:
        raise NotFound(f"There is no show {show_id}; GET /api/v1/shows lists them.")
    return show_out(row)


# -- meta -----------------------------------------------------------------------------------


def _version() -> str:
    try:
        return version("bms")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


async def meta(session: AsyncSession) -> MetaOut:
    """Demo accounts are listed only while they exist: a real installation shows none."""
    accounts = demo.demo_accounts()
    present = await queries.existing_emails(session, [a.email for a in accounts])
    listed = [a for a in accounts if a.email.lower() in present]
    return MetaOut(version=_version(), demo=bool(listed), demo_accounts=listed)
