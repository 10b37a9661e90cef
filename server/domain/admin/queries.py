"""SQL for the admin slice: catalog writes, layout imports, bulk schedules, prices, repairs.

Bulk work is done in bulk: overlap checks, inventory rows and seat changes each take one
statement for the whole batch, never one round trip per row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Date, Row, Select, and_, cast, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import ShowStatus
from server.db.models import City, Movie, PriceRule, Screen, Seat, Show, ShowSeat, Theater
from server.domain.inventory.queries import FREE


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


# -- theaters and screens -------------------------------------------------------------------


async def theaters_with_city(
    session: AsyncSession, theater_ids: Collection[uuid.UUID] | None
) -> Sequence[Row[Theater, City]]:
    """Theaters by name with their city; ``None`` means every theater."""
    query = select(Theater, City).join(City, City.id == Theater.city_id).order_by(Theater.name)
    if theater_ids is not None:
        query = query.where(Theater.id.in_(theater_ids))
    return (await session.execute(query)).all()


async def theater_name_taken(
    session: AsyncSession, name: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Theater.id).where(func.lower(Theater.name) == name.lower())
    if except_id is not None:
        query = query.where(Theater.id != except_id)
    return await session.scalar(query.limit(1)) is not None


async def screens_of(session: AsyncSession, theater_ids: Collection[uuid.UUID]) -> Sequence[Screen]:
    query = (
        select(Screen)
        .where(Screen.theater_id.in_(theater_ids))
        .order_by(Screen.theater_id, Screen.name)
    )
    return (await session.scalars(query)).all()


async def screen_name_taken(
    session: AsyncSession, theater_id: uuid.UUID, name: str, except_id: uuid.UUID | None = None
) -> bool:
    query = select(Screen.id).where(
        Screen.theater_id == theater_id, func.lower(Screen.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(Screen.id != except_id)
    return await session.scalar(query.limit(1)) is not None


@dataclass
class SeatCounts:
    by_type: dict[str, int]
    retired: int = 0


async def seat_counts(
    session: AsyncSession, screen_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, SeatCounts]:
    """Seats in use per type, and retired seats, of each screen."""
    rows = await session.execute(
        select(Seat.screen_id, Seat.seat_type, Seat.retired, func.count())
        .where(Seat.screen_id.in_(screen_ids))
        .group_by(Seat.screen_id, Seat.seat_type, Seat.retired)
    )
    counts: dict[uuid.UUID, SeatCounts] = defaultdict(lambda: SeatCounts({}))
    for screen_id, seat_type, retired, count in rows:
        if retired:
            counts[screen_id].retired += count
        else:
            counts[screen_id].by_type[seat_type] = count
    return counts


async def future_shows_using(
    session: AsyncSession,
    *,
    now: datetime,
    screen_id: uuid.UUID | None = None,
    movie_id: uuid.UUID | None = None,
    formats: Collection[str] | None = None,
    languages: Collection[str] | None = None,
) -> int:
    """How many live future shows of a screen or movie are in one of these formats or
    languages (so removing one would strand them). None leaves that filter out; an empty
    collection matches no show."""
    query = select(func.count()).where(
        Show.starts_at > now, Show.status != ShowStatus.CANCELLED.value
    )
    if screen_id is not None:
        query = query.where(Show.screen_id == screen_id)
    if movie_id is not None:
        query = query.where(Show.movie_id == movie_id)
    if formats is not None:
        query = query.where(Show.format.in_(formats))
    if languages is not None:
        # A movie's languages may be re-spelled ("english") after its shows were scheduled.
        query = query.where(func.lower(Show.language).in_([x.lower() for x in languages]))
    return int(await session.scalar(query) or 0)


# -- movies ---------------------------------------------------------------------------------


async def movies_titled(
    session: AsyncSession, keys: Collection[tuple[str, date]]
) -> dict[tuple[str, date], Movie]:
    """Existing movies by (lower-case title, release date)."""
    if not keys:
        return {}
    titles = {title for title, _ in keys}
    found = await session.scalars(select(Movie).where(func.lower(Movie.title).in_(titles)))
    return {
        (movie.title.lower(), movie.release_date): movie
        for movie in found
        if (movie.title.lower(), movie.release_date) in keys
    }


# -- layout imports -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FutureShow:
    show_id: uuid.UUID
    title: str
    starts_at: datetime
    timezone: str
    prices: dict[str, int]


async def future_shows_of_screen(
    session: AsyncSession, screen_id: uuid.UUID, now: datetime
) -> list[FutureShow]:
    rows = await session.execute(
        text(
            """
            SELECT sh.id, m.title, sh.starts_at, c.timezone, sh.prices
              FROM shows sh
              JOIN movies m ON m.id = sh.movie_id
              JOIN theaters t ON t.id = sh.theater_id
              JOIN cities c ON c.id = t.city_id
             WHERE sh.screen_id = :screen AND sh.starts_at > :now AND sh.status <> 'CANCELLED'
             ORDER BY sh.starts_at
               FOR UPDATE OF sh
            """
        ),
        {"screen": screen_id, "now": now},
    )
    return [FutureShow(*row) for row in rows]


async def taken_seats(
    session: AsyncSession,
    show_ids: list[uuid.UUID],
    seat_ids: list[uuid.UUID],
    now: datetime,
) -> list[tuple[uuid.UUID, str, str]]:
    """(show, label, status) of these seats that are sold or under a live hold in these
    shows. Every row of these seats is locked, so nobody takes one until the transaction ends."""
    rows = await session.execute(
        text(
            """
            SELECT ss.show_id, se.label, ss.status, ss.held_until
              FROM show_seats ss JOIN seats se ON se.id = ss.seat_id
             WHERE ss.show_id = ANY(CAST(:shows AS uuid[]))
               AND ss.seat_id = ANY(CAST(:seats AS uuid[]))
             ORDER BY ss.show_id, ss.seat_id
               FOR UPDATE OF ss
            """
        ),
        {"shows": show_ids, "seats": seat_ids},
    )
    return [
        (row.show_id, row.label, row.status)
        for row in rows
        if row.status == "BOOKED" or (row.status == "BLOCKED" and row.held_until > now)
    ]


async def remove_inventory(
    session: AsyncSession, show_ids: list[uuid.UUID], seat_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """Drop these seats from these shows' inventory; returns (show, seat, version) removed."""
    rows = await session.execute(
        text(
            """
            DELETE FROM show_seats
             WHERE show_id = ANY(CAST(:shows AS uuid[])) AND seat_id = ANY(CAST(:seats AS uuid[]))
            RETURNING show_id, seat_id, version + 1 AS version
            """
        ),
        {"shows": show_ids, "seats": seat_ids},
    )
    return [tuple(row) for row in rows]


