"""The cancellation policy and the refund arithmetic, on plain data: no database, no clock, no
I/O, so every rule is unit-tested (docs/cancellation.md says the same in prose).

* **Tiers.** Cancelling at least ``min_hours_before`` hours before the show refunds
  ``refund_percent`` of the ticket price; the first tier (most hours first) that the time left
  reaches applies, none means 0 %. Defaults: 24 h → 100 %, 6 h → 50 %, less → 0 %.
* **A seat's refund** = (price − its coupon share) × percent + its tax share + its
  convenience fee (with that fee's tax) when the policy refunds the fee; rounded half-up to
  the minor unit per seat line.
* **Tax** is refunded in proportion to the refunded amount: tax × refunded (price or fee) /
  (all seats + all fees), the base the tax was computed on.
* **Coupon discount** is shared over the seats the coupon covered, by price; a seat's share
  was never paid, so it is never refunded.
* **Snacks** come back at the same percentage with the booking's last seat.
* **Loyalty points** are a way of paying: the refund value is split between points and money
  in the proportion the booking was paid (points returned, the rest money). Points earned
  follow the money kept: after a cancellation the booking keeps 1 point per full 100 minor
  units still paid; the rest is reversed. Reversed points already spent are charged against
  the money refunded (1 point = 1 minor unit); whatever the refund cannot cover is forgiven,
  and the balance never goes below zero.
* **Never more than was paid:** the money refunded over all cancellations of a booking never
  exceeds its total, nor the points returned the points redeemed.
* **A full refund** (a cancelled show) gives back everything not yet given back: total −
  refunded in money, redeemed − returned in points, and reverses every earned point without
  charging any shortfall.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from fractions import Fraction
from typing import Any

from server.domain.pricing.services import (
    MINOR_UNITS_PER_POINT_EARNED,
    apportion,
    round_half_up,
)

ROUNDING_RULE = (
    "Each seat's refund is computed exactly and rounded half-up to the minor unit; tax is "
    "refunded in proportion to the refunded amount; the coupon discount is shared over the "
    "seats it covered."
)


@dataclass(frozen=True, slots=True)
class Tier:
    min_hours_before: int
    refund_percent: int


@dataclass(frozen=True, slots=True)
class Policy:
    tiers: tuple[Tier, ...]  # most hours first
    convenience_fee_refundable: bool = False

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Policy:
        """The stored form, ``theaters.cancellation_policy``."""
        tiers = sorted(
            (Tier(int(t["min_hours_before"]), int(t["refund_percent"])) for t in document["tiers"]),
            key=lambda tier: -tier.min_hours_before,
        )
        return cls(tuple(tiers), bool(document.get("convenience_fee_refundable", False)))

    def tier_for(self, time_left: timedelta) -> Tier | None:
        for tier in self.tiers:
            if time_left >= timedelta(hours=tier.min_hours_before):
                return tier
        return None

    def refund_percent(self, time_left: timedelta) -> int:
        tier = self.tier_for(time_left)
        return tier.refund_percent if tier else 0


@dataclass(frozen=True, slots=True)
class SeatCharge:
    seat_id: uuid.UUID
    label: str
    seat_type: str
    price_minor: int
    active: bool = True


@dataclass(frozen=True, slots=True)
class Charged:
    """What a booking charged (its stored amounts) and what has gone back so far."""

    seats: tuple[SeatCharge, ...]  # every seat it was sold with, cancelled ones too
    convenience_fee_minor: int
    tax_minor: int
    total_minor: int
    discount_minor: int = 0
    loyalty_minor: int = 0
    snacks_minor: int = 0
    refunded_minor: int = 0
    coupon_seat_types: frozenset[str] | None = None
    points_earned: int = 0
    points_returned: int = 0  # redeemed points given back by earlier cancellations
    points_reversed: int = 0  # earned points taken back by earlier cancellations

    @property
    def seats_minor(self) -> int:
        return sum(seat.price_minor for seat in self.seats)

    @property
    def paid_minor(self) -> int:
        """Money plus points: everything the customer gave for the booking."""
        return self.total_minor + self.loyalty_minor

    def covered(self, seat: SeatCharge) -> bool:
        return self.coupon_seat_types is None or seat.seat_type in self.coupon_seat_types


@dataclass(frozen=True, slots=True)
class Terms:
    refund_percent: int
    fee_refundable: bool


@dataclass(frozen=True, slots=True)
class SeatRefund:
    seat: SeatCharge
    refund_percent: int
    discount_share_minor: int
    fee_kept_minor: int
    refund_minor: int


@dataclass(frozen=True, slots=True)
class RefundPlan:
    seats: tuple[SeatRefund, ...]
    refund_percent: int
    snacks_refund_minor: int
    value_minor: int  # seat lines + snacks
    points_returned: int
    money_minor: int  # after the shortfall deduction
    points_reversed: int
    # Reversed points the balance could not cover: charged against the money (deducted),
    # the rest forgiven. The ledger books the whole shortfall back so the balance ends >= 0.
    points_shortfall: int
    shortfall_deducted_minor: int
    whole_booking: bool

    @property
    def fee_kept_minor(self) -> int:
        return sum(line.fee_kept_minor for line in self.seats)

    @property
    def seat_ids(self) -> list[uuid.UUID]:
        return [line.seat.seat_id for line in self.seats]

    @property
    def points_change(self) -> int:
        """How the customer's points balance moves."""
        return self.points_returned - self.points_reversed + self.points_shortfall


