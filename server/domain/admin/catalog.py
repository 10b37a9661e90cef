"""Catalog writes: theaters and their policies, screens from layout files, movies.

Platform admins create theaters and movies; theater admins change their own theaters and
screens. Every change drops the cached catalog lists (``forget_lists``) after it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date as date_type

import msgspec
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.contracts import admin as contracts
from server.contracts import api
from server.contracts.enums import ScreenFormat
from server.db.models import City, Movie, Screen, Theater
from server.db.models.catalog import DEFAULT_CANCELLATION_POLICY
from server.domain.accounts.guards import require_theater
from server.domain.accounts.principal import Principal
from server.domain.admin import queries
from server.domain.catalog.screens import create_screen
from server.domain.catalog.services import forget_lists, movie_out, resolve_city, theater_out
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.names import distinct_names
from server.layouts import Layout, LayoutError, parse_layout

MAX_HOURS_BEFORE = 720
MAX_ACCESSIBLE_RELEASE_MINUTES = 24 * 60
MAX_LAYOUT_ISSUES_IN_DETAIL = 5

# -- theaters -------------------------------------------------------------------------------


def _text(value: str, what: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit:
        raise Invalid(f"{what} must be 1 to {limit} characters; it is {len(cleaned)}.")
    return cleaned


def _between(value: int, low: int, high: int, what: str) -> None:
    if not low <= value <= high:
        raise Invalid(f"{what} must be from {low} to {high}; {value} is not.")


def _check_theater(theater: Theater) -> None:
    _between(theater.hold_minutes, 10, 15, "hold_minutes")
    _between(theater.cleaning_minutes, 0, 120, "cleaning_minutes")
    _between(
        theater.accessible_release_minutes,
        0,
        MAX_ACCESSIBLE_RELEASE_MINUTES,
        "accessible_release_minutes",
    )
    if theater.convenience_fee_minor < 0:
        raise Invalid("convenience_fee_minor cannot be negative; give 0 for no fee.")
    if not (-90 <= theater.latitude <= 90 and -180 <= theater.longitude <= 180):
        raise Invalid("latitude runs from -90 to 90 and longitude from -180 to 180.")


def cancellation_policy(policy: contracts.CancellationPolicy) -> dict[str, object]:
    """The stored form: tiers from the earliest cancellation to the latest. A later
    cancellation may never get a bigger refund than an earlier one."""
    tiers = sorted(policy.tiers, key=lambda tier: -tier.min_hours_before)
    if not tiers:
        raise Invalid("A cancellation policy needs at least one tier.")
    hours = [tier.min_hours_before for tier in tiers]
    if len(set(hours)) != len(hours):
        raise Invalid("Two cancellation tiers have the same min_hours_before; merge them.")
    for tier in tiers:
        _between(tier.min_hours_before, 0, MAX_HOURS_BEFORE, "min_hours_before")
        _between(tier.refund_percent, 0, 100, "refund_percent")
    refunds = [tier.refund_percent for tier in tiers]
    if refunds != sorted(refunds, reverse=True):
        raise Invalid(
            "A later cancellation cannot get a bigger refund than an earlier one; make "
            "refund_percent fall (or stay) as min_hours_before falls."
        )
    return {
        "tiers": [msgspec.to_builtins(tier) for tier in tiers],
        "convenience_fee_refundable": policy.convenience_fee_refundable,
    }


async def create_theater(
    session: AsyncSession, redis: Redis, body: contracts.TheaterCreate
) -> contracts.TheaterAdminOut:
    city = await resolve_city(session, body.city.strip())
    name = _text(body.name, "name", 200)
    if await queries.theater_name_taken(session, name):
        raise Conflict(f"A theater named {name!r} already exists; pick another name.")
    theater = Theater(
        city_id=city.id,
        name=name,
        address=_text(body.address, "address", 1000),
        latitude=body.latitude,
        longitude=body.longitude,
        facilities=distinct_names(body.facilities),
        hold_minutes=body.hold_minutes,
        cleaning_minutes=body.cleaning_minutes,
        convenience_fee_minor=body.convenience_fee_minor,
        accessible_release_minutes=body.accessible_release_minutes,
        cancellation_policy=(
            cancellation_policy(body.cancellation_policy)
            if body.cancellation_policy
            else dict(DEFAULT_CANCELLATION_POLICY)
        ),
    )
    _check_theater(theater)
    session.add(theater)
    await session.commit()
    await forget_lists(redis)
    return await theater_detail(session, theater.id)


async def _theater(session: AsyncSession, principal: Principal, theater_id: uuid.UUID) -> Theater:
    theater = await session.get(Theater, theater_id)
    if theater is None:
        raise NotFound(f"There is no theater {theater_id}; `bms admin theater list` shows yours.")
    require_theater(principal, theater_id)
    return theater


async def update_theater(
    session: AsyncSession,
    redis: Redis,
    principal: Principal,
    theater_id: uuid.UUID,
    body: contracts.TheaterUpdate,
) -> contracts.TheaterAdminOut:
    theater = await _theater(session, principal, theater_id)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    if "name" in changes:
        changes["name"] = _text(body.name or "", "name", 200)
        if await queries.theater_name_taken(session, changes["name"], except_id=theater_id):
            raise Conflict(f"A theater named {changes['name']!r} already exists.")
    if "address" in changes:
        changes["address"] = _text(body.address or "", "address", 1000)
    if body.facilities is not None:
        changes["facilities"] = distinct_names(body.facilities)
    if body.cancellation_policy is not None:
        changes["cancellation_policy"] = cancellation_policy(body.cancellation_policy)
    for field, value in changes.items():
        setattr(theater, field, value)
    _check_theater(theater)
    await session.commit()
    await forget_lists(redis)
    return await theater_detail(session, theater_id)


def _screen_out(screen: Screen, counts: queries.SeatCounts) -> contracts.ScreenAdminOut:
    return contracts.ScreenAdminOut(
        screen_id=screen.id,
        theater_id=screen.theater_id,
        name=screen.name,
        formats=list(screen.formats),
        layout_name=screen.layout_name,
        seats_total=sum(counts.by_type.values()),
        screen_side=screen.screen_side,
        width=screen.width,
        height=screen.height,
        seats_by_type=counts.by_type,
        seats_retired=counts.retired,
    )


async def _screens_out(
    session: AsyncSession, screens: Sequence[Screen]
) -> list[contracts.ScreenAdminOut]:
    counts = await queries.seat_counts(session, [s.id for s in screens])
    return [_screen_out(s, counts[s.id]) for s in screens]


def _theater_out(
    theater: Theater, city: City, screens: list[contracts.ScreenAdminOut]
) -> contracts.TheaterAdminOut:
    return contracts.TheaterAdminOut(
        **msgspec.structs.asdict(theater_out(theater, city.name)),
        accessible_release_minutes=theater.accessible_release_minutes,
        timezone=city.timezone,
        currency=city.currency,
        screens=screens,
    )


async def list_theaters(
    session: AsyncSession, principal: Principal
) -> list[contracts.TheaterAdminOut]:
    """Platform admins see every theater, theater admins their own, each with its screens."""
    scope = None if principal.is_platform_admin else principal.theater_ids
    rows = await queries.theaters_with_city(session, scope)
    screens = await _screens_out(
        session, await queries.screens_of(session, [t.id for t, _ in rows])
    )
    return [
        _theater_out(theater, city, [s for s in screens if s.theater_id == theater.id])
        for theater, city in rows
    ]


async def theater_detail(session: AsyncSession, theater_id: uuid.UUID) -> contracts.TheaterAdminOut:
    [(theater, city)] = await queries.theaters_with_city(session, [theater_id])
    screens = await _screens_out(session, await queries.screens_of(session, [theater_id]))
    return _theater_out(theater, city, screens)


async def show_theater(
    session: AsyncSession, principal: Principal, theater_id: uuid.UUID
) -> contracts.TheaterAdminOut:
    await _theater(session, principal, theater_id)
    return await theater_detail(session, theater_id)


# -- screens --------------------------------------------------------------------------------


def screen_formats(values: Iterable[str]) -> list[str]:
    """Formats in their canonical spelling ("imax" -> "IMAX"); at least one."""
    known = {member.value.lower(): member.value for member in ScreenFormat}
    formats: list[str] = []
    for value in values:
        canonical = known.get(value.strip().lower())
        if canonical is None:
            raise Invalid(f"{value!r} is not a screen format; use {', '.join(known.values())}.")
        if canonical not in formats:
            formats.append(canonical)
    if not formats:
        raise Invalid(f"A screen needs at least one format: {', '.join(known.values())}.")
    return formats


def parse_layout_text(text: str, source: str) -> Layout:
    """The parsed layout, or a 422 listing every problem as file:line:column (all of them in
    ``issues``, the first few in the sentence)."""
    try:
        return parse_layout(text, source=source or "layout")
    except LayoutError as exc:
        shown = "; ".join(str(issue) for issue in exc.issues[:MAX_LAYOUT_ISSUES_IN_DETAIL])
        more = len(exc.issues) - MAX_LAYOUT_ISSUES_IN_DETAIL
        tail = f"; and {more} more" if more > 0 else ""
        raise Invalid(
            f"The layout has {len(exc.issues)} problem(s): {shown}{tail}. Fix them (check with "
            "`bms admin layout validate`) and send it again.",
            issues=[msgspec.to_builtins(issue) for issue in exc.issues],
        ) from None


async def create_screen_from_layout(
    session: AsyncSession, redis: Redis, principal: Principal, body: contracts.ScreenCreate
) -> contracts.ScreenAdminOut:
    await _theater(session, principal, body.theater_id)
    name = _text(body.name, "name", 100)
    if await queries.screen_name_taken(session, body.theater_id, name):
        raise Conflict(f"This theater already has a screen named {name!r}.")
    formats = screen_formats(body.formats)
    layout = parse_layout_text(body.layout, body.source)
    screen = await create_screen(
        session,
        theater_id=body.theater_id,
        name=name,
        formats=formats,
        layout=layout,
        layout_source=body.layout,
    )
    await session.commit()
    await forget_lists(redis)
    return (await _screens_out(session, [screen]))[0]


async def screen_for(session: AsyncSession, principal: Principal, screen_id: uuid.UUID) -> Screen:
    screen = await session.get(Screen, screen_id)
    if screen is None:
        raise NotFound(f"There is no screen {screen_id}; `bms admin screen list` shows yours.")
    require_theater(principal, screen.theater_id)
    return screen


async def list_screens(
    session: AsyncSession, principal: Principal, theater_id: uuid.UUID | None
) -> list[contracts.ScreenAdminOut]:
    if theater_id is not None:
        await _theater(session, principal, theater_id)
        scope: Iterable[uuid.UUID] = [theater_id]
    elif principal.is_platform_admin:
        scope = [t.id for t, _ in await queries.theaters_with_city(session, None)]
    else:
        scope = principal.theater_ids
    return await _screens_out(session, await queries.screens_of(session, list(scope)))


async def show_screen(
    session: AsyncSession, principal: Principal, screen_id: uuid.UUID
) -> contracts.ScreenAdminOut:
    return (await _screens_out(session, [await screen_for(session, principal, screen_id)]))[0]


async def update_screen(
    session: AsyncSession,
    redis: Redis,
    clock: Clock,
    principal: Principal,
    screen_id: uuid.UUID,
    body: contracts.ScreenUpdate,
) -> contracts.ScreenAdminOut:
    screen = await screen_for(session, principal, screen_id)
    if body.name is not None:
        name = _text(body.name, "name", 100)
        if await queries.screen_name_taken(session, screen.theater_id, name, except_id=screen_id):
            raise Conflict(f"This theater already has a screen named {name!r}.")
        screen.name = name
    if body.formats is not None:
        formats = screen_formats(body.formats)
        dropped = set(screen.formats) - set(formats)
        # Only a removed format can strand shows: adding one, or resending the same list, never.
        stranded = (
            await queries.future_shows_using(
                session, now=clock.now(), screen_id=screen_id, formats=dropped
            )
            if dropped
            else 0
        )
        if stranded:
            raise Conflict(
                f"{stranded} future show(s) on this screen are in {', '.join(sorted(dropped))}; "
                "cancel them (or keep the format) before removing it."
            )
        screen.formats = formats
    await session.commit()
    await forget_lists(redis)
    return await show_screen(session, principal, screen_id)


async def screen_layout(
    session: AsyncSession, principal: Principal, screen_id: uuid.UUID
) -> contracts.ScreenLayoutOut:
    screen = await screen_for(session, principal, screen_id)
    return contracts.ScreenLayoutOut(
        screen_id=screen.id,
        theater_id=screen.theater_id,
        name=screen.name,
        layout_name=screen.layout_name,
        source=screen.layout_source,
    )


# -- movies ---------------------------------------------------------------------------------

Problems = list[tuple[str, str]]  # (field, reason)


def movie_problems(movie: contracts.MovieCreate) -> Problems:
    """Every problem of a movie's fields, as (field, reason)."""
    problems: Problems = []
    if not movie.title.strip() or len(movie.title.strip()) > 300:
        problems.append(("title", "give a title of 1 to 300 characters"))
    if not distinct_names(movie.languages):
        problems.append(("languages", "give at least one language, e.g. Hindi"))
    if not 1 <= movie.duration_minutes <= 600:
        problems.append(("duration_minutes", "give the running time in minutes, 1 to 600"))
    if not movie.certification.strip() or len(movie.certification.strip()) > 10:
        problems.append(
            ("certification", "give the certificate, e.g. U, UA or A (1-10 characters)")
        )
    for field in ("poster_url", "trailer_url"):
        url = getattr(movie, field)
        if url is not None and not url.startswith(("https://", "http://")):
            problems.append((field, "give an http(s):// address or leave it out"))
    return problems


