"""Pricing arithmetic on plain data: rounding, coupons, points, and (Hypothesis) that the
parts always add up to the total and nothing is ever negative."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.pricing.services import (
    CouponTerms,
    CouponUse,
    Order,
    SeatPrice,
    SnackPrice,
    coupon_discount,
    coupon_refusal,
    format_minor,
    price,
    round_half_up,
    tax_on,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SEAT_TYPES = ("regular", "premium", "recliner")


def seat(price_minor: int, seat_type: str = "regular") -> SeatPrice:
    return SeatPrice(uuid.uuid4(), "A1", seat_type, price_minor)


def coupon(**terms: object) -> CouponTerms:
    values: dict[str, object] = {
        "coupon_id": uuid.uuid4(),
        "code": "SAVE",
        "kind": "percent",
        "value": 10,
        "min_amount_minor": 0,
        "max_discount_minor": None,
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=1),
        "total_limit": None,
        "per_user_limit": None,
        "used_count": 0,
        "movie_ids": None,
        "theater_ids": None,
        "seat_types": None,
    }
    return CouponTerms(**(values | terms))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (0, 7, 0), (14, 10, 1)],
)
def test_round_half_up(numerator: int, denominator: int, rounded: int) -> None:
    assert round_half_up(numerator, denominator) == rounded


def test_tax_is_computed_once_on_seats_and_fee() -> None:
    breakdown = price(
        Order(seats=[seat(25000), seat(25000)], fee_per_seat_minor=3000, tax_rate_bp=1800)
    )
    assert (breakdown.seats_minor, breakdown.convenience_fee_minor) == (50000, 6000)
    assert breakdown.tax_minor == 10080 == tax_on(56000, 1800)
    assert breakdown.total_minor == 66080
    # Half a minor unit rounds up; just under half rounds down.
    assert tax_on(1, 5000) == 1 and tax_on(1, 4999) == 0


def test_coupons_cover_their_seat_types_and_respect_their_cap() -> None:
    seats = [seat(40000, "premium"), seat(25000)]
    assert coupon_discount(coupon(kind="percent", value=10), seats) == 6500
    assert coupon_discount(coupon(kind="percent", value=10, max_discount_minor=5000), seats) == 5000
    assert (
        coupon_discount(coupon(kind="flat", value=10000, seat_types=frozenset({"premium"})), seats)
        == 10000
    )
    # A flat coupon never takes more than the seats it covers.
    assert (
        coupon_discount(coupon(kind="flat", value=99999, seat_types=frozenset({"regular"})), seats)
        == 25000
    )


def test_points_are_capped_at_what_is_left_to_pay() -> None:
    breakdown = price(
        Order(seats=[seat(1000)], fee_per_seat_minor=0, tax_rate_bp=0, loyalty_points=5000)
    )
    assert (breakdown.loyalty_minor, breakdown.total_minor, breakdown.points_earned) == (1000, 0, 0)


def test_points_earned_per_full_hundred_paid() -> None:
    breakdown = price(Order(seats=[seat(19999)], fee_per_seat_minor=0, tax_rate_bp=0))
    assert breakdown.points_earned == 199


@pytest.mark.parametrize(
    ("terms", "use", "phrase"),
    [
        ({"valid_until": NOW}, {}, "expired"),
        ({"valid_from": NOW + timedelta(seconds=1)}, {}, "valid from"),
        ({"total_limit": 3, "used_count": 3}, {}, "used up"),
        ({"per_user_limit": 1}, {"redemptions_by_user": 1}, "already used"),
        ({"movie_ids": frozenset({"other"})}, {}, "this movie"),
        ({"theater_ids": frozenset({"other"})}, {}, "this theater"),
        ({"seat_types": frozenset({"recliner"})}, {}, "only to recliner seats"),
        ({"min_amount_minor": 30000}, {}, "at least 300.00 INR"),
    ],
)
def test_coupon_refusals(terms: dict, use: dict, phrase: str) -> None:
    where = CouponUse(
        now=NOW, movie_id=uuid.uuid4(), theater_id=uuid.uuid4(), redemptions_by_user=0
    )
    if use:
        where = CouponUse(now=NOW, movie_id=where.movie_id, theater_id=where.theater_id, **use)
    refusal = coupon_refusal(coupon(**terms), where, [seat(25000)], "INR")
    assert refusal is not None and phrase in refusal


def test_a_valid_coupon_is_not_refused() -> None:
    where = CouponUse(
        now=NOW, movie_id=uuid.uuid4(), theater_id=uuid.uuid4(), redemptions_by_user=0
    )
    assert (
        coupon_refusal(coupon(per_user_limit=2, total_limit=9), where, [seat(25000)], "INR") is None
    )


def test_format_minor() -> None:
    assert format_minor(125050, "INR") == "1250.50 INR"
    assert format_minor(5, "EUR") == "0.05 EUR"
    assert format_minor(-250, "INR") == "-2.50 INR"


seats_strategy = st.lists(
    st.builds(seat, st.integers(0, 200_000), st.sampled_from(SEAT_TYPES)), min_size=1, max_size=10
)
snacks_strategy = st.lists(
    st.builds(
        SnackPrice,
        st.uuids(),
        st.just("snack"),
        st.integers(0, 50_000),
        st.integers(1, 20),
    ),
    max_size=4,
)
coupons_strategy = st.one_of(
    st.none(),
    st.builds(
        coupon,
        kind=st.sampled_from(["percent", "flat"]),
        value=st.integers(1, 100),
        max_discount_minor=st.one_of(st.none(), st.integers(0, 100_000)),
        seat_types=st.one_of(st.none(), st.frozensets(st.sampled_from(SEAT_TYPES), min_size=1)),
    ),
    st.builds(coupon, kind=st.just("flat"), value=st.integers(1, 5_000_000)),
)


@given(
    seats=seats_strategy,
    fee=st.integers(0, 10_000),
    rate=st.integers(0, 10_000),
    snacks=snacks_strategy,
    offer=coupons_strategy,
    points=st.integers(0, 5_000_000),
)
def test_the_parts_always_add_up_and_are_never_negative(
    seats: list[SeatPrice],
    fee: int,
    rate: int,
    snacks: list[SnackPrice],
    offer: CouponTerms | None,
    points: int,
) -> None:
    breakdown = price(
        Order(
            seats=seats,
            fee_per_seat_minor=fee,
            tax_rate_bp=rate,
            snacks=snacks,
            coupon=offer,
            loyalty_points=points,
        )
    )
    parts = (
        breakdown.seats_minor,
        breakdown.convenience_fee_minor,
        breakdown.tax_minor,
        breakdown.snacks_minor,
        breakdown.discount_minor,
        breakdown.loyalty_minor,
        breakdown.total_minor,
        breakdown.points_earned,
    )
    assert all(part >= 0 for part in parts)
    assert breakdown.total_minor == (
        breakdown.seats_minor
        + breakdown.convenience_fee_minor
        + breakdown.tax_minor
        + breakdown.snacks_minor
        - breakdown.discount_minor
        - breakdown.loyalty_minor
    )
    assert breakdown.loyalty_minor <= points
    assert breakdown.discount_minor <= breakdown.seats_minor
    assert breakdown.points_earned == breakdown.total_minor // 100
