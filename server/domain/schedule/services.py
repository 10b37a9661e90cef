"""Creating shows together with their per-show seat inventory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Show, Theater

ACCESSIBLE_TYPES = ("wheelchair", "companion")


@dataclass(frozen=True, slots=True)
class ShowSpec:
    movie_id: uuid.UUID
    screen_id: uuid.UUID
    theater_id: uuid.UUID
    starts_at: datetime
    duration_minutes: int
    language: str
    format: str
    prices: dict[str, int]
    sale_opens_at: datetime | None = None


async def cleaning_minutes(session: AsyncSession, theater_id: uuid.UUID) -> int:
    minutes = await session.scalar(select(Theater.cleaning_minutes).where(Theater.id == theater_id))
    return int(minutes or 0)


async def create_shows(session: AsyncSession, specs: list[ShowSpec]) -> list[uuid.UUID]:
    """Insert shows and, in one INSERT … SELECT, an AVAILABLE inventory row per seat.

    Overlaps (cleaning buffer included) are refused by the database's exclusion constraint;
    the caller decides how to report that.
    """
    if not specs:
        return []
    buffers = {t: await cleaning_minutes(session, t) for t in {s.theater_id for s in specs}}
    rows = [
        {
            "movie_id": spec.movie_id,
            "screen_id": spec.screen_id,
            "theater_id": spec.theater_id,
            "starts_at": spec.starts_at,
            "ends_at": spec.starts_at + timedelta(minutes=spec.duration_minutes),
            "cleaning_ends_at": spec.starts_at
            + timedelta(minutes=spec.duration_minutes + buffers[spec.theater_id]),
            "language": spec.language,
            "format": spec.format,
            "prices": spec.prices,
            "sale_opens_at": spec.sale_opens_at,
        }
        for spec in specs
    ]
    show_ids = list(await session.scalars(insert(Show).returning(Show.id), rows))
    await session.execute(
        text(
            """
            INSERT INTO show_seats (show_id, seat_id, status, accessible_only)
            SELECT sh.id, se.id, 'AVAILABLE', se.seat_type IN ('wheelchair', 'companion')
            FROM shows sh JOIN seats se ON se.screen_id = sh.screen_id AND NOT se.retired
            WHERE sh.id = ANY(:ids)
            """
        ),
        {"ids": show_ids},
    )
    return show_ids
