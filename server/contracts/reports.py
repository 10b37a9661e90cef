"""Admin reports and announcements: occupancy analytics, the monthly settlement statement and
messages to a show's audience.

Money is integer minor units (``*_minor``) in the theater's currency; ``currency_decimals``
says where the decimal point goes (INR 2, JPY 0). Dates and times are local to the theater
(its city's timezone): a "day" runs from local midnight to local midnight.
"""

from __future__ import annotations

import calendar
import re
from datetime import MAXYEAR, MINYEAR, date, datetime
from enum import StrEnum
from uuid import UUID

import msgspec

_PERIOD = re.compile(r"(\d{4})-(\d{2})")
# A period ends at the next month's first local midnight, which the last year has no room
# for; the CLI checks the same range before asking.
FIRST_PERIOD, LAST_PERIOD = f"{MINYEAR:04d}-01", f"{MAXYEAR - 1:04d}-12"


def period_days(period: str) -> tuple[date, date]:
    """``"2026-11"`` → (2026-11-01, 2026-11-30); ValueError saying the format and range."""
    match = _PERIOD.fullmatch(period.strip())
    if match is not None:
        year, month = int(match[1]), int(match[2])
        if MINYEAR <= year < MAXYEAR and 1 <= month <= 12:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(
        f"{period!r} is not a month; write YYYY-MM from {FIRST_PERIOD} to {LAST_PERIOD}, "
        "e.g. 2026-11"
    )


def period_text(first: date) -> str:
    """The period of a month as YYYY-MM, four-digit year included (0001-01)."""
    return f"{first.year:04d}-{first.month:02d}"


class ReportTheater(msgspec.Struct, kw_only=True):
    theater_id: UUID
    name: str
    city: str
    timezone: str
    currency: str
    currency_decimals: int


# -- analytics ------------------------------------------------------------------------------


class GroupBy(StrEnum):
    SHOW = "show"
    SCREEN = "screen"
    DAY = "day"
    SLOT = "slot"


class Occupancy(msgspec.Struct, kw_only=True):
    """Seats of some shows: ``occupancy_percent`` = booked ÷ sellable (one decimal).

    Sellable seats are every seat of the shows except those out of sale (UNAVAILABLE);
    ``tickets_minor`` is the face value of the seats still sold; ``revenue_minor`` what the
    shows' buyers paid and kept paid: tickets, fees, taxes and snacks after discounts, less
    refunds."""

    shows: int
    sellable_seats: int
    booked_seats: int
    occupancy_percent: float
    tickets_minor: int
    revenue_minor: int


class OccupancyGroup(Occupancy, kw_only=True):
    """``key``: the show id, screen name, local date (YYYY-MM-DD), slot, movie id or local
    start time (HH:MM); ``label`` says it for people."""

    key: str
    label: str


class HeatCell(Occupancy, kw_only=True):
    """Shows starting on ``weekday`` (ISO: 1 Monday … 7 Sunday) in local ``hour`` (0–23)."""

    weekday: int
    hour: int


class AnalyticsOut(msgspec.Struct, kw_only=True):
    theater: ReportTheater
    date_from: date
    date_to: date
    by: GroupBy
    totals: Occupancy
    groups: list[OccupancyGroup]
    top_movies: list[OccupancyGroup]  # most seats sold first
    top_times: list[OccupancyGroup]  # fullest local start times first
    heatmap: list[HeatCell]  # only the weekday × hour cells that had shows


# -- settlement -----------------------------------------------------------------------------


class SettlementLine(msgspec.Struct, kw_only=True):
    """What one local day (or the whole period) owes the theater, in minor units.

    Sales count on the day their booking was confirmed, refunds on the day they were made.
    ``gross_sales = tickets + snacks``; ``collected = gross_sales + convenience_fees + taxes
    − discounts − loyalty`` (what buyers paid); ``net_ticket_revenue = tickets − discounts
    − loyalty − refunds``; ``commission`` = the platform's rate of it, rounded half away from
    zero per day; ``net_payable = collected − refunds − commission − cash_at_box_office``
    (cash the theater's own tills already hold). ``cancellation_fees_kept`` is the part of
    cancelled bookings that was not refunded: it is inside ``collected`` already."""

    bookings: int
    refund_count: int
    tickets_minor: int
    snacks_minor: int
    gross_sales_minor: int
    convenience_fees_minor: int
    taxes_minor: int
    discounts_minor: int
    loyalty_minor: int
    collected_minor: int
    refunds_minor: int
    cancellation_fees_kept_minor: int
    net_ticket_revenue_minor: int
    commission_minor: int
    cash_at_box_office_minor: int
    net_payable_minor: int


class SettlementDay(SettlementLine, kw_only=True):
    date: date


class SettlementOut(msgspec.Struct, kw_only=True):
    theater: ReportTheater
    period: str  # YYYY-MM
    period_start: datetime  # local midnight of the first day
    period_end: datetime  # local midnight after the last day (exclusive)
    commission_rate_bp: int  # basis points: 1000 = 10 %
    generated_at: datetime
    provisional: bool  # the period has not ended yet: figures may still change
    days: list[SettlementDay]  # every day of the period, in order
    total: SettlementLine
    # Refunds made in the period that failed and are not settled yet (``bms admin refunds
    # list``): money owed to customers that is still inside ``net_payable``.
    refunds_failed: int = 0
    refunds_failed_minor: int = 0


# -- announcements --------------------------------------------------------------------------


class AnnouncementIn(msgspec.Struct, kw_only=True):
    """A message to everyone holding seats for some shows: ``show_ids``, or a theater's
    shows starting on local dates ``date_from``–``date_to`` (``date_to`` defaults to
    ``date_from``). ``dry_run`` counts the audience and sends nothing."""

    message: str
    subject: str | None = None
    show_ids: list[UUID] = []
    theater_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    dry_run: bool = False


class AnnouncedShow(msgspec.Struct, kw_only=True):
    show_id: UUID
    theater_name: str
    screen_name: str
    title: str
    starts_at: datetime
    starts_local: str
    bookings: int  # bookings still holding seats
    customers: int  # distinct people those bookings reach
    unreachable: int  # walk-up sales with no e-mail or phone to reach


class AnnouncementOut(msgspec.Struct, kw_only=True):
    subject: str
    message: str
    dry_run: bool
    applied: bool
    shows: list[AnnouncedShow]
    bookings: int
    customers: int  # distinct people across all the shows
    unreachable: int
    events: int  # outbox events written: one per show with someone to tell