async def add_inventory(
    session: AsyncSession, show_ids: list[uuid.UUID], seat_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, int]]:
    """An AVAILABLE row per (show, seat), in one statement; returns (show, seat, version)."""
    rows = await session.execute(
        text(
            """
            INSERT INTO show_seats (show_id, seat_id, status, accessible_only)
            SELECT sh.id, se.id, 'AVAILABLE', se.seat_type IN ('wheelchair', 'companion')
              FROM unnest(CAST(:shows AS uuid[])) AS sh(id)
             CROSS JOIN seats se
             WHERE se.id = ANY(CAST(:seats AS uuid[]))
            ON CONFLICT DO NOTHING
            RETURNING show_id, seat_id, version
            """
        ),
        {"shows": show_ids, "seats": seat_ids},
    )
    return [tuple(row) for row in rows]


async def add_missing_prices(
    session: AsyncSession, show_ids: list[uuid.UUID], prices: dict[str, int]
) -> None:
    """Give these shows a price for each seat type they have none for (existing ones stay)."""
    await session.execute(
        text(
            "UPDATE shows SET prices = CAST(:prices AS jsonb) || prices, version = version + 1"
            " WHERE id = ANY(CAST(:shows AS uuid[]))"
        ),
        {"shows": show_ids, "prices": _json(prices)},
    )


async def seats_of_screen(session: AsyncSession, screen_id: uuid.UUID) -> Sequence[Seat]:
    """Every seat of the screen, retired ones included."""
    return (await session.scalars(select(Seat).where(Seat.screen_id == screen_id))).all()


async def retire_seats(session: AsyncSession, seat_ids: list[uuid.UUID]) -> None:
    await session.execute(update(Seat).where(Seat.id.in_(seat_ids)).values(retired=True))


