"""Occupancy analytics of one theater: by show, screen, local day or time slot, with the top
movies, the fullest start times and a weekday × hour heat map, from one SQL statement."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.contracts.enums import Role
from server.contracts.reports import (
    AnalyticsOut,
    GroupBy,
    HeatCell,
    Occupancy,
    OccupancyGroup,
    ReportTheater,
)
from server.domain.accounts.guards import require_role, require_theater
from server.domain.accounts.principal import Principal
from server.domain.admin.money import decimals_of
from server.domain.errors import Invalid, NotFound
from server.domain.reports import queries

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP = 5
SLOT_ORDER = ("morning", "afternoon", "evening", "night")


async def own_theater(
    session: AsyncSession, principal: Principal, theater_id: uuid.UUID
) -> ReportTheater:
    """The theater, if the caller is its admin (or a platform admin)."""
    require_role(principal, Role.THEATER_ADMIN)
    found = await queries.theater(session, theater_id)
    if found is None:
        raise NotFound(f"There is no theater {theater_id}; `bms admin theater list` shows yours.")
    require_theater(principal, theater_id)
    return ReportTheater(
        theater_id=found.theater_id,
        name=found.name,
        city=found.city,
        timezone=found.timezone,
        currency=found.currency,
        currency_decimals=decimals_of(found.currency),
    )


def local_range(
    theater: ReportTheater, clock: Clock, date_from: date | None, date_to: date | None
) -> tuple[date, date]:
    """The local dates asked for, a 30-day window when one end is missing: the 30 days up to
    today (local), or from ``date_from`` on."""
    window = timedelta(days=DEFAULT_DAYS - 1)
    try:
        if date_to is None:
            today = clock.now().astimezone(ZoneInfo(theater.timezone)).date()
            date_to = date_from + window if date_from is not None else today
        first, last = date_from or date_to - window, date_to
    except OverflowError:
        raise Invalid(
            "Those dates are beyond the calendar; give dates such as 2026-11-01."
        ) from None
    if last < first:
        raise Invalid(f"'to' ({last}) is before 'from' ({first}); swap them.")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(
            f"{first} to {last} is more than {MAX_DAYS} days; ask for a year or less at a time."
        )
    return first, last


async def analytics(
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    theater_id: uuid.UUID,
    *,
    date_from: date | None,
    date_to: date | None,
    by: GroupBy,
) -> AnalyticsOut:
    theater = await own_theater(session, principal, theater_id)
    first, last = local_range(theater, clock, date_from, date_to)
    rows = await queries.occupancy(session, theater_id, theater.timezone, first, last, by)
    by_dimension: dict[str, list[queries.OccupancyRow]] = {}
    for row in rows:
        by_dimension.setdefault(row.dimension, []).append(row)
    (total,) = by_dimension["total"]  # the empty grouping set answers even without shows
    return AnalyticsOut(
        theater=theater,
        date_from=first,
        date_to=last,
        by=by,
        totals=Occupancy(**_counts(total)),
        groups=_in_order(by, [_group(r, r.key, r.label) for r in by_dimension.get("by", [])]),
        top_movies=_top_movies(by_dimension.get("movie", [])),
        top_times=_top_times(by_dimension.get("time", [])),
        heatmap=sorted(
            (
                HeatCell(weekday=row.weekday or 0, hour=row.hour or 0, **_counts(row))
                for row in by_dimension.get("heat", [])
            ),
            key=lambda cell: (cell.weekday, cell.hour),
        ),
    )


def percent(booked: int, sellable: int) -> float:
    return round(100 * booked / sellable, 1) if sellable else 0.0


def _counts(row: queries.OccupancyRow) -> dict[str, Any]:
    return {
        "shows": row.shows,
        "sellable_seats": row.sellable,
        "booked_seats": row.booked,
        "occupancy_percent": percent(row.booked, row.sellable),
        "tickets_minor": row.tickets,
        "revenue_minor": row.revenue,
    }


def _group(row: queries.OccupancyRow, key: object, label: object) -> OccupancyGroup:
    return OccupancyGroup(key=str(key), label=str(label), **_counts(row))


def _in_order(by: GroupBy, groups: list[OccupancyGroup]) -> list[OccupancyGroup]:
    """Shows by start, days by date, screens by name, slots from morning to night."""
    if by is GroupBy.SLOT:
        return sorted(groups, key=lambda g: SLOT_ORDER.index(g.key))
    if by is GroupBy.DAY:
        return sorted(groups, key=lambda g: g.key)
    return sorted(groups, key=lambda g: (g.label, g.key))


def _top_movies(rows: list[queries.OccupancyRow]) -> list[OccupancyGroup]:
    """Most seats sold first, then most takings."""
    ranked = sorted(rows, key=lambda r: (-r.booked, -r.revenue, r.title or ""))
    return [_group(row, row.movie_id, row.title) for row in ranked[:TOP]]


def _top_times(rows: list[queries.OccupancyRow]) -> list[OccupancyGroup]:
    """The local start times whose shows fill best, then the busiest."""
    ranked = sorted(
        rows, key=lambda r: (-percent(r.booked, r.sellable), -r.booked, r.start_time or "")
    )
    return [_group(row, row.start_time, row.start_time) for row in ranked[:TOP]]
