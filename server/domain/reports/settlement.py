"""The monthly settlement statement: what a theater's sales, refunds and the platform's
commission come to on each local day of a month, and in total, to the minor unit.

Sales count on the local day their booking was confirmed, refunds on the local day they were
made (see ``SettlementLine`` in ``server/contracts/reports.py`` for every line). All figures
are integer sums; the one rounding is the commission, computed per day as
``BMS_PLATFORM_COMMISSION_BP`` basis points (default 1000 = 10 %) of that day's net ticket
revenue and rounded half away from zero, so a refund's commission credit mirrors the sale's
charge. The period's total is the sum of its days, so the statement adds up on paper.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.contracts.reports import (
    SettlementDay,
    SettlementLine,
    SettlementOut,
    period_days,
    period_text,
)
from server.domain.accounts.principal import Principal
from server.domain.errors import Invalid, Unavailable
from server.domain.pricing.services import BASIS_POINTS, round_half_up
from server.domain.reports import queries
from server.domain.reports.analytics import own_theater

COMMISSION_ENV = "BMS_PLATFORM_COMMISSION_BP"
DEFAULT_COMMISSION_BP = 1000
LINE_FIELDS = tuple(f.name for f in msgspec.structs.fields(SettlementLine))


def commission_rate_bp() -> int:
    """The platform's commission in basis points, from the server's environment."""
    raw = os.environ.get(COMMISSION_ENV, "").strip()
    if not raw:
        return DEFAULT_COMMISSION_BP
    if not raw.isdigit() or int(raw) > BASIS_POINTS:
        raise Unavailable(
            f"The server's {COMMISSION_ENV}={raw!r} is not a rate in basis points (0 to "
            f"{BASIS_POINTS}, e.g. 1000 for 10 %); fix it in the server's environment and "
            "restart the server."
        )
    return int(raw)


def commission(base_minor: int, rate_bp: int) -> int:
    """``rate_bp`` of ``base_minor``, rounded half away from zero (a negative base, a day
    with more refunds than sales, gives the commission back)."""
    magnitude = round_half_up(abs(base_minor) * rate_bp, BASIS_POINTS)
    return magnitude if base_minor >= 0 else -magnitude


def month_of(period: str) -> tuple[date, date]:
    """``"2026-11"`` → (2026-11-01, 2026-11-30); Invalid with the format otherwise."""
    try:
        return period_days(period)
    except ValueError as exc:
        raise Invalid(f"period {exc}.") from None


def settle_day(
    day: date, sales: queries.DaySales, refunds: queries.DayRefunds, rate_bp: int
) -> SettlementDay:
    net_ticket_revenue = sales.tickets - sales.discounts - sales.loyalty - refunds.amount
    charged = commission(net_ticket_revenue, rate_bp)
    return SettlementDay(
        date=day,
        bookings=sales.bookings,
        refund_count=refunds.count,
        tickets_minor=sales.tickets,
        snacks_minor=sales.snacks,
        gross_sales_minor=sales.tickets + sales.snacks,
        convenience_fees_minor=sales.fees,
        taxes_minor=sales.taxes,
        discounts_minor=sales.discounts,
        loyalty_minor=sales.loyalty,
        collected_minor=sales.collected,
        refunds_minor=refunds.amount,
        cancellation_fees_kept_minor=refunds.fees_kept,
        net_ticket_revenue_minor=net_ticket_revenue,
        commission_minor=charged,
        cash_at_box_office_minor=sales.cash,
        net_payable_minor=sales.collected - refunds.amount - charged - sales.cash,
    )


def total_of(days: list[SettlementDay]) -> SettlementLine:
    return SettlementLine(**{name: sum(getattr(day, name) for day in days) for name in LINE_FIELDS})


async def settlement(
    session: AsyncSession, clock: Clock, principal: Principal, theater_id: uuid.UUID, period: str
) -> SettlementOut:
    first, last = month_of(period)
    theater = await own_theater(session, principal, theater_id)
    rate_bp = commission_rate_bp()
    sales = await queries.daily_sales(session, theater_id, theater.timezone, first, last)
    refunds = await queries.daily_refunds(session, theater_id, theater.timezone, first, last)
    days = [
        settle_day(
            day, sales.get(day, queries.DaySales()), refunds.get(day, queries.DayRefunds()), rate_bp
        )
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    zone = ZoneInfo(theater.timezone)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    now = clock.now()
    return SettlementOut(
        theater=theater,
        period=period_text(first),
        period_start=start,
        period_end=end,
        commission_rate_bp=rate_bp,
        generated_at=now,
        provisional=now < end,
        days=days,
        total=total_of(days),
        refunds_failed=sum(day.failed for day in refunds.values()),
        refunds_failed_minor=sum(day.failed_amount for day in refunds.values()),
    )