async def follow_seat_types(
    session: AsyncSession, show_ids: list[uuid.UUID], seat_ids: list[uuid.UUID]
) -> None:
    """Unsold rows of these shows' seats follow the seats' (possibly new) type: wheelchair
    and companion places are kept for accessibility requests."""
    await session.execute(
        text(
            """
            UPDATE show_seats ss
               SET accessible_only = se.seat_type IN ('wheelchair', 'companion')
              FROM seats se
             WHERE se.id = ss.seat_id AND ss.status = 'AVAILABLE'
               AND ss.show_id = ANY(CAST(:shows AS uuid[]))
               AND ss.seat_id = ANY(CAST(:seats AS uuid[]))
            """
        ),
        {"shows": show_ids, "seats": seat_ids},
    )


async def next_event_sequence(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT nextval('seat_events_seq')")) or 0)


# -- which shows ----------------------------------------------------------------------------

AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class ShowScope:
    """Which shows an admin operation covers; ``None`` or empty means "do not filter".
    Dates are local dates on each theater's own wall clock."""

    theater_ids: Collection[uuid.UUID] | None = None
    screen_id: uuid.UUID | None = None
    movie_id: uuid.UUID | None = None
    show_ids: Collection[uuid.UUID] = ()
    date_from: date | None = None
    date_to: date | None = None
    starting_after: datetime | None = None
    live_only: bool = True  # leave cancelled shows out


def _within(query: AnySelect, scope: ShowScope) -> AnySelect:
    """``query`` (which joins Show and City) narrowed to the scope."""
    local_day = cast(func.timezone(City.timezone, Show.starts_at), Date)
    if scope.theater_ids is not None:
        query = query.where(Show.theater_id.in_(scope.theater_ids))
    if scope.screen_id is not None:
        query = query.where(Show.screen_id == scope.screen_id)
    if scope.movie_id is not None:
        query = query.where(Show.movie_id == scope.movie_id)
    if scope.show_ids:
        query = query.where(Show.id.in_(scope.show_ids))
    if scope.date_from is not None:
        query = query.where(local_day >= scope.date_from)
    if scope.date_to is not None:
        query = query.where(local_day <= scope.date_to)
    if scope.starting_after is not None:
        query = query.where(Show.starts_at > scope.starting_after)
    if scope.live_only:
        query = query.where(Show.status != ShowStatus.CANCELLED.value)
    return query


def _show_joins(query: AnySelect) -> AnySelect:
    return (
        query.join(Movie, Movie.id == Show.movie_id)
        .join(Theater, Theater.id == Show.theater_id)
        .join(City, City.id == Theater.city_id)
        .join(Screen, Screen.id == Show.screen_id)
    )


@dataclass(frozen=True, slots=True)
class ShowLine:
    show: Show
    title: str
    theater_name: str
    screen_name: str
    currency: str
    timezone: str
    total: int = 0
    available: int = 0
    held: int = 0
    booked: int = 0
    unavailable: int = 0


async def show_lines(
    session: AsyncSession, scope: ShowScope, now: datetime, limit: int
) -> list[ShowLine]:
    """Shows in start order with their seat counts by live state (an expired hold is free)."""
    live_hold = and_(ShowSeat.status == "BLOCKED", ShowSeat.held_until > now)
    free = or_(
        ShowSeat.status == "AVAILABLE",
        and_(ShowSeat.status == "BLOCKED", ShowSeat.held_until <= now),
    )
    query = _show_joins(
        select(
            Show,
            Movie.title,
            Theater.name,
            Screen.name,
            City.currency,
            City.timezone,
            func.count(ShowSeat.seat_id),
            func.count().filter(free),
            func.count().filter(live_hold),
            func.count().filter(ShowSeat.status == "BOOKED"),
            func.count().filter(ShowSeat.status == "UNAVAILABLE"),
        )
    ).outerjoin(ShowSeat, ShowSeat.show_id == Show.id)
    query = (
        _within(query, scope)
        .group_by(Show.id, Movie.title, Theater.name, Screen.name, City.currency, City.timezone)
        .order_by(Show.starts_at, Theater.name, Screen.name)
        .limit(limit)
    )
    return [ShowLine(*row) for row in await session.execute(query)]


async def locked_shows(session: AsyncSession, scope: ShowScope) -> list[ShowLine]:
    """The shows in scope, locked (against a concurrent price change or repair) until commit."""
    query = _show_joins(
        select(Show, Movie.title, Theater.name, Screen.name, City.currency, City.timezone)
    )
    query = _within(query, scope).order_by(Show.starts_at).with_for_update(of=Show)
    return [ShowLine(*row) for row in await session.execute(query)]


async def theaters_of_shows(
    session: AsyncSession, show_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    rows = await session.execute(select(Show.id, Show.theater_id).where(Show.id.in_(show_ids)))
    return {key: value for key, value in rows}


# -- bulk schedules -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MovieRef:
    movie_id: uuid.UUID
    title: str
    languages: list[str]
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class TheaterRef:
    theater_id: uuid.UUID
    name: str
    timezone: str
    currency: str
    cleaning_minutes: int


@dataclass(frozen=True, slots=True)
class ScreenRef:
    screen_id: uuid.UUID
    theater_id: uuid.UUID
    name: str
    formats: list[str]
    seat_types: list[str]


async def movie_refs(
    session: AsyncSession, ids: Collection[uuid.UUID], titles: Collection[str]
) -> list[MovieRef]:
    """Movies with one of these ids or (case-insensitively) one of these titles."""
    rows = await session.execute(
        select(Movie.id, Movie.title, Movie.languages, Movie.duration_minutes).where(
            or_(Movie.id.in_(ids), func.lower(Movie.title).in_(titles))
        )
    )
    return [MovieRef(*row) for row in rows]


async def theater_refs(
    session: AsyncSession, ids: Collection[uuid.UUID], names: Collection[str]
) -> list[TheaterRef]:
    rows = await session.execute(
        select(Theater.id, Theater.name, City.timezone, City.currency, Theater.cleaning_minutes)
        .join(City, City.id == Theater.city_id)
        .where(or_(Theater.id.in_(ids), func.lower(Theater.name).in_(names)))
    )
    return [TheaterRef(*row) for row in rows]


async def screen_refs(session: AsyncSession, theater_ids: Collection[uuid.UUID]) -> list[ScreenRef]:
    """The theaters' screens with the seat types their layouts have now."""
    seat_types = (
        select(func.array_agg(func.distinct(Seat.seat_type)))
        .where(Seat.screen_id == Screen.id, Seat.retired.is_(False))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Screen.id, Screen.theater_id, Screen.name, Screen.formats, seat_types).where(
            Screen.theater_id.in_(theater_ids)
        )
    )
    return [
        ScreenRef(screen_id, theater_id, name, list(formats), list(seat_types or []))
        for screen_id, theater_id, name, formats, seat_types in rows
    ]


@dataclass(frozen=True, slots=True)
class Slot:
    """A screen busy from ``starts_at`` until ``cleaning_ends_at`` (cleaning included)."""

    row: int
    screen_id: uuid.UUID
    starts_at: datetime
    cleaning_ends_at: datetime


async def clashing_shows(
    session: AsyncSession, slots: Sequence[Slot]
) -> list[tuple[int, str, datetime, datetime]]:
    """(row, title, starts_at, cleaning_ends_at) of every live show overlapping a slot, in one
    statement: the exclusion constraint's GiST index answers each probe."""
    if not slots:
        return []
    rows = await session.execute(
        text(
            """
            SELECT s.row_no, m.title, sh.starts_at, sh.cleaning_ends_at
              FROM unnest(CAST(:rows AS int[]), CAST(:screens AS uuid[]),
                          CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))
                   AS s(row_no, screen_id, starts_at, cleaning_ends_at)
              JOIN shows sh ON sh.screen_id = s.screen_id AND sh.status <> 'CANCELLED'
                           AND tstzrange(sh.starts_at, sh.cleaning_ends_at)
                               && tstzrange(s.starts_at, s.cleaning_ends_at)
              JOIN movies m ON m.id = sh.movie_id
             ORDER BY s.row_no, sh.starts_at
            """
        ),
        {
            "rows": [slot.row for slot in slots],
            "screens": [slot.screen_id for slot in slots],
            "starts": [slot.starts_at for slot in slots],
            "ends": [slot.cleaning_ends_at for slot in slots],
        },
    )
    return [tuple(row) for row in rows]


async def show_slots(
    session: AsyncSession, show_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, datetime], uuid.UUID]:
    """Show ids by (screen, start): unique among live shows, so rows map back to shows."""
    rows = await session.execute(
        select(Show.screen_id, Show.starts_at, Show.id).where(Show.id.in_(show_ids))
    )
    return {(screen_id, starts_at): show_id for screen_id, starts_at, show_id in rows}


