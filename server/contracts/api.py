"""The public API's request and response bodies (msgspec Structs).

Money is always an integer in minor units (``*_minor`` or ``price``) with the currency beside
it; timestamps are timezone-aware ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from server.contracts.checkout import CustomerContact


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details; ``detail`` is a sentence a person can act on."""

    title: str
    status: int
    detail: str
    type: str = "about:blank"


# -- health -------------------------------------------------------------------------------


class Health(msgspec.Struct, kw_only=True):
    status: str
    database: str = "unknown"
    redis: str = "unknown"


# -- accounts -----------------------------------------------------------------------------


class LoginRequest(msgspec.Struct, kw_only=True):
    email: str
    password: str


class GuestRequest(msgspec.Struct, kw_only=True):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class TokenOut(msgspec.Struct, kw_only=True):
    token: str
    user_id: UUID
    role: str
    name: str
    theater_ids: list[UUID] = []
    expires_at: datetime | None = None


class UserOut(msgspec.Struct, kw_only=True):
    user_id: UUID
    name: str
    role: str
    email: str | None = None
    phone: str | None = None
    theater_ids: list[UUID] = []
    wallet_balance_minor: int = 0
    loyalty_points: int = 0


# A genre or language name, as the catalog spells it (matched without regard to case).
TasteName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class Preferences(msgspec.Struct, kw_only=True):
    """What customers like: their recommendations rank movies of these genres and languages
    higher (``GET /api/v1/me/recommendations``)."""

    genres: Annotated[list[TasteName], msgspec.Meta(max_length=20)] = []
    languages: Annotated[list[TasteName], msgspec.Meta(max_length=20)] = []


class UserCreate(msgspec.Struct, kw_only=True):
    name: str
    role: str
    email: str | None = None
    phone: str | None = None
    password: str | None = None
    theater_ids: list[UUID] = []


class ApiTokenCreate(msgspec.Struct, kw_only=True):
    name: str
    kind: str = "api"
    user_id: UUID | None = None
    expires_in_days: int | None = None


class ApiTokenOut(msgspec.Struct, kw_only=True):
    token_id: UUID
    name: str
    kind: str
    prefix: str
    user_id: UUID
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    # Present only in the response that creates the token: it is never shown again.
    token: str | None = None


class PasswordReset(msgspec.Struct, kw_only=True):
    # None: the server generates a password and returns it once.
    password: str | None = None


class PasswordResetOut(msgspec.Struct, kw_only=True):
    user_id: UUID
    sessions_revoked: int
    # Present only when the server generated the password: it is never shown again.
    password: str | None = None


# -- catalog ------------------------------------------------------------------------------


class CityOut(msgspec.Struct, kw_only=True):
    city_id: UUID
    name: str
    country: str
    timezone: str
    currency: str
    tax_rate_bp: int


class TheaterOut(msgspec.Struct, kw_only=True):
    theater_id: UUID
    name: str
    city_id: UUID
    city: str
    address: str
    latitude: float
    longitude: float
    facilities: list[str]
    hold_minutes: int
    cleaning_minutes: int
    convenience_fee_minor: int
    cancellation_policy: dict
    distance_km: float | None = None


class ScreenOut(msgspec.Struct, kw_only=True):
    screen_id: UUID
    theater_id: UUID
    name: str
    formats: list[str]
    layout_name: str
    seats_total: int


class MovieOut(msgspec.Struct, kw_only=True):
    movie_id: UUID
    title: str
    genres: list[str]
    languages: list[str]
    duration_minutes: int
    certification: str
    release_date: date
    synopsis: str = ""
    cast: list[dict] = []
    crew: list[dict] = []
    poster_url: str | None = None
    trailer_url: str | None = None
    rating: float | None = None
    rating_count: int = 0


class ShowOut(msgspec.Struct, kw_only=True):
    show_id: UUID
    movie_id: UUID
    title: str
    theater_id: UUID
    theater_name: str
    screen_id: UUID
    screen_name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    language: str
    format: str
    seats_total: int
    seats_available: int
    prices: dict[str, int]
    currency: str


# -- inventory ----------------------------------------------------------------------------


class SeatOut(msgspec.Struct, kw_only=True):
    seat_id: UUID
    label: str
    row: str
    number: int
    type: str
    status: str
    price: int
    accessible: bool
    x: int
    y: int
    section: str
    pair: str | None = None
    version: int = 0


class SeatMapOut(msgspec.Struct, kw_only=True):
    show_id: UUID
    sequence: int
    hold_minutes: int
    currency: str
    screen_side: str
    width: int
    height: int
    prices: dict[str, int]
    seats: list[SeatOut]
    # The most seats one hold (and one best-available suggestion) takes.
    max_seats_per_hold: int = 10


class HoldRequest(msgspec.Struct, kw_only=True):
    seat_ids: list[UUID]
    accessible: bool = False


class HoldOut(msgspec.Struct, kw_only=True):
    hold_id: UUID
    show_id: UUID
    seat_ids: list[UUID]
    expires_at: datetime
    status: str = "ACTIVE"
    kind: str = "standard"
    name: str | None = None


class GroupHoldRequest(msgspec.Struct, kw_only=True):
    seat_ids: list[UUID]
    name: str
    expires_at: datetime


class BestAvailableOut(msgspec.Struct, kw_only=True):
    show_id: UUID
    seat_ids: list[UUID]
    labels: list[str]


class SeatChange(msgspec.Struct, kw_only=True):
    seat_id: UUID
    status: str
    version: int


class SeatEvent(msgspec.Struct, kw_only=True):
    """One message on a show's live feed."""

    show_id: UUID
    sequence: int
    seats: list[SeatChange]


class SeatStatusChange(msgspec.Struct, kw_only=True):
    """Take seats out of sale (repairs) or put them back."""

    seat_ids: list[UUID]
    status: str
    reason: str = ""


class AdmissionOut(msgspec.Struct, kw_only=True):
    """The waiting room's answer: admitted (with a pass to send along) or a place in line."""

    show_id: UUID
    admitted: bool
    position: int | None = None
    estimated_wait_seconds: int | None = None
    admission_token: str | None = None


# -- waiting list -------------------------------------------------------------------------


class WaitlistJoin(msgspec.Struct, kw_only=True):
    seats_wanted: int
    seat_type: str | None = None
    # Box-office staff (``COUNTER_STAFF_ROLES``) must say whom they queue; customers leave it
    # out and queue themselves. The server finds the customer by e-mail or phone, or keeps
    # them as a guest customer, and the offer is sent there.
    customer: CustomerContact | None = None


class WaitlistEntryOut(msgspec.Struct, kw_only=True):
    entry_id: UUID
    show_id: UUID
    seats_wanted: int
    seat_type: str | None
    status: str
    position: int | None = None
    hold_id: UUID | None = None
    offer_expires_at: datetime | None = None
    # Whose entry it is and the show it is for, so staff can tell entries apart.
    customer: CustomerContact | None = None
    movie_title: str | None = None
    theater_name: str | None = None
    starts_at: datetime | None = None