def _check_movie(movie: contracts.MovieCreate) -> None:
    problems = movie_problems(movie)
    if problems:
        raise Invalid("; ".join(f"{field}: {reason}" for field, reason in problems) + ".")


def _movie_columns(movie: contracts.MovieCreate) -> dict[str, object]:
    return {
        "title": movie.title.strip(),
        "languages": distinct_names(movie.languages),
        "genres": distinct_names(movie.genres),
        "duration_minutes": movie.duration_minutes,
        "certification": movie.certification.strip(),
        "release_date": movie.release_date,
        "synopsis": movie.synopsis.strip(),
        "cast_members": movie.cast,
        "crew": movie.crew,
        "poster_url": movie.poster_url,
        "trailer_url": movie.trailer_url,
    }


async def create_movie(
    session: AsyncSession, redis: Redis, body: contracts.MovieCreate
) -> api.MovieOut:
    _check_movie(body)
    key = (body.title.strip().lower(), body.release_date)
    if await queries.movies_titled(session, [key]):
        raise Conflict(
            f"{body.title.strip()!r} released {body.release_date} already exists; change it "
            "with `bms admin movie update`."
        )
    movie = Movie(**_movie_columns(body))
    session.add(movie)
    await session.commit()
    await forget_lists(redis)
    return movie_out(movie)


