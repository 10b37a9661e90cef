"""SQL for announcements: which shows, and who holds seats for them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

# Who the notifications worker reaches for a booking (``worker._holder_occasion``): a
# customer through the booking's contact or their own addresses, counted once per account;
# a sale by staff at a till or kiosk only through the contact given at checkout. NULL: nobody.
PERSON = """
CASE WHEN u.role = 'customer' AND COALESCE(b.contact_email, b.contact_phone, u.email, u.phone,
                                           u.preferences->>'contact_email') IS NOT NULL
     THEN CAST(u.id AS text)
     ELSE lower(COALESCE(b.contact_email, b.contact_phone)) END
"""

# Per show, and (the empty grouping set) across them all: bookings still holding a seat,
# the distinct people they reach, and those that reach nobody.
AUDIENCE = f"""
WITH picked AS (
    SELECT sh.id, sh.theater_id, t.name AS theater_name, sc.name AS screen_name, m.title,
           sh.starts_at, c.timezone
      FROM shows sh
      JOIN theaters t ON t.id = sh.theater_id
      JOIN cities c ON c.id = t.city_id
      JOIN screens sc ON sc.id = sh.screen_id
      JOIN movies m ON m.id = sh.movie_id
     WHERE {{where}}
), audience AS (
    SELECT b.show_id, {PERSON} AS person
      FROM bookings b
      JOIN users u ON u.id = b.user_id
     WHERE b.show_id IN (SELECT id FROM picked)
       AND EXISTS (SELECT 1 FROM booking_seats bs
                    WHERE bs.booking_id = b.id AND bs.status = 'ACTIVE')
)
SELECT p.id, p.theater_id, p.theater_name, p.screen_name, p.title, p.starts_at, p.timezone,
       count(a.show_id) AS bookings, count(DISTINCT a.person) AS customers,
       count(a.show_id) FILTER (WHERE a.person IS NULL) AS unreachable
  FROM picked p
  LEFT JOIN audience a ON a.show_id = p.id
 GROUP BY GROUPING SETS ((p.id, p.theater_id, p.theater_name, p.screen_name, p.title,
                          p.starts_at, p.timezone), ())
 ORDER BY p.starts_at, p.screen_name
"""


@dataclass(frozen=True, slots=True)
class Reach:
    bookings: int  # bookings still holding a seat
    customers: int  # distinct people they reach
    unreachable: int  # bookings with nobody to tell


@dataclass(frozen=True, slots=True)
class ShowAudience:
    show_id: uuid.UUID
    theater_id: uuid.UUID
    theater_name: str
    screen_name: str
    title: str
    starts_at: datetime
    timezone: str
    reach: Reach


@dataclass(frozen=True, slots=True)
class Audiences:
    shows: list[ShowAudience]
    everyone: Reach  # across the shows: a person with seats for two of them counts once


async def audience_of_shows(session: AsyncSession, show_ids: Collection[uuid.UUID]) -> Audiences:
    rows = await session.execute(
        text(AUDIENCE.format(where="sh.id = ANY(:ids)")), {"ids": list(show_ids)}
    )
    return _audiences(rows)


async def audience_of_theater(
    session: AsyncSession, theater_id: uuid.UUID, timezone: str, first: date, last: date
) -> Audiences:
    """The theater's shows, not cancelled, starting on local dates ``first``–``last``."""
    where = (
        "sh.theater_id = :theater AND sh.status <> 'CANCELLED'"
        " AND CAST(sh.starts_at AT TIME ZONE :tz AS date) BETWEEN :first AND :last"
    )
    rows = await session.execute(
        text(AUDIENCE.format(where=where)),
        {"theater": theater_id, "tz": timezone, "first": first, "last": last},
    )
    return _audiences(rows)


def _audiences(rows: Iterable[Row[Any]]) -> Audiences:
    shows, everyone = [], Reach(0, 0, 0)
    for row in rows:
        reach = Reach(row.bookings, row.customers, row.unreachable)
        if row.id is None:  # the empty grouping set: all the shows together
            everyone = reach
            continue
        facts = (row.theater_name, row.screen_name, row.title, row.starts_at, row.timezone)
        shows.append(ShowAudience(row.id, row.theater_id, *facts, reach=reach))
    return Audiences(shows, everyone)
