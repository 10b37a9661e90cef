"""Bulk schedules: check every row of an upload, report every problem, create the shows.

An upload is checked as a whole before anything is written: each row against the catalog
(movie, theater, screen, language, format, prices for exactly the screen's seat types, a
local start time that exists once in the theater's timezone) and, in bulk, against the
shows already scheduled and the other rows of the file (cleaning buffer included). By
default a single problem keeps the whole upload out; ``continue_on_error`` writes the rows
without problems. The shows and their seat inventory are created in one transaction.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts import admin as contracts
from server.domain.accounts.principal import Principal
from server.domain.admin import queries
from server.domain.admin.catalog import screen_for
from server.domain.admin.local_time import LOCAL_FORMAT, local_text, parse_local
from server.domain.admin.money import price_table
from server.domain.catalog.services import forget_lists
from server.domain.errors import Conflict, Forbidden, Invalid
from server.domain.schedule.services import ShowSpec, create_shows
from server.infra.state import Services

T = TypeVar("T")

MAX_ROWS = 10_000
COLUMN_ORDER = (
    "movie",
    "theater",
    "screen",
    "starts_at",
    "language",
    "format",
    "prices",
    "prices_minor",
    "sale_opens_at",
)


@dataclass
class Catalog:
    """What the rows refer to, loaded for the whole upload in three queries."""

    movies_by_id: dict[uuid.UUID, queries.MovieRef]
    movies_by_title: dict[str, list[queries.MovieRef]]
    theaters_by_id: dict[uuid.UUID, queries.TheaterRef]
    theaters_by_name: dict[str, list[queries.TheaterRef]]
    screens: dict[uuid.UUID, list[queries.ScreenRef]]  # by theater


@dataclass
class Checked:
    """One row after its own checks: the show to create, or the problems that stop it."""

    row: int
    problems: list[tuple[str, str]] = field(default_factory=list)
    spec: ShowSpec | None = None
    slot: queries.Slot | None = None
    title: str = ""
    timezone: str = "UTC"

    def problem(self, column: str, reason: str) -> None:
        self.problems.append((column, reason))


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


async def _catalog(session: AsyncSession, rows: Sequence[contracts.ScheduleRow]) -> Catalog:
    def split(texts: set[str]) -> tuple[set[uuid.UUID], set[str]]:
        ids = {u for u in map(_as_uuid, texts) if u is not None}
        return ids, {t.strip().lower() for t in texts if _as_uuid(t) is None}

    movie_ids, titles = split({row.movie for row in rows})
    theater_ids, names = split({row.theater for row in rows})
    movies = await queries.movie_refs(session, movie_ids, titles)
    theaters = await queries.theater_refs(session, theater_ids, names)
    screens = await queries.screen_refs(session, [t.theater_id for t in theaters])
    catalog = Catalog({}, defaultdict(list), {}, defaultdict(list), defaultdict(list))
    for movie in movies:
        catalog.movies_by_id[movie.movie_id] = movie
        catalog.movies_by_title[movie.title.lower()].append(movie)
    for theater in theaters:
        catalog.theaters_by_id[theater.theater_id] = theater
        catalog.theaters_by_name[theater.name.lower()].append(theater)
    for screen in screens:
        catalog.screens[screen.theater_id].append(screen)
    return catalog


def _pick(found: list[T], what: str, text: str, hint: str) -> tuple[T | None, str | None]:
    """The single match, or None and the reason."""
    if len(found) == 1:
        return found[0], None
    if not found:
        return None, f"no {what} {text.strip()!r}; {hint}"
    return None, f"{len(found)} {what}s are called {text.strip()!r}; use the id instead"


def _lookup(by_id: dict[uuid.UUID, T], by_name: dict[str, list[T]], text: str) -> list[T]:
    """Matches for an id, or for a name compared case-insensitively."""
    key = _as_uuid(text)
    if key is None:
        return by_name.get(text.strip().lower(), [])
    return [by_id[key]] if key in by_id else []


def _movie(catalog: Catalog, text: str) -> tuple[queries.MovieRef | None, str | None]:
    found = _lookup(catalog.movies_by_id, catalog.movies_by_title, text)
    return _pick(found, "movie", text, "add it with `bms admin movie add` or give its id")


def _theater(catalog: Catalog, text: str) -> tuple[queries.TheaterRef | None, str | None]:
    found = _lookup(catalog.theaters_by_id, catalog.theaters_by_name, text)
    return _pick(found, "theater", text, "`bms admin theater list` shows yours")


def _screen(
    catalog: Catalog, theater: queries.TheaterRef, text: str
) -> tuple[queries.ScreenRef | None, str | None]:
    screens = catalog.screens[theater.theater_id]
    found = _lookup(
        {s.screen_id: s for s in screens},
        {s.name.lower(): [s] for s in screens},
        text,
    )
    names = ", ".join(sorted(s.name for s in screens)) or "none"
    return _pick(found, "screen", text, f"{theater.name} has: {names}")


def _matching(value: str, allowed: Sequence[str]) -> str | None:
    """``value`` in the catalog's spelling, matched case-insensitively."""
    wanted = value.strip().lower()
    return next((a for a in allowed if a.lower() == wanted), None)