# -- price rules ----------------------------------------------------------------------------


async def price_rules(
    session: AsyncSession, theater_ids: Collection[uuid.UUID] | None
) -> Sequence[PriceRule]:
    query = select(PriceRule).order_by(PriceRule.theater_id, PriceRule.priority, PriceRule.name)
    if theater_ids is not None:
        query = query.where(PriceRule.theater_id.in_(theater_ids))
    return (await session.scalars(query)).all()


# -- seat repairs ---------------------------------------------------------------------------

TRANSITION_REASON_CHARS = 40

_TAKE_OUT_OF_SALE = f"""
WITH target AS (
    SELECT ss.show_id, ss.seat_id, ss.status AS was FROM show_seats ss
     WHERE ss.show_id = ANY(CAST(:shows AS uuid[])) AND ss.seat_id = ANY(CAST(:seats AS uuid[]))
       AND {FREE}
     ORDER BY ss.show_id, ss.seat_id
       FOR UPDATE
), changed AS (
    UPDATE show_seats ss
       SET status = 'UNAVAILABLE', hold_id = NULL, held_until = NULL,
           unavailable_reason = :reason, version = ss.version + 1
      FROM target t
     WHERE ss.show_id = t.show_id AND ss.seat_id = t.seat_id
    RETURNING ss.show_id, ss.seat_id, ss.version, t.was
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id, reason)
    SELECT show_id, seat_id, was, 'UNAVAILABLE', :now, :actor, :short_reason FROM changed
)
SELECT show_id, seat_id, version FROM changed
"""