def _as_create(movie: Movie) -> contracts.MovieCreate:
    return contracts.MovieCreate(
        title=movie.title,
        languages=list(movie.languages),
        duration_minutes=movie.duration_minutes,
        certification=movie.certification,
        release_date=movie.release_date,
        genres=list(movie.genres),
        synopsis=movie.synopsis,
        cast=movie.cast_members,
        crew=movie.crew,
        poster_url=movie.poster_url,
        trailer_url=movie.trailer_url,
    )


async def update_movie(
    session: AsyncSession,
    redis: Redis,
    clock: Clock,
    movie_id: uuid.UUID,
    body: contracts.MovieUpdate,
) -> api.MovieOut:
    """Change the fields given. A new running time applies to shows scheduled afterwards."""
    movie = await session.get(Movie, movie_id)
    if movie is None:
        raise NotFound(f"There is no movie {movie_id}; `bms admin movie list` shows them.")
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    merged = msgspec.structs.replace(_as_create(movie), **changes)
    _check_movie(merged)
    kept = {language.lower() for language in distinct_names(merged.languages)}
    # Compared as schedules match them: re-spelling "English" as "english" drops nothing.
    dropped = {language for language in movie.languages if language.lower() not in kept}
    # Only a removed language can strand shows: other changes never ask about them.
    stranded = (
        await queries.future_shows_using(
            session, now=clock.now(), movie_id=movie_id, languages=dropped
        )
        if dropped
        else 0
    )
    if stranded:
        raise Conflict(
            f"{stranded} future show(s) of this movie are in {', '.join(sorted(dropped))}; "
            "cancel them (or keep the language) before removing it."
        )
    for column, value in _movie_columns(merged).items():
        setattr(movie, column, value)
    await session.commit()
    await forget_lists(redis)
    return movie_out(movie)