def _check_prices(
    checked: Checked,
    row: contracts.ScheduleRow,
    screen: queries.ScreenRef,
    currency: str,
) -> dict[str, int]:
    prices, problems = price_table(row.prices, row.prices_minor, currency)
    for column, reason in problems:
        checked.problem(column, reason)
    spelling = "prices_minor" if row.prices_minor and not row.prices else "prices"
    for seat_type in sorted(set(screen.seat_types) - set(prices)):
        checked.problem(
            f"{spelling}.{seat_type}",
            f"screen {screen.name!r} has {seat_type} seats; give their price",
        )
    for seat_type in sorted(set(prices) - set(screen.seat_types)):
        column = "prices_minor" if seat_type in row.prices_minor else "prices"
        checked.problem(
            f"{column}.{seat_type}",
            f"screen {screen.name!r} has no {seat_type} seats; leave this price out",
        )
    return prices


def _check_times(
    checked: Checked, row: contracts.ScheduleRow, theater: queries.TheaterRef, now: datetime
) -> tuple[datetime | None, datetime | None]:
    starts_at = sale_opens_at = None
    try:
        starts_at = parse_local(row.starts_at, theater.timezone)
    except ValueError as exc:
        checked.problem("starts_at", str(exc))
    if starts_at is not None and starts_at <= now:
        checked.problem(
            "starts_at",
            f"{starts_at.strftime(LOCAL_FORMAT)} has passed in {theater.timezone} (it is "
            f"{local_text(now, theater.timezone)} there); schedule future shows only",
        )
    if row.sale_opens_at:
        try:
            sale_opens_at = parse_local(row.sale_opens_at, theater.timezone)
        except ValueError as exc:
            checked.problem("sale_opens_at", str(exc))
    if starts_at and sale_opens_at and sale_opens_at >= starts_at:
        checked.problem("sale_opens_at", "sale must open before the show starts")
    return starts_at, sale_opens_at


def check_row(number: int, row: contracts.ScheduleRow, catalog: Catalog, now: datetime) -> Checked:
    """Everything that can be known about one row without looking at other shows."""
    checked = Checked(row=number)
    movie, why = _movie(catalog, row.movie)
    if why:
        checked.problem("movie", why)
    theater, why = _theater(catalog, row.theater)
    if why:
        checked.problem("theater", why)
    language = _matching(row.language, movie.languages) if movie else row.language
    if movie and language is None:
        checked.problem(
            "language",
            f"{row.language.strip()!r} is not a language of {movie.title!r} "
            f"({', '.join(movie.languages)})",
        )
    if theater is None:
        return checked
    screen, why = _screen(catalog, theater, row.screen)
    if why:
        checked.problem("screen", why)
    starts_at, sale_opens_at = _check_times(checked, row, theater, now)
    if screen is None:
        return checked
    screen_format = _matching(row.format, screen.formats)
    if screen_format is None:
        checked.problem(
            "format",
            f"{row.format.strip()!r} is not a format of screen {screen.name!r} "
            f"({', '.join(screen.formats)})",
        )
    prices = _check_prices(checked, row, screen, theater.currency)
    if checked.problems or not (movie and starts_at and language and screen_format):
        return checked
    checked.spec = ShowSpec(
        movie_id=movie.movie_id,
        screen_id=screen.screen_id,
        theater_id=theater.theater_id,
        starts_at=starts_at,
        duration_minutes=movie.duration_minutes,
        language=language,
        format=screen_format,
        prices=prices,
        sale_opens_at=sale_opens_at,
    )
    busy = movie.duration_minutes + theater.cleaning_minutes
    checked.slot = queries.Slot(
        number, screen.screen_id, starts_at, starts_at + timedelta(minutes=busy)
    )
    checked.title, checked.timezone = movie.title, theater.timezone
    return checked


