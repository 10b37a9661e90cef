"""The demo data: a small but complete cinema chain, read from ``fixtures/demo/*.json``.

``load_demo`` fills an empty, migrated database in one transaction. Run again, it finds the
demo accounts and only schedules shows for days that have none yet (the window moves with
the date), so ``bms demo`` is safe to run every day. docs/demo-data.md describes the data.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import SystemClock
from server.contracts.catalog import DemoAccount
from server.contracts.enums import ShowStatus
from server.db.models import (
    City,
    Coupon,
    Movie,
    Review,
    Screen,
    Seat,
    Show,
    SnackItem,
    Theater,
    User,
    UserTheater,
)
from server.domain.accounts.security import hash_password
from server.domain.catalog import queries as catalog_queries
from server.domain.catalog.screens import create_screen
from server.domain.schedule.services import ShowSpec, create_shows
from server.infra.database import make_engine, make_sessionmaker
from server.layouts import SHIPPED_LAYOUTS_DIR, Layout, load_layout

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "demo"
DEMO_PASSWORD = "demo"
# Two loaders started at once (say, two `bms serve --demo`) take turns on this lock.
ADVISORY_LOCK_KEY = 0x626D7364656D6F  # "bmsdemo"

T = TypeVar("T")


class DemoDataError(ValueError):
    """A fixture file is malformed or refers to something that is not there."""


# -- fixture shapes (unknown keys are refused, so a typo is reported, not ignored) ------------


class _Fixture(msgspec.Struct, forbid_unknown_fields=True):
    pass


class CityData(_Fixture):
    name: str
    country: str
    timezone: str
    currency: str
    tax_rate_bp: int
    # Added to every seat price of a show in that format (the city's currency, minor units).
    format_surcharge_minor: dict[str, int]


class ScreenData(_Fixture):
    name: str
    layout: str  # a file stem in layouts/, e.g. "imax-grand"
    formats: list[str]


class TheaterData(_Fixture):
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    facilities: list[str]
    hold_minutes: int
    cleaning_minutes: int
    convenience_fee_minor: int
    # Languages the theater programmes, in order of preference.
    languages: list[str]
    # Base price per seat type in minor units, before the format surcharge.
    prices: dict[str, int]
    screens: list[ScreenData]


class MovieData(_Fixture):
    title: str
    genres: list[str]
    languages: list[str]
    # The formats a print exists in; a show uses one the screen supports.
    formats: list[str]
    duration_minutes: int
    certification: str
    release_in_days: int  # relative to the day of loading, so the data never goes stale
    synopsis: str
    cast: list[dict[str, str]]
    crew: list[dict[str, str]]
    poster_url: str
    trailer_url: str


class SnackData(_Fixture):
    name: str
    category: str
    price_minor: int


class UserData(_Fixture):
    email: str
    name: str
    role: str
    note: str
    theaters: list[str] = []
    phone: str | None = None


class CouponData(_Fixture):
    code: str
    kind: str
    value: int
    valid_days: int
    min_amount_minor: int = 0
    max_discount_minor: int | None = None
    total_limit: int | None = None
    per_user_limit: int | None = None
    cities: list[str] | None = None  # None: every city
    seat_types: list[str] | None = None


class ReviewData(_Fixture):
    movie: str
    user: str
    rating: int
    text: str
    days_ago: int


class ScheduleData(_Fixture):
    days: int
    first_show: time
    last_start: time
    round_to_minutes: int


@dataclass(frozen=True)
class DemoData:
    cities: list[CityData]
    theaters: list[TheaterData]
    movies: list[MovieData]
    snacks: dict[str, list[SnackData]]  # menu by currency
    users: list[UserData]
    coupons: list[CouponData]
    reviews: list[ReviewData]
    schedule: ScheduleData


def _read(directory: Path, name: str, kind: type[T]) -> T:
    path = directory / name
    try:
        return msgspec.json.decode(path.read_bytes(), type=kind)
    except (OSError, msgspec.DecodeError) as exc:
        raise DemoDataError(f"{path}: {exc}") from None


def read_fixtures(directory: Path = FIXTURES_DIR) -> DemoData:
    return DemoData(
        cities=_read(directory, "cities.json", list[CityData]),
        theaters=_read(directory, "theaters.json", list[TheaterData]),
        movies=_read(directory, "movies.json", list[MovieData]),
        snacks=_read(directory, "snacks.json", dict[str, list[SnackData]]),
        users=_read(directory, "users.json", list[UserData]),
        coupons=_read(directory, "coupons.json", list[CouponData]),
        reviews=_read(directory, "reviews.json", list[ReviewData]),
        schedule=_read(directory, "schedule.json", ScheduleData),
    )


@cache
def demo_accounts() -> list[DemoAccount]:
    """The demo logins as a client may show them (all share the password ``demo``)."""
    users = _read(FIXTURES_DIR, "users.json", list[UserData])
    return [
        DemoAccount(email=u.email, password=DEMO_PASSWORD, role=u.role, note=u.note) for u in users
    ]


def _pick(found: dict[str, T], name: str, what: str, where: str) -> T:
    try:
        return found[name]
    except KeyError:
        raise DemoDataError(f"{where}: {what} {name!r} is not defined") from None


# -- loading --------------------------------------------------------------------------------


async def load_demo(database_url: str, *, now: datetime | None = None) -> str:
    """Load the demo data (or top up its shows) and return a one-line summary."""
    now = now or SystemClock().now()
    data = read_fixtures()
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
            emails = [u.email for u in data.users]
            if await catalog_queries.existing_emails(session, emails):
                added = await schedule_shows(session, data, now)
                return f"demo data already present; scheduled {added} shows for days without any"
            if await session.scalar(select(func.count()).select_from(City)):
                return (
                    "demo data not loaded: the database already holds other cities; load the "
                    "demo into an empty database (bms db reset)"
                )
            summary = await _load_everything(session, data, now)
            shows = await schedule_shows(session, data, now)
            return (
                f"demo data loaded: {summary}, {shows} shows; every password is '{DEMO_PASSWORD}'"
            )
    finally:
        await engine.dispose()


async def _load_everything(session: AsyncSession, data: DemoData, now: datetime) -> str:
    cities = await _insert_cities(session, data.cities)
    theaters = await _insert_theaters(session, data.theaters, cities)
    screens = await _insert_screens(session, data.theaters, theaters)
    movies = await _insert_movies(session, data, now.date())
    await _insert_snacks(session, data, theaters)
    users = await _insert_users(session, data.users, theaters)
    await _insert_coupons(session, data, theaters, now)
    await _insert_reviews(session, data.reviews, movies, users, now)
    return (
        f"{len(cities)} cities, {len(theaters)} theaters, {screens} screens, "
        f"{len(movies)} movies, {len(users)} users, {len(data.coupons)} coupons"
    )


async def _insert_cities(session: AsyncSession, cities: list[CityData]) -> dict[str, City]:
    rows = {
        c.name: City(
            name=c.name,
            country=c.country,
            timezone=c.timezone,
            currency=c.currency,
            tax_rate_bp=c.tax_rate_bp,
        )
        for c in cities
    }
    session.add_all(rows.values())
    await session.flush()
    return rows


async def _insert_theaters(
    session: AsyncSession, theaters: list[TheaterData], cities: dict[str, City]
) -> dict[str, Theater]:
    rows = {
        t.name: Theater(
            city_id=_pick(cities, t.city, "city", "theaters.json").id,
            name=t.name,
            address=t.address,
            latitude=t.latitude,
            longitude=t.longitude,
            facilities=t.facilities,
            hold_minutes=t.hold_minutes,
            cleaning_minutes=t.cleaning_minutes,
            convenience_fee_minor=t.convenience_fee_minor,
        )
        for t in theaters
    }
    session.add_all(rows.values())
    await session.flush()
    return rows


@cache
def _layout(stem: str) -> tuple[Layout, str]:
    path = SHIPPED_LAYOUTS_DIR / f"{stem}.layout"
    if not path.exists():
        raise DemoDataError(f"theaters.json: there is no layout {path}")
    return load_layout(path), path.read_text(encoding="utf-8")


async def _insert_screens(
    session: AsyncSession, theaters: list[TheaterData], rows: dict[str, Theater]
) -> int:
    count = 0
    for theater in theaters:
        for screen in theater.screens:
            layout, source = _layout(screen.layout)
            await create_screen(
                session,
                theater_id=rows[theater.name].id,
                name=screen.name,
                formats=screen.formats,
                layout=layout,
                layout_source=source,
            )
            count += 1
    return count


async def _insert_movies(
    session: AsyncSession, data: DemoData, today: date
) -> dict[str, uuid.UUID]:
    # Each movie starts with the totals of its demo reviews, so averages match the reviews.
    ratings: Counter[str] = Counter()
    votes: Counter[str] = Counter()
    for review in data.reviews:
        ratings[review.movie] += review.rating
        votes[review.movie] += 1
    rows = [
        {
            "title": m.title,
            "genres": m.genres,
            "languages": m.languages,
            "cast_members": m.cast,
            "crew": m.crew,
            "duration_minutes": m.duration_minutes,
            "certification": m.certification,
            "release_date": today + timedelta(days=m.release_in_days),
            "synopsis": m.synopsis,
            "poster_url": m.poster_url,
            "trailer_url": m.trailer_url,
            "rating_sum": ratings[m.title],
            "rating_count": votes[m.title],
        }
        for m in data.movies
    ]
    result = await session.execute(insert(Movie).returning(Movie.title, Movie.id), rows)
    return {title: movie_id for title, movie_id in result}


async def _insert_snacks(
    session: AsyncSession, data: DemoData, theaters: dict[str, Theater]
) -> None:
    currency = {c.name: c.currency for c in data.cities}
    rows = [
        {
            "theater_id": theaters[t.name].id,
            "name": item.name,
            "category": item.category,
            "price_minor": item.price_minor,
        }
        for t in data.theaters
        for item in _pick(data.snacks, currency[t.city], "snack menu for currency", "snacks.json")
    ]
    await session.execute(insert(SnackItem), rows)


async def _insert_users(
    session: AsyncSession, users: list[UserData], theaters: dict[str, Theater]
) -> dict[str, uuid.UUID]:
    # One hash for the shared demo password: hashing it per user would only cost time.
    password_hash = hash_password(DEMO_PASSWORD)
    rows = [
        {
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "phone": u.phone,
            "password_hash": password_hash,
        }
        for u in users
    ]
    result = await session.execute(insert(User).returning(User.email, User.id), rows)
    ids = {str(email): user_id for email, user_id in result}
    scopes = [
        {"user_id": ids[u.email], "theater_id": _pick(theaters, name, "theater", "users.json").id}
        for u in users
        for name in u.theaters
    ]
    if scopes:
        await session.execute(insert(UserTheater), scopes)
    return ids


async def _insert_coupons(
    session: AsyncSession, data: DemoData, theaters: dict[str, Theater], now: datetime
) -> None:
    by_city: dict[str, list[str]] = {}
    for theater in data.theaters:
        by_city.setdefault(theater.city, []).append(str(theaters[theater.name].id))

    def theater_ids(cities: list[str] | None) -> list[str] | None:
        if cities is None:
            return None
        return [id_ for city in cities for id_ in _pick(by_city, city, "city", "coupons.json")]

    rows = [
        {
            "code": c.code,
            "kind": c.kind,
            "value": c.value,
            "min_amount_minor": c.min_amount_minor,
            "max_discount_minor": c.max_discount_minor,
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=c.valid_days),
            "total_limit": c.total_limit,
            "per_user_limit": c.per_user_limit,
            "theater_ids": theater_ids(c.cities),
            "seat_types": c.seat_types,
        }
        for c in data.coupons
    ]
    await session.execute(insert(Coupon), rows)


async def _insert_reviews(
    session: AsyncSession,
    reviews: list[ReviewData],
    movies: dict[str, uuid.UUID],
    users: dict[str, uuid.UUID],
    now: datetime,
) -> None:
    rows = [
        {
            "movie_id": _pick(movies, r.movie, "movie", "reviews.json"),
            "user_id": _pick(users, r.user, "user", "reviews.json"),
            "rating": r.rating,
            "body": r.text,
            "created_at": now - timedelta(days=r.days_ago),
        }
        for r in reviews
    ]
    if rows:
        await session.execute(insert(Review), rows)


# -- the show schedule ----------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """A movie as the scheduler sees it."""

    movie_id: uuid.UUID
    duration_minutes: int
    languages: list[str]
    formats: list[str]
    release_date: date


@dataclass(frozen=True)
class Venue:
    """One screen with everything needed to programme it."""

    index: int
    screen_id: uuid.UUID
    theater_id: uuid.UUID
    zone: ZoneInfo
    cleaning: timedelta
    formats: list[str]
    languages: list[str]
    prices: dict[str, int]  # base price per seat type present on this screen
    surcharge: dict[str, int]
    busy: list[tuple[datetime, datetime]]  # existing shows, cleaning included

    def plays(self, feature: Feature) -> bool:
        return bool(set(feature.languages) & set(self.languages)) and bool(
            set(feature.formats) & set(self.formats)
        )

    def show_spec(self, feature: Feature, starts_at: datetime, slot: int) -> ShowSpec:
        formats = [f for f in self.formats if f in feature.formats]
        languages = [lang for lang in self.languages if lang in feature.languages]
        screen_format = formats[slot % len(formats)]
        extra = self.surcharge.get(screen_format, 0)
        return ShowSpec(
            movie_id=feature.movie_id,
            screen_id=self.screen_id,
            theater_id=self.theater_id,
            starts_at=starts_at,
            duration_minutes=feature.duration_minutes,
            language=languages[slot % len(languages)],
            format=screen_format,
            prices={seat_type: price + extra for seat_type, price in self.prices.items()},
        )

    def is_free(self, start: datetime, end: datetime) -> bool:
        return all(end <= busy_start or start >= busy_end for busy_start, busy_end in self.busy)

    def has_shows_on(self, day: date) -> bool:
        return any(start.astimezone(self.zone).date() == day for start, _ in self.busy)


async def schedule_shows(session: AsyncSession, data: DemoData, now: datetime) -> int:
    """Programme every demo screen for each local day of the window that has no shows yet."""
    venues = await _venues(session, data, now)
    features = await _features(session, data)
    specs: list[ShowSpec] = []
    for venue in venues:
        today = now.astimezone(venue.zone).date()
        for offset in range(data.schedule.days):
            day = today + timedelta(days=offset)
            if not venue.has_shows_on(day):
                specs.extend(_day_programme(venue, day, features, data.schedule, now))
    await create_shows(session, specs)
    return len(specs)


def _day_programme(
    venue: Venue, day: date, features: list[Feature], schedule: ScheduleData, now: datetime
) -> list[ShowSpec]:
    """Back-to-back shows from the first show time, each start rounded up after the previous
    show and its cleaning; a deterministic rotation picks the movies. Past slots are skipped."""
    playable = [f for f in features if f.release_date <= day and venue.plays(f)]
    start = datetime.combine(day, schedule.first_show, venue.zone)
    last_start = datetime.combine(day, schedule.last_start, venue.zone)
    step = timedelta(minutes=schedule.round_to_minutes)
    specs: list[ShowSpec] = []
    slot = 0
    while playable and start <= last_start:
        feature = playable[(venue.index * 7 + day.toordinal() * 3 + slot) % len(playable)]
        end = start + timedelta(minutes=feature.duration_minutes) + venue.cleaning
        if start > now and venue.is_free(start, end):
            specs.append(venue.show_spec(feature, start, slot))
        start = _round_up(end, step)
        slot += 1
    return specs


def _round_up(moment: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / seconds) * seconds, UTC)


async def _features(session: AsyncSession, data: DemoData) -> list[Feature]:
    formats = {m.title: m.formats for m in data.movies}
    rows = await session.execute(
        select(Movie.title, Movie.id, Movie.duration_minutes, Movie.languages, Movie.release_date)
        .where(Movie.title.in_(formats))
        .order_by(Movie.title)
    )
    return [
        Feature(movie_id, duration, list(languages), formats[title], released)
        for title, movie_id, duration, languages, released in rows
    ]


async def _venues(session: AsyncSession, data: DemoData, now: datetime) -> list[Venue]:
    fixtures = {t.name: t for t in data.theaters}
    surcharges = {c.name: c.format_surcharge_minor for c in data.cities}
    rows = await session.execute(
        select(Screen, Theater.name, Theater.cleaning_minutes, City.timezone)
        .join(Theater, Theater.id == Screen.theater_id)
        .join(City, City.id == Theater.city_id)
        .where(Theater.name.in_(fixtures))
        .order_by(Theater.name, Screen.name)
    )
    screens = rows.all()
    seat_types = await _seat_types(session, [s.id for s, *_ in screens])
    busy = await _busy(session, [s.id for s, *_ in screens], now)
    venues = []
    for index, (screen, theater_name, cleaning, timezone) in enumerate(screens):
        fixture = fixtures[theater_name]
        venues.append(
            Venue(
                index=index,
                screen_id=screen.id,
                theater_id=screen.theater_id,
                zone=ZoneInfo(timezone),
                cleaning=timedelta(minutes=cleaning),
                formats=list(screen.formats),
                languages=fixture.languages,
                prices={
                    seat_type: _pick(
                        fixture.prices,
                        seat_type,
                        "price for seat type",
                        f"theaters.json ({theater_name})",
                    )
                    for seat_type in seat_types[screen.id]
                },
                surcharge=surcharges[fixture.city],
                busy=busy.get(screen.id, []),
            )
        )
    return venues


async def _seat_types(
    session: AsyncSession, screen_ids: list[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    rows = await session.execute(
        select(Seat.screen_id, Seat.seat_type)
        .where(Seat.screen_id.in_(screen_ids), Seat.retired.is_(False))
        .distinct()
    )
    found: dict[uuid.UUID, set[str]] = {screen_id: set() for screen_id in screen_ids}
    for screen_id, seat_type in rows:
        found[screen_id].add(seat_type)
    return found


async def _busy(
    session: AsyncSession, screen_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """Live shows that may touch the window (from a day back), per screen."""
    rows = await session.execute(
        select(Show.screen_id, Show.starts_at, Show.cleaning_ends_at).where(
            Show.screen_id.in_(screen_ids),
            Show.status != ShowStatus.CANCELLED.value,
            Show.cleaning_ends_at > now - timedelta(days=1),
        )
    )
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {}
    for screen_id, starts_at, cleaning_ends_at in rows:
        busy.setdefault(screen_id, []).append((starts_at, cleaning_ends_at))
    return busy
