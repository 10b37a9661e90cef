"""SQL for dynamic pricing: a show's pricing facts and its theater's rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.db.models import PriceRule as PriceRuleRecord
from server.domain.pricing_rules.rules import PricingRule


@dataclass(frozen=True, slots=True)
class PricingFacts:
    show_id: uuid.UUID
    theater_id: uuid.UUID
    screen_id: uuid.UUID
    starts_at: datetime
    timezone: str
    currency: str
    prices: dict[str, int]
    on_sale: int  # seats not taken out of sale
    taken: int  # seats sold or under a live hold


async def pricing_facts(
    db: AsyncSession | AsyncConnection, show_id: uuid.UUID, now: datetime
) -> PricingFacts | None:
    row = (
        await db.execute(
            text(
                """
                SELECT sh.id, sh.theater_id, sh.screen_id, sh.starts_at, c.timezone, c.currency,
                       sh.prices,
                       count(ss.seat_id) FILTER (WHERE ss.status <> 'UNAVAILABLE'),
                       count(ss.seat_id) FILTER (WHERE ss.status = 'BOOKED'
                           OR (ss.status = 'BLOCKED' AND ss.held_until > :now))
                  FROM shows sh
                  JOIN theaters t ON t.id = sh.theater_id
                  JOIN cities c ON c.id = t.city_id
                  LEFT JOIN show_seats ss ON ss.show_id = sh.id
                 WHERE sh.id = :show
                 GROUP BY sh.id, c.timezone, c.currency
                """
            ),
            {"show": show_id, "now": now},
        )
    ).first()
    return PricingFacts(*row) if row else None


async def rules_for(
    db: AsyncSession | AsyncConnection, theater_id: uuid.UUID, screen_id: uuid.UUID
) -> list[PricingRule]:
    """The theater's active rules for every screen or for this one."""
    rows = await db.execute(
        select(
            PriceRuleRecord.name,
            PriceRuleRecord.condition,
            PriceRuleRecord.adjust_percent,
            PriceRuleRecord.seat_types,
            PriceRuleRecord.bounds,
            PriceRuleRecord.priority,
            PriceRuleRecord.screen_id,
        ).where(
            PriceRuleRecord.theater_id == theater_id,
            PriceRuleRecord.active.is_(True),
            or_(PriceRuleRecord.screen_id.is_(None), PriceRuleRecord.screen_id == screen_id),
        )
    )
    return [
        PricingRule(
            name=row.name,
            condition=row.condition,
            adjust_percent=row.adjust_percent,
            seat_types=frozenset(row.seat_types) if row.seat_types is not None else None,
            bounds=row.bounds or {},
            priority=row.priority,
            screen_id=row.screen_id,
        )
        for row in rows
    ]