def _span(checked: Checked, starts_at: datetime, ends_at: datetime) -> str:
    start = local_text(starts_at, checked.timezone)
    return f"{start} until {local_text(ends_at, checked.timezone)[-5:]} with cleaning"


async def _check_against_database(session: AsyncSession, placed: list[Checked]) -> None:
    by_row = {checked.row: checked for checked in placed}
    clashes = await queries.clashing_shows(session, [c.slot for c in placed if c.slot])
    for row, title, starts_at, ends_at in clashes:
        checked = by_row[row]
        checked.problem(
            "starts_at",
            f"overlaps the scheduled show of {title!r} ({_span(checked, starts_at, ends_at)})",
        )


class ScreenTimeline:
    """The slots kept so far on one screen, sorted by start. Kept slots never overlap, so a
    new slot can only clash with its two neighbours in start order."""

    def __init__(self) -> None:
        self.starts: list[datetime] = []
        self.rows: list[Checked] = []

    def clash(self, slot: queries.Slot) -> Checked | None:
        at = bisect.bisect_left(self.starts, slot.starts_at)
        for other in self.rows[max(0, at - 1) : at + 1]:
            kept = other.slot
            if (
                kept
                and kept.starts_at < slot.cleaning_ends_at
                and slot.starts_at < kept.cleaning_ends_at
            ):
                return other
        return None

    def keep(self, checked: Checked, slot: queries.Slot) -> None:
        at = bisect.bisect_left(self.starts, slot.starts_at)
        self.starts.insert(at, slot.starts_at)
        self.rows.insert(at, checked)


def _check_within_file(placed: list[Checked]) -> None:
    """A row overlapping an earlier row of the file on the same screen is refused; the
    earlier row stands."""
    timelines: dict[uuid.UUID, ScreenTimeline] = defaultdict(ScreenTimeline)
    for checked in placed:
        slot = checked.slot
        if checked.problems or slot is None:
            continue
        timeline = timelines[slot.screen_id]
        clash = timeline.clash(slot)
        if clash is None or clash.slot is None:
            timeline.keep(checked, slot)
            continue
        checked.problem(
            "starts_at",
            f"overlaps row {clash.row} ({clash.title!r}, "
            f"{_span(clash, clash.slot.starts_at, clash.slot.cleaning_ends_at)})",
        )


def _problems(checked: list[Checked]) -> list[contracts.RowProblem]:
    def order(item: tuple[int, str, str]) -> tuple[int, int, str]:
        row, column, _ = item
        base = column.split(".")[0]
        rank = COLUMN_ORDER.index(base) if base in COLUMN_ORDER else len(COLUMN_ORDER)
        return row, rank, column

    flat = [(c.row, column, reason) for c in checked for column, reason in c.problems]
    return [
        contracts.RowProblem(row=row, column=column, reason=reason)
        for row, column, reason in sorted(flat, key=order)
    ]


def _refuse_foreign_theaters(
    principal: Principal, rows: list[tuple[int, contracts.ScheduleRow]], catalog: Catalog
) -> None:
    foreign: dict[str, list[int]] = defaultdict(list)
    for number, row in rows:
        theater, _ = _theater(catalog, row.theater)
        if theater is not None and not principal.can_act_for(theater.theater_id):
            foreign[theater.name].append(number)
    if foreign:
        named = "; ".join(
            f"row(s) {', '.join(map(str, numbers))} are for {name}"
            for name, numbers in foreign.items()
        )
        raise Forbidden(
            f"{named}, which is not one of your theaters; upload shows for your own theaters "
            "only. Nothing was written."
        )