_PUT_BACK_ON_SALE = """
WITH changed AS (
    UPDATE show_seats
       SET status = 'AVAILABLE', unavailable_reason = NULL, version = version + 1
     WHERE show_id = ANY(CAST(:shows AS uuid[])) AND seat_id = ANY(CAST(:seats AS uuid[]))
       AND status = 'UNAVAILABLE'
    RETURNING show_id, seat_id, version
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id, reason)
    SELECT show_id, seat_id, 'UNAVAILABLE', 'AVAILABLE', :now, :actor, :short_reason FROM changed
)
SELECT show_id, seat_id, version FROM changed
"""

SeatVersion = tuple[uuid.UUID, uuid.UUID, int]  # (show, seat, new version)


async def set_on_sale(
    session: AsyncSession,
    show_ids: list[uuid.UUID],
    seat_ids: list[uuid.UUID],
    *,
    on_sale: bool,
    now: datetime,
    actor_id: uuid.UUID,
    reason: str,
) -> list[SeatVersion]:
    """Take free seats out of sale (UNAVAILABLE) or put UNAVAILABLE ones back (AVAILABLE),
    with a transition row each; seats in any other state are left alone."""
    rows = await session.execute(
        text(_PUT_BACK_ON_SALE if on_sale else _TAKE_OUT_OF_SALE),
        {
            "shows": show_ids,
            "seats": seat_ids,
            "now": now,
            "actor": actor_id,
            "reason": reason,
            "short_reason": reason[:TRANSITION_REASON_CHARS],
        },
    )
    return [tuple(row) for row in rows]


@dataclass(frozen=True, slots=True)
class SeatState:
    show_id: uuid.UUID
    seat_id: uuid.UUID
    status: str
    held_until: datetime | None
    booking_id: uuid.UUID | None
    booking_code: str | None


async def seat_states(
    session: AsyncSession,
    show_ids: list[uuid.UUID],
    *,
    seat_ids: list[uuid.UUID] | None = None,
    booking_ids: list[uuid.UUID] | None = None,
) -> list[SeatState]:
    """Rows of these shows, by seat or by booking, with the booking code of sold ones."""
    where = "ss.seat_id = ANY(CAST(:seats AS uuid[]))"
    if booking_ids is not None:
        where = "ss.booking_id = ANY(CAST(:bookings AS uuid[]))"
    rows = await session.execute(
        text(
            f"""
            SELECT ss.show_id, ss.seat_id, ss.status, ss.held_until, ss.booking_id, b.code
              FROM show_seats ss LEFT JOIN bookings b ON b.id = ss.booking_id
             WHERE ss.show_id = ANY(CAST(:shows AS uuid[])) AND {where}
            """
        ),
        {"shows": show_ids, "seats": seat_ids or [], "bookings": booking_ids or []},
    )
    return [SeatState(*row) for row in rows]


