"""A show's prices as checkout should charge them: base prices through the theater's rules.

Checkout calls ``show_prices(db, show_id, now)`` when it prices a hold and uses
``.effective[seat_type]`` for each seat; ``effective_prices`` in ``rules.py`` is the pure core.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.domain.pricing_rules import queries
from server.domain.pricing_rules.rules import ShowContext, applying_rules, effective_prices


@dataclass(frozen=True, slots=True)
class ShowPrices:
    show_id: uuid.UUID
    currency: str
    occupancy_percent: int
    base: dict[str, int]
    effective: dict[str, int]
    rules_applied: list[str]


def occupancy_percent(taken: int, on_sale: int) -> int:
    """Seats sold or held as a whole percentage of the seats on sale (rounded down)."""
    return taken * 100 // on_sale if on_sale else 100


async def show_prices(
    db: AsyncSession | AsyncConnection, show_id: uuid.UUID, now: datetime
) -> ShowPrices | None:
    """Base and effective prices of a show right now, or None when there is no such show."""
    facts = await queries.pricing_facts(db, show_id, now)
    if facts is None:
        return None
    rules = await queries.rules_for(db, facts.theater_id, facts.screen_id)
    context = ShowContext(
        starts_at=facts.starts_at.astimezone(ZoneInfo(facts.timezone)),
        now=now,
        occupancy_percent=occupancy_percent(facts.taken, facts.on_sale),
        screen_id=facts.screen_id,
    )
    return ShowPrices(
        show_id=show_id,
        currency=facts.currency,
        occupancy_percent=context.occupancy_percent,
        base=dict(facts.prices),
        effective=effective_prices(facts.prices, rules, context),
        rules_applied=[rule.name for rule in applying_rules(rules, context)],
    )
