"""Price arithmetic on plain data: no database, no clock, no I/O, so every rule is unit-tested.

The rules (docs/checkout.md repeats them):

* Seats are charged at the price frozen on the hold (``hold_seats.price_minor``).
* The convenience fee is the theater's fee per seat.
* Tax is the city's rate (basis points) on seats + fee, computed once on that subtotal and
  rounded half-up to the minor unit. Snack menu prices already include their tax.
* A coupon is a discount on the ticket price of the seats it covers (its seat types, or all),
  percent coupons rounded half-up, then capped by the coupon's maximum and by those seats'
  price. Coupons and points reduce what is paid, not the taxable amount (like vouchers).
* Loyalty points: 1 point = 1 minor unit off, capped at what is left to pay. Every full 100
  minor units paid earn 1 point.
* total = seats + fee + tax + snacks - discount - loyalty, never negative.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

BASIS_POINTS = 10_000
MINOR_UNITS_PER_POINT_EARNED = 100
ROUNDING_RULE = (
    "Tax is computed once on seats + convenience fee and rounded half-up to the minor unit; "
    "percent coupons are rounded half-up too."
)


@dataclass(frozen=True, slots=True)
class SeatPrice:
    seat_id: uuid.UUID
    label: str
    seat_type: str
    price_minor: int


@dataclass(frozen=True, slots=True)
class SnackPrice:
    item_id: uuid.UUID
    name: str
    unit_price_minor: int
    quantity: int

    @property
    def amount_minor(self) -> int:
        return self.unit_price_minor * self.quantity


@dataclass(frozen=True, slots=True)
class CouponTerms:
    coupon_id: uuid.UUID
    code: str
    kind: str  # "percent" or "flat"
    value: int  # percent 1-100, or minor units
    min_amount_minor: int
    max_discount_minor: int | None
    valid_from: datetime
    valid_until: datetime
    total_limit: int | None
    per_user_limit: int | None
    used_count: int
    movie_ids: frozenset[str] | None
    theater_ids: frozenset[str] | None
    seat_types: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class CouponUse:
    """Where and by whom a coupon is being used."""

    now: datetime
    movie_id: uuid.UUID
    theater_id: uuid.UUID
    redemptions_by_user: int


@dataclass(frozen=True, slots=True)
class Order:
    seats: Sequence[SeatPrice]
    fee_per_seat_minor: int
    tax_rate_bp: int
    snacks: Sequence[SnackPrice] = ()
    coupon: CouponTerms | None = None
    loyalty_points: int = 0


@dataclass(frozen=True, slots=True)
class Breakdown:
    seats_minor: int
    convenience_fee_minor: int
    tax_minor: int
    snacks_minor: int
    discount_minor: int
    loyalty_minor: int
    total_minor: int
    points_earned: int

    @property
    def points_redeemed(self) -> int:
        return self.loyalty_minor


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for non-negative integers (exact, no floats)."""
    return (2 * numerator + denominator) // (2 * denominator)


def apportion(total_minor: int, weights: Sequence[int]) -> list[int]:
    """A non-negative ``total_minor`` split in proportion to ``weights`` into whole minor units
    that add up to it exactly: each part rounded down, the units left over going to the
    largest remainders, ties to the earlier weight (so the same inputs always split alike)."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    parts = [total_minor * weight // whole for weight in weights]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (-(total_minor * weights[i] % whole), i)
    )
    for index in by_remainder[: total_minor - sum(parts)]:
        parts[index] += 1
    return parts


def tax_on(amount_minor: int, rate_bp: int) -> int:
    return round_half_up(amount_minor * rate_bp, BASIS_POINTS)


def covered_seats(coupon: CouponTerms, seats: Sequence[SeatPrice]) -> list[SeatPrice]:
    if coupon.seat_types is None:
        return list(seats)
    return [seat for seat in seats if seat.seat_type in coupon.seat_types]


def coupon_discount(coupon: CouponTerms, seats: Sequence[SeatPrice]) -> int:
    base = sum(seat.price_minor for seat in covered_seats(coupon, seats))
    percent = coupon.kind == "percent"
    discount = round_half_up(base * coupon.value, 100) if percent else coupon.value
    if coupon.max_discount_minor is not None:
        discount = min(discount, coupon.max_discount_minor)
    return min(discount, base)


def coupon_refusal(
    coupon: CouponTerms, use: CouponUse, seats: Sequence[SeatPrice], currency: str
) -> str | None:
    """Why this coupon cannot be used for these seats, as a sentence; None when it can."""
    code = coupon.code
    if use.now < coupon.valid_from:
        return f"Coupon {code} is valid from {coupon.valid_from.isoformat()}."
    if use.now >= coupon.valid_until:
        return f"Coupon {code} expired at {coupon.valid_until.isoformat()}."
    if coupon.total_limit is not None and coupon.used_count >= coupon.total_limit:
        return f"Coupon {code} has been used up."
    if coupon.per_user_limit is not None and use.redemptions_by_user >= coupon.per_user_limit:
        return f"You have already used coupon {code} {use.redemptions_by_user} time(s), its limit."
    if coupon.movie_ids is not None and str(use.movie_id) not in coupon.movie_ids:
        return f"Coupon {code} is not valid for this movie."
    if coupon.theater_ids is not None and str(use.theater_id) not in coupon.theater_ids:
        return f"Coupon {code} is not valid at this theater."
    if not covered_seats(coupon, seats):
        kinds = ", ".join(sorted(coupon.seat_types or ()))
        return f"Coupon {code} applies only to {kinds} seats."
    subtotal = sum(seat.price_minor for seat in seats)
    if subtotal < coupon.min_amount_minor:
        return (
            f"Coupon {code} needs tickets worth at least "
            f"{format_minor(coupon.min_amount_minor, currency)}; these come to "
            f"{format_minor(subtotal, currency)}."
        )
    return None


def price(order: Order) -> Breakdown:
    """The one pricing function: the quote and the final charge both come from here."""
    seats = sum(seat.price_minor for seat in order.seats)
    fee = order.fee_per_seat_minor * len(order.seats)
    tax = tax_on(seats + fee, order.tax_rate_bp)
    snacks = sum(snack.amount_minor for snack in order.snacks)
    gross = seats + fee + tax + snacks
    discount = min(coupon_discount(order.coupon, order.seats), gross) if order.coupon else 0
    loyalty = min(max(order.loyalty_points, 0), gross - discount)
    total = gross - discount - loyalty
    return Breakdown(
        seats_minor=seats,
        convenience_fee_minor=fee,
        tax_minor=tax,
        snacks_minor=snacks,
        discount_minor=discount,
        loyalty_minor=loyalty,
        total_minor=total,
        points_earned=total // MINOR_UNITS_PER_POINT_EARNED,
    )


def format_minor(amount_minor: int, currency: str) -> str:
    """``125050, "INR"`` → ``"1250.50 INR"`` (every currency here has two decimals)."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"