async def import_movies(
    session: AsyncSession, redis: Redis, body: contracts.MovieImport
) -> contracts.MovieImportOut:
    """All or nothing: every row is checked, and only a file without problems is written.
    A row naming the title and release date of an existing movie updates that movie."""
    problems: list[contracts.RowProblem] = []
    first_row: dict[tuple[str, date_type], int] = {}
    for index, row in enumerate(body.movies, start=1):
        number = row.row or index
        problems += [
            contracts.RowProblem(row=number, column=field, reason=reason)
            for field, reason in movie_problems(row)
        ]
        key = (row.title.strip().lower(), row.release_date)
        if key in first_row:
            problems.append(
                contracts.RowProblem(
                    row=number, column="title", reason=f"repeats row {first_row[key]}"
                )
            )
        first_row.setdefault(key, number)
    existing = await queries.movies_titled(session, list(first_row))
    report = contracts.MovieImportOut(
        rows=len(body.movies),
        applied=False,
        created=sum(key not in existing for key in first_row),
        updated=sum(key in existing for key in first_row),
        problems=problems,
    )
    if problems or body.dry_run:
        return report
    movies = []
    for row in body.movies:
        movie = existing.get((row.title.strip().lower(), row.release_date)) or Movie()
        for column, value in _movie_columns(row).items():
            setattr(movie, column, value)
        session.add(movie)
        movies.append(movie)
    await session.commit()
    await forget_lists(redis)
    report.applied = True
    report.movies = [movie_out(movie) for movie in movies]
    return report
