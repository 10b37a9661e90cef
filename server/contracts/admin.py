"""Admin API bodies: theaters, screens, layouts, movies, bulk schedules, prices, seat repairs.

Money that people type comes in one of two explicit spellings:

* ``prices`` (and rule ``bounds``): seat type -> a decimal string in MAJOR units ("250.00"),
  converted by the server with the currency's exponent (INR has 2 decimals, JPY none);
* ``prices_minor``: seat type -> an integer in minor units (25000), as stored.

Every answer carries minor units. Local times ("2026-11-21 18:30") are wall-clock times in
the theater's own timezone (its city's); dates ("2026-11-21") are local dates there too.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from server.contracts.api import MovieOut, ScreenOut, TheaterOut

# -- theaters -------------------------------------------------------------------------------


class CancellationTier(msgspec.Struct, kw_only=True):
    """Cancelling at least ``min_hours_before`` the show refunds ``refund_percent`` of the
    ticket price."""

    min_hours_before: int
    refund_percent: int


class CancellationPolicy(msgspec.Struct, kw_only=True):
    tiers: list[CancellationTier]
    convenience_fee_refundable: bool = False


class TheaterCreate(msgspec.Struct, kw_only=True):
    name: str
    city: str  # the city's name or id
    address: str
    latitude: float
    longitude: float
    facilities: list[str] = []
    hold_minutes: int = 10
    cleaning_minutes: int = 15
    convenience_fee_minor: int = 0
    accessible_release_minutes: int = 60
    cancellation_policy: CancellationPolicy | None = None


class TheaterUpdate(msgspec.Struct, kw_only=True):
    """Only the fields given change. Cleaning and hold minutes apply to shows scheduled and
    holds placed afterwards."""

    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    facilities: list[str] | None = None
    hold_minutes: int | None = None
    cleaning_minutes: int | None = None
    convenience_fee_minor: int | None = None
    accessible_release_minutes: int | None = None
    cancellation_policy: CancellationPolicy | None = None


class ScreenAdminOut(ScreenOut, kw_only=True):
    screen_side: str
    width: int
    height: int
    seats_by_type: dict[str, int]
    seats_retired: int


class TheaterAdminOut(TheaterOut, kw_only=True):
    accessible_release_minutes: int
    timezone: str
    currency: str
    screens: list[ScreenAdminOut] = []


# -- screens and layouts --------------------------------------------------------------------


class ScreenCreate(msgspec.Struct, kw_only=True):
    theater_id: UUID
    name: str
    formats: list[str]
    layout: str  # the .layout file's text (docs/layouts.md)
    source: str = "layout"  # the file name, used in file:line:column problems


class ScreenUpdate(msgspec.Struct, kw_only=True):
    name: str | None = None
    formats: list[str] | None = None


class ScreenLayoutOut(msgspec.Struct, kw_only=True):
    screen_id: UUID
    theater_id: UUID
    name: str
    layout_name: str
    source: str  # the layout text as last imported


class LayoutImport(msgspec.Struct, kw_only=True):
    layout: str
    source: str = "layout"
    dry_run: bool = False
    # Prices (major units) for seat types the new layout brings to future shows.
    prices: dict[str, str] = {}


class LayoutConflict(msgspec.Struct, kw_only=True):
    """A future show with sold or held seats that the new layout would remove."""

    show_id: UUID
    title: str
    starts_local: str
    seats: list[str]  # "A5 booked", "A6 held"


class LayoutImportOut(msgspec.Struct, kw_only=True):
    screen_id: UUID
    layout_name: str
    applied: bool
    seats_total: int
    added: list[str]  # new seat labels
    restored: list[str]  # labels retired earlier and back in this layout
    retired: list[str]  # labels no longer in the layout (kept for history)
    changed: list[str]  # labels whose type or position changed
    future_shows: int  # shows whose inventory follows the new layout
    prices_added: dict[str, int] = {}
    conflicts: list[LayoutConflict] = []


# -- movies ---------------------------------------------------------------------------------


class MovieCreate(msgspec.Struct, kw_only=True):
    title: str
    languages: list[str]
    duration_minutes: int
    certification: str
    release_date: date
    genres: list[str] = []
    synopsis: str = ""
    cast: list[dict[str, str]] = []
    crew: list[dict[str, str]] = []
    poster_url: str | None = None
    trailer_url: str | None = None


class MovieUpdate(msgspec.Struct, kw_only=True):
    title: str | None = None
    languages: list[str] | None = None
    duration_minutes: int | None = None
    certification: str | None = None
    release_date: date | None = None
    genres: list[str] | None = None
    synopsis: str | None = None
    cast: list[dict[str, str]] | None = None
    crew: list[dict[str, str]] | None = None
    poster_url: str | None = None
    trailer_url: str | None = None


class MovieRow(MovieCreate, kw_only=True):
    row: int | None = None  # the row number in the uploaded file, for the report


class MovieImport(msgspec.Struct, kw_only=True):
    """Create movies; a row with the title and release date of an existing movie updates it."""

    movies: list[MovieRow]
    dry_run: bool = False


class RowProblem(msgspec.Struct, kw_only=True):
    row: int
    column: str
    reason: str


class MovieImportOut(msgspec.Struct, kw_only=True):
    rows: int
    applied: bool
    created: int
    updated: int
    problems: list[RowProblem] = []
    movies: list[MovieOut] = []


# -- schedules ------------------------------------------------------------------------------


class ScheduleRow(msgspec.Struct, kw_only=True):
    """One show to create. Text as it stands in the file: the server checks every field."""

    row: int | None = None  # the row number in the uploaded file, for the report
    movie: str  # id or exact title
    theater: str  # id or name
    screen: str  # id or name within the theater
    starts_at: str  # local wall time in the theater's timezone, "YYYY-MM-DD HH:MM"
    language: str
    format: str
    prices: dict[str, str] = {}  # seat type -> decimal major units
    prices_minor: dict[str, int] = {}  # seat type -> integer minor units
    sale_opens_at: str | None = None  # local wall time, before starts_at


class ScheduleUpload(msgspec.Struct, kw_only=True):
    """All or nothing by default; ``continue_on_error`` writes the rows without problems."""

    rows: list[ScheduleRow]
    dry_run: bool = False
    continue_on_error: bool = False


class CreatedShow(msgspec.Struct, kw_only=True):
    row: int
    show_id: UUID
    starts_at: datetime


class ScheduleUploadOut(msgspec.Struct, kw_only=True):
    rows: int
    valid: int  # rows without problems
    created: int
    dry_run: bool
    applied: bool  # whether anything was written
    problems: list[RowProblem] = []
    shows: list[CreatedShow] = []


class AdminShowOut(msgspec.Struct, kw_only=True):
    show_id: UUID
    movie_id: UUID
    title: str
    theater_id: UUID
    theater_name: str
    screen_id: UUID
    screen_name: str
    starts_at: datetime
    starts_local: str
    ends_at: datetime
    status: str
    language: str
    format: str
    currency: str
    prices: dict[str, int]
    seats_total: int
    seats_available: int
    seats_held: int
    seats_booked: int
    seats_unavailable: int


# -- prices ---------------------------------------------------------------------------------


class PriceChange(msgspec.Struct, kw_only=True):
    """New base prices for future, non-cancelled shows picked by show ids, screen, theater
    and/or a local date range. Held and booked seats keep the price they were sold at."""

    show_ids: list[UUID] = []
    theater_id: UUID | None = None
    screen_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    prices: dict[str, str] = {}
    prices_minor: dict[str, int] = {}
    dry_run: bool = False


class ShowPriceChange(msgspec.Struct, kw_only=True):
    show_id: UUID
    title: str
    screen_name: str
    starts_local: str
    before: dict[str, int]
    after: dict[str, int]


class PriceChangeOut(msgspec.Struct, kw_only=True):
    dry_run: bool
    applied: bool
    shows_matched: int
    shows_changed: int
    changes: list[ShowPriceChange] = []


class RuleCondition(msgspec.Struct, kw_only=True, omit_defaults=True):
    """When a dynamic-pricing rule applies; ``kind`` says which fields count:

    * ``occupancy``: min_percent <= seats sold or held (percent) < max_percent (optional);
    * ``weekday``: the show starts on one of ``days`` ("mon" … "sun"), local time;
    * ``time_of_day``: the show starts at or after ``from`` and before ``to`` ("HH:MM",
      local; ``to`` before ``from`` wraps past midnight);
    * ``days_before``: min_days <= whole days until the show <= max_days (optional).
    """

    kind: str
    min_percent: int | None = None
    max_percent: int | None = None
    days: list[str] | None = None
    from_time: str | None = msgspec.field(default=None, name="from")
    to_time: str | None = msgspec.field(default=None, name="to")
    min_days: int | None = None
    max_days: int | None = None


class PriceBoundIn(msgspec.Struct, kw_only=True):
    floor: str | None = None  # decimal major units
    ceiling: str | None = None


class PriceBoundOut(msgspec.Struct, kw_only=True):
    floor_minor: int | None = None
    ceiling_minor: int | None = None


class PriceRuleCreate(msgspec.Struct, kw_only=True):
    theater_id: UUID
    name: str
    condition: RuleCondition
    adjust_percent: int
    screen_id: UUID | None = None
    seat_types: list[str] | None = None  # None: every seat type
    bounds: dict[str, PriceBoundIn] = {}
    priority: int = 100


class PriceRuleOut(msgspec.Struct, kw_only=True):
    rule_id: UUID
    theater_id: UUID
    screen_id: UUID | None
    name: str
    condition: RuleCondition
    adjust_percent: int
    seat_types: list[str] | None
    bounds: dict[str, PriceBoundOut]
    priority: int
    active: bool
    created_at: datetime


class ShowPricesOut(msgspec.Struct, kw_only=True):
    """A show's base prices (shows.prices) beside what its dynamic-pricing rules make of
    them right now."""

    show_id: UUID
    currency: str
    occupancy_percent: int
    base: dict[str, int]
    effective: dict[str, int]
    rules_applied: list[str]


# -- seat repairs ---------------------------------------------------------------------------


class SeatRepair(msgspec.Struct, kw_only=True):
    """Seats of one screen, across its future shows: all of them, the ``show_ids`` given, or
    those on local dates ``date_from`` … ``date_to``."""

    screen_id: UUID
    seats: list[str]  # seat labels, e.g. ["A5", "A6"]
    show_ids: list[UUID] = []
    date_from: date | None = None
    date_to: date | None = None
    reason: str = "repair"
    move_customers: bool = False


class SeatMove(msgspec.Struct, kw_only=True):
    booking_id: UUID
    booking_code: str
    from_seat: str
    to_seat: str


class SeatRefusal(msgspec.Struct, kw_only=True):
    seat: str
    reason: str


class ShowRepairOut(msgspec.Struct, kw_only=True):
    show_id: UUID
    title: str
    starts_local: str
    changed: list[str] = []
    unchanged: list[str] = []  # already in the wanted state
    refused: list[SeatRefusal] = []
    moved: list[SeatMove] = []


class SeatRepairOut(msgspec.Struct, kw_only=True):
    action: str  # "block" or "unblock"
    changed: int
    refused: int
    moved: int
    shows: list[ShowRepairOut] = []