async def free_seats(session: AsyncSession, show_id: uuid.UUID, now: datetime) -> set[uuid.UUID]:
    rows = await session.scalars(
        text(f"SELECT ss.seat_id FROM show_seats ss WHERE ss.show_id = :show AND {FREE}"),
        {"show": show_id, "now": now},
    )
    return set(rows)


_MOVE = f"""
WITH moves AS (
    SELECT * FROM unnest(CAST(:from_seats AS uuid[]), CAST(:to_seats AS uuid[]),
                         CAST(:bookings AS uuid[]), CAST(:broken AS boolean[]))
             AS m(from_seat, to_seat, booking_id, broken)
), arrived AS (
    UPDATE show_seats ss
       SET status = 'BOOKED', booking_id = m.booking_id, hold_id = NULL, held_until = NULL,
           version = ss.version + 1
      FROM moves m
     WHERE ss.show_id = :show AND ss.seat_id = m.to_seat AND {FREE}
    RETURNING ss.seat_id, ss.version, m.booking_id
), left_seats AS (
    UPDATE show_seats ss
       SET status = CASE WHEN m.broken THEN 'UNAVAILABLE' ELSE 'AVAILABLE' END,
           unavailable_reason = CASE WHEN m.broken THEN CAST(:reason AS text) END,
           booking_id = NULL, version = ss.version + 1
      FROM moves m
     WHERE ss.show_id = :show AND ss.seat_id = m.from_seat AND ss.status = 'BOOKED'
       AND ss.booking_id = m.booking_id
    RETURNING ss.seat_id, ss.version, ss.status, m.booking_id
), sold AS (
    UPDATE booking_seats bs SET seat_id = m.to_seat
      FROM moves m
     WHERE bs.booking_id = m.booking_id AND bs.seat_id = m.from_seat AND bs.status = 'ACTIVE'
    RETURNING bs.seat_id
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id,
                                  reason, booking_id)
    SELECT CAST(:show AS uuid), seat_id, 'BOOKED', status, CAST(:now AS timestamptz),
           CAST(:actor AS uuid), CAST(:short_reason AS text), booking_id
      FROM left_seats
    UNION ALL
    SELECT CAST(:show AS uuid), seat_id, 'AVAILABLE', 'BOOKED', CAST(:now AS timestamptz),
           CAST(:actor AS uuid), 'moved', booking_id
      FROM arrived
)
SELECT 'arrived' AS side, seat_id, version, 'BOOKED' AS status FROM arrived
UNION ALL
SELECT 'left', seat_id, version, status FROM left_seats
"""


@dataclass(frozen=True, slots=True)
class Move:
    from_seat: uuid.UUID
    to_seat: uuid.UUID
    booking_id: uuid.UUID
    broken: bool  # the seat left goes out of sale (else back on sale: a moved partner seat)


async def move_bookings(
    session: AsyncSession,
    show_id: uuid.UUID,
    moves: list[Move],
    *,
    now: datetime,
    actor_id: uuid.UUID,
    reason: str,
) -> list[tuple[uuid.UUID, int, str]] | None:
    """Move sold seats of one show in one statement; (seat, version, status) of every row
    changed, or None (and nothing changed) when a destination was taken meanwhile."""
    savepoint = await session.begin_nested()
    rows = (
        await session.execute(
            text(_MOVE),
            {
                "show": show_id,
                "from_seats": [m.from_seat for m in moves],
                "to_seats": [m.to_seat for m in moves],
                "bookings": [m.booking_id for m in moves],
                "broken": [m.broken for m in moves],
                "now": now,
                "actor": actor_id,
                "reason": reason,
                "short_reason": reason[:TRANSITION_REASON_CHARS],
            },
        )
    ).all()
    if len(rows) != 2 * len(moves):
        await savepoint.rollback()
        return None
    await savepoint.commit()
    return [(row.seat_id, row.version, row.status) for row in rows]


async def add_outbox_event(session: AsyncSession, topic: str, payload: dict[str, Any]) -> None:
    await session.execute(
        text("INSERT INTO outbox (topic, payload) VALUES (:topic, CAST(:payload AS jsonb))"),
        {"topic": topic, "payload": _json(payload)},
    )
