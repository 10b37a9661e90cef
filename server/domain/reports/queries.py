"""SQL for the reports: every figure is a PostgreSQL aggregate, grouped by the theater's local
wall clock (``timestamptz AT TIME ZONE <the city's zone>``), so a day is a local day and the
database sends back a few rows, never the bookings themselves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import BookingStatus, PaymentStatus
from server.contracts.reports import GroupBy

# Bookings that were sold (money taken), whatever happened to them later.
UNSOLD = (BookingStatus.PENDING.value, BookingStatus.REFUSED.value)
# Payments whose money was taken; refunds are counted from the refunds table.
TAKEN = (
    PaymentStatus.CAPTURED.value,
    PaymentStatus.PARTIALLY_REFUNDED.value,
    PaymentStatus.REFUNDED.value,
)


@dataclass(frozen=True, slots=True)
class TheaterFacts:
    theater_id: uuid.UUID
    name: str
    city: str
    timezone: str
    currency: str


async def theater(session: AsyncSession, theater_id: uuid.UUID) -> TheaterFacts | None:
    rows = await session.execute(
        text(
            "SELECT t.id, t.name, c.name, c.timezone, c.currency"
            "  FROM theaters t JOIN cities c ON c.id = t.city_id WHERE t.id = :id"
        ),
        {"id": theater_id},
    )
    row = rows.first()
    return TheaterFacts(*row) if row is not None else None


# -- analytics ------------------------------------------------------------------------------

# Each show's local facts and seat, ticket and takings totals: one row per show.
PER_SHOW = """
WITH picked AS (
    SELECT sh.id, sh.starts_at AT TIME ZONE :tz AS local_start,
           sc.id AS screen_id, sc.name AS screen_name, m.id AS movie_id, m.title
      FROM shows sh
      JOIN screens sc ON sc.id = sh.screen_id
      JOIN movies m ON m.id = sh.movie_id
     WHERE sh.theater_id = :theater AND sh.status <> 'CANCELLED'
       AND CAST(sh.starts_at AT TIME ZONE :tz AS date) BETWEEN :date_from AND :date_to
), seats AS (
    SELECT show_id,
           count(*) FILTER (WHERE status <> 'UNAVAILABLE') AS sellable,
           count(*) FILTER (WHERE status = 'BOOKED') AS booked
      FROM show_seats WHERE show_id IN (SELECT id FROM picked) GROUP BY show_id
), tickets AS (
    SELECT show_id, sum(price_minor) AS tickets
      FROM booking_seats
     WHERE status = 'ACTIVE' AND show_id IN (SELECT id FROM picked)
     GROUP BY show_id
), takings AS (
    SELECT show_id, sum(total_minor - refunded_minor) AS revenue
      FROM bookings
     WHERE confirmed_at IS NOT NULL AND status <> ALL(:unsold)
       AND show_id IN (SELECT id FROM picked)
     GROUP BY show_id
), per_show AS (
    SELECT p.*,
           CAST(p.local_start AS date) AS local_day,
           CAST(extract(isodow FROM p.local_start) AS int) AS weekday,
           CAST(extract(hour FROM p.local_start) AS int) AS hour,
           to_char(p.local_start, 'HH24:MI') AS start_time,
           CASE WHEN extract(hour FROM p.local_start) BETWEEN 6 AND 11 THEN 'morning'
                WHEN extract(hour FROM p.local_start) BETWEEN 12 AND 16 THEN 'afternoon'
                WHEN extract(hour FROM p.local_start) BETWEEN 17 AND 20 THEN 'evening'
                ELSE 'night' END AS slot,
           COALESCE(s.sellable, 0) AS sellable, COALESCE(s.booked, 0) AS booked,
           COALESCE(t.tickets, 0) AS tickets, COALESCE(k.revenue, 0) AS revenue
      FROM picked p
      LEFT JOIN seats s ON s.show_id = p.id
      LEFT JOIN tickets t ON t.show_id = p.id
      LEFT JOIN takings k ON k.show_id = p.id
)
"""


@dataclass(frozen=True, slots=True)
class Grouping:
    """How ``--by`` groups the shows: its grouping set, and SQL for each group's key and
    label (only the set's own columns may appear in them)."""

    columns: str
    key: str
    label: str


GROUPINGS = {
    GroupBy.SHOW: Grouping(
        "id, local_start, screen_name, title",
        "CAST(id AS text)",
        "to_char(local_start, 'YYYY-MM-DD HH24:MI') || '  ' || screen_name || '  ' || title",
    ),
    GroupBy.SCREEN: Grouping("screen_id, screen_name", "CAST(screen_id AS text)", "screen_name"),
    GroupBy.DAY: Grouping(
        "local_day", "to_char(local_day, 'YYYY-MM-DD')", "to_char(local_day, 'Dy YYYY-MM-DD')"
    ),
    GroupBy.SLOT: Grouping(
        "slot",
        "slot",
        "slot || CASE slot WHEN 'morning' THEN ' 06–12' WHEN 'afternoon' THEN ' 12–17'"
        " WHEN 'evening' THEN ' 17–21' ELSE ' 21–06' END",
    ),
}


@dataclass(frozen=True, slots=True)
class OccupancyRow:
    """One group: ``dimension`` is 'by' (the ``--by`` grouping), 'movie', 'time', 'heat'
    (weekday × hour) or 'total'; the key columns of the other dimensions are None."""

    dimension: str
    key: str | None
    label: str | None
    movie_id: uuid.UUID | None
    title: str | None
    start_time: str | None
    weekday: int | None
    hour: int | None
    shows: int
    sellable: int
    booked: int
    tickets: int
    revenue: int


async def occupancy(
    session: AsyncSession,
    theater_id: uuid.UUID,
    timezone: str,
    date_from: date,
    date_to: date,
    by: GroupBy,
) -> list[OccupancyRow]:
    """The shows starting on those local dates, summed by ``by``, by movie, by local start
    time, by weekday × hour and in total: one statement with GROUPING SETS."""
    grouping = GROUPINGS[by]
    first_column = grouping.columns.split(",")[0]
    statement = f"""
        {PER_SHOW}
        SELECT CASE WHEN GROUPING(movie_id) = 0 THEN 'movie'
                    WHEN GROUPING(start_time) = 0 THEN 'time'
                    WHEN GROUPING(weekday) = 0 THEN 'heat'
                    WHEN GROUPING({first_column}) = 0 THEN 'by'
                    ELSE 'total' END AS dimension,
               {grouping.key}, {grouping.label}, movie_id, title, start_time, weekday, hour,
               count(*) AS shows, CAST(COALESCE(sum(sellable), 0) AS bigint),
               CAST(COALESCE(sum(booked), 0) AS bigint), CAST(COALESCE(sum(tickets), 0) AS bigint),
               CAST(COALESCE(sum(revenue), 0) AS bigint)
          FROM per_show
         GROUP BY GROUPING SETS (({grouping.columns}), (movie_id, title), (start_time),
                                 (weekday, hour), ())
    """
    rows = await session.execute(
        text(statement),
        {
            "tz": timezone,
            "theater": theater_id,
            "date_from": date_from,
            "date_to": date_to,
            "unsold": list(UNSOLD),
        },
    )
    return [OccupancyRow(*row) for row in rows]


# -- settlement -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaySales:
    bookings: int = 0
    tickets: int = 0
    snacks: int = 0
    fees: int = 0
    taxes: int = 0
    discounts: int = 0
    loyalty: int = 0
    collected: int = 0
    cash: int = 0


@dataclass(frozen=True, slots=True)
class DayRefunds:
    count: int = 0
    amount: int = 0
    fees_kept: int = 0
    # FAILED refunds returned nothing, so they are not in the figures above; counted apart.
    failed: int = 0
    failed_amount: int = 0


async def daily_sales(
    session: AsyncSession, theater_id: uuid.UUID, timezone: str, first: date, last: date
) -> dict[date, DaySales]:
    """Bookings sold on each local day (by ``confirmed_at``), with the cash part of their
    payments that the theater's tills took."""
    rows = await session.execute(
        text(
            """
            SELECT CAST(b.confirmed_at AT TIME ZONE :tz AS date) AS day, count(*),
                   CAST(sum(b.seats_minor) AS bigint), CAST(sum(b.snacks_minor) AS bigint),
                   CAST(sum(b.convenience_fee_minor) AS bigint), CAST(sum(b.tax_minor) AS bigint),
                   CAST(sum(b.discount_minor) AS bigint), CAST(sum(b.loyalty_minor) AS bigint),
                   CAST(sum(b.total_minor) AS bigint), CAST(COALESCE(sum(cash.amount), 0) AS bigint)
              FROM bookings b
              JOIN shows sh ON sh.id = b.show_id
              LEFT JOIN LATERAL (
                    SELECT sum(p.amount_minor) AS amount FROM payments p
                     WHERE p.booking_id = b.id AND p.method = 'cash' AND p.status = ANY(:taken)
                   ) cash ON true
             WHERE sh.theater_id = :theater AND b.confirmed_at IS NOT NULL
               AND b.status <> ALL(:unsold)
               AND CAST(b.confirmed_at AT TIME ZONE :tz AS date) BETWEEN :first AND :last
             GROUP BY 1
            """
        ),
        _period(theater_id, timezone, first, last) | {"unsold": list(UNSOLD), "taken": list(TAKEN)},
    )
    return {row[0]: DaySales(*row[1:]) for row in rows}


async def daily_refunds(
    session: AsyncSession, theater_id: uuid.UUID, timezone: str, first: date, last: date
) -> dict[date, DayRefunds]:
    """Refunds of the theater's bookings made on each local day. A FAILED refund (not sent
    again, not settled by other means) returned nothing: it counts only as failed."""
    rows = await session.execute(
        text(
            """
            SELECT CAST(r.created_at AT TIME ZONE :tz AS date) AS day,
                   count(*) FILTER (WHERE r.status <> 'FAILED'),
                   CAST(COALESCE(sum(r.amount_minor) FILTER (WHERE r.status <> 'FAILED'), 0)
                        AS bigint),
                   CAST(COALESCE(sum(r.fee_kept_minor) FILTER (WHERE r.status <> 'FAILED'), 0)
                        AS bigint),
                   count(*) FILTER (WHERE r.status = 'FAILED'),
                   CAST(COALESCE(sum(r.amount_minor) FILTER (WHERE r.status = 'FAILED'), 0)
                        AS bigint)
              FROM refunds r
              JOIN bookings b ON b.id = r.booking_id
              JOIN shows sh ON sh.id = b.show_id
             WHERE sh.theater_id = :theater
               AND CAST(r.created_at AT TIME ZONE :tz AS date) BETWEEN :first AND :last
             GROUP BY 1
            """
        ),
        _period(theater_id, timezone, first, last),
    )
    return {row[0]: DayRefunds(*row[1:]) for row in rows}


def _period(theater_id: uuid.UUID, timezone: str, first: date, last: date) -> dict[str, Any]:
    return {"theater": theater_id, "tz": timezone, "first": first, "last": last}