def exact(value: Fraction) -> int:
    """A non-negative exact amount rounded half-up to the minor unit."""
    return round_half_up(value.numerator, value.denominator)


def _discount_shares(charged: Charged) -> dict[uuid.UUID, int]:
    """The coupon discount split over the seats it covers by price, in whole minor units that
    add up to the discount: per-seat rounding would give back a paisa never paid, or keep
    one, on a whole cancellation. Every seat sold counts, cancelled ones too, so a seat's
    share never changes between partial cancellations."""
    weights = [seat.price_minor if charged.covered(seat) else 0 for seat in charged.seats]
    shares = apportion(charged.discount_minor, weights)
    return {seat.seat_id: share for seat, share in zip(charged.seats, shares, strict=True)}


def _seat_refund(charged: Charged, seat: SeatCharge, terms: Terms, discount: int) -> SeatRefund:
    rate = Fraction(terms.refund_percent, 100)
    fee = Fraction(charged.convenience_fee_minor, len(charged.seats))
    fee_back = fee if terms.fee_refundable else Fraction(0)
    taxable = charged.seats_minor + charged.convenience_fee_minor
    tax_back = (
        charged.tax_minor * (seat.price_minor * rate + fee_back) / taxable
        if taxable
        else Fraction(0)
    )
    value = (seat.price_minor - discount) * rate + fee_back + tax_back
    return SeatRefund(
        seat=seat,
        refund_percent=terms.refund_percent,
        discount_share_minor=discount,
        fee_kept_minor=exact(fee - fee_back),
        refund_minor=exact(value),
    )


def plan_refund(
    charged: Charged,
    seat_ids: Collection[uuid.UUID],
    terms: Terms,
    points_balance: int,
    *,
    deduct_shortfall: bool = True,
) -> RefundPlan:
    """The refund for cancelling ``seat_ids`` (active seats of the booking) under ``terms``."""
    plan = _priced(charged, seat_ids, terms)
    return _reverse_points(charged, plan, points_balance, deduct_shortfall=deduct_shortfall)


def plan_full_refund(charged: Charged, points_balance: int) -> RefundPlan:
    """Everything not yet given back (a show the theater cancelled): every active seat at
    100 % with its fee, and the remainders of money and points, so nothing is kept."""
    active = [seat.seat_id for seat in charged.seats if seat.active]
    money = charged.total_minor - charged.refunded_minor
    points = charged.loyalty_minor - charged.points_returned
    plan = replace(
        _priced(charged, active, Terms(100, fee_refundable=True)),
        money_minor=money,
        points_returned=points,
        value_minor=money + points,
    )
    return _reverse_points(charged, plan, points_balance, deduct_shortfall=False)


def _priced(charged: Charged, seat_ids: Collection[uuid.UUID], terms: Terms) -> RefundPlan:
    chosen = [seat for seat in charged.seats if seat.seat_id in seat_ids]
    shares = _discount_shares(charged)
    lines = tuple(_seat_refund(charged, seat, terms, shares[seat.seat_id]) for seat in chosen)
    whole = not any(seat.active and seat.seat_id not in seat_ids for seat in charged.seats)
    snacks = exact(charged.snacks_minor * Fraction(terms.refund_percent, 100)) if whole else 0
    value = sum(line.refund_minor for line in lines) + snacks
    points = 0
    if charged.paid_minor:
        points = round_half_up(value * charged.loyalty_minor, charged.paid_minor)
    points = min(points, charged.loyalty_minor - charged.points_returned)
    return RefundPlan(
        seats=lines,
        refund_percent=terms.refund_percent,
        snacks_refund_minor=snacks,
        value_minor=value,
        points_returned=points,
        money_minor=min(value - points, charged.total_minor - charged.refunded_minor),
        points_reversed=0,
        points_shortfall=0,
        shortfall_deducted_minor=0,
        whole_booking=whole,
    )


def _reverse_points(
    charged: Charged, plan: RefundPlan, points_balance: int, *, deduct_shortfall: bool
) -> RefundPlan:
    """Take back the earned points the booking no longer keeps (1 per full 100 minor units
    still paid), never below a zero balance."""
    refunded_after = charged.refunded_minor + plan.money_minor
    keeps = min(
        charged.points_earned,
        (charged.total_minor - refunded_after) // MINOR_UNITS_PER_POINT_EARNED,
    )
    reversed_now = max(0, charged.points_earned - charged.points_reversed - keeps)
    shortfall = max(0, reversed_now - points_balance - plan.points_returned)
    deducted = min(shortfall, plan.money_minor) if deduct_shortfall else 0
    return replace(
        plan,
        points_reversed=reversed_now,
        points_shortfall=shortfall,
        shortfall_deducted_minor=deducted,
        money_minor=plan.money_minor - deducted,
    )


@dataclass(frozen=True, slots=True)
class Refundable:
    """A captured payment and how much of it may still be refunded."""

    payment_id: uuid.UUID
    amount_minor: int
    left_minor: int


def allocate(money_minor: int, payments: Sequence[Refundable]) -> tuple[dict[uuid.UUID, int], int]:
    """Split a refund over the original payments, largest first, each at most what is left
    of it. Returns (payment id → amount, the part no payment can take)."""
    shares: dict[uuid.UUID, int] = {}
    left = money_minor
    for payment in sorted(payments, key=lambda p: (-p.amount_minor, str(p.payment_id))):
        share = min(left, payment.left_minor)
        if share > 0:
            shares[payment.payment_id] = share
            left -= share
    return shares, left