async def upload(
    session: AsyncSession,
    services: Services,
    principal: Principal,
    body: contracts.ScheduleUpload,
) -> contracts.ScheduleUploadOut:
    if not body.rows:
        raise Invalid("The upload has no rows; send at least one show.")
    if len(body.rows) > MAX_ROWS:
        raise Invalid(f"At most {MAX_ROWS} rows per upload; split the file.")
    numbered = [(row.row or index, row) for index, row in enumerate(body.rows, start=1)]
    catalog = await _catalog(session, body.rows)
    _refuse_foreign_theaters(principal, numbered, catalog)
    now = services.clock.now()
    checked = [check_row(number, row, catalog, now) for number, row in numbered]
    await _check_against_database(session, [c for c in checked if c.slot and not c.problems])
    _check_within_file(checked)
    good = [c for c in checked if not c.problems and c.spec]
    report = contracts.ScheduleUploadOut(
        rows=len(checked),
        valid=len(good),
        created=0,
        dry_run=body.dry_run,
        applied=False,
        problems=_problems(checked),
    )
    if body.dry_run or not good or (report.problems and not body.continue_on_error):
        return report
    report.shows = await _create(session, good)
    report.created, report.applied = len(report.shows), True
    await forget_lists(services.redis)
    return report


async def _create(session: AsyncSession, good: list[Checked]) -> list[contracts.CreatedShow]:
    specs = [c.spec for c in good if c.spec]
    try:
        show_ids = await create_shows(session, specs)
    except IntegrityError as exc:
        if "no_overlap_on_screen" not in str(exc.orig):
            raise
        await session.rollback()
        raise Conflict(
            "A show was scheduled on one of these screens while this upload ran, and now "
            "overlaps it; nothing was written. Upload again to see which rows clash."
        ) from None
    slots = await queries.show_slots(session, show_ids)
    await session.commit()
    return [
        contracts.CreatedShow(
            row=c.row,
            show_id=slots[(c.spec.screen_id, c.spec.starts_at)],
            starts_at=c.spec.starts_at,
        )
        for c in good
        if c.spec
    ]


# -- listing --------------------------------------------------------------------------------


def scope_of(principal: Principal, theater_id: uuid.UUID | None) -> list[uuid.UUID] | None:
    """The theaters a caller may look at: one asked for (if theirs), or all of theirs."""
    if theater_id is not None:
        if not principal.can_act_for(theater_id):
            raise Forbidden("That theater is not one of yours.")
        return [theater_id]
    return None if principal.is_platform_admin else sorted(principal.theater_ids)


def show_out(line: queries.ShowLine) -> contracts.AdminShowOut:
    show = line.show
    return contracts.AdminShowOut(
        show_id=show.id,
        movie_id=show.movie_id,
        title=line.title,
        theater_id=show.theater_id,
        theater_name=line.theater_name,
        screen_id=show.screen_id,
        screen_name=line.screen_name,
        starts_at=show.starts_at,
        starts_local=local_text(show.starts_at, line.timezone),
        ends_at=show.ends_at,
        status=show.status,
        language=show.language,
        format=show.format,
        currency=line.currency,
        prices=show.prices,
        seats_total=line.total,
        seats_available=line.available,
        seats_held=line.held,
        seats_booked=line.booked,
        seats_unavailable=line.unavailable,
    )


@dataclass(frozen=True, slots=True)
class ShowQuery:
    theater_id: uuid.UUID | None = None
    screen_id: uuid.UUID | None = None
    movie_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_cancelled: bool = False
    limit: int = 500


async def list_shows(
    session: AsyncSession, services: Services, principal: Principal, search: ShowQuery
) -> list[contracts.AdminShowOut]:
    """Shows of the caller's theaters in start order; upcoming ones unless dates are given."""
    if search.screen_id is not None:
        await screen_for(session, principal, search.screen_id)
    now = services.clock.now()
    undated = search.date_from is None and search.date_to is None
    scope = queries.ShowScope(
        theater_ids=scope_of(principal, search.theater_id),
        screen_id=search.screen_id,
        movie_id=search.movie_id,
        date_from=search.date_from,
        date_to=search.date_to,
        starting_after=now if undated else None,
        live_only=not search.include_cancelled,
    )
    return [show_out(line) for line in await queries.show_lines(session, scope, now, search.limit)]
