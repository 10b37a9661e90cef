"""The cancellation policy and refund arithmetic on plain data: tier boundaries, tax and coupon
shares, rounding, loyalty points, allocation, and (Hypothesis) that no sequence of partial
cancellations ever refunds more than was paid."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.db.models.catalog import DEFAULT_CANCELLATION_POLICY
from server.domain.cancellation.policy import (
    Charged,
    Policy,
    Refundable,
    RefundPlan,
    SeatCharge,
    Terms,
    allocate,
    plan_full_refund,
    plan_refund,
)
from server.domain.pricing.services import Order, SeatPrice, price

DEFAULT = Policy.from_document(DEFAULT_CANCELLATION_POLICY)
KEEP_FEE = Terms(100, fee_refundable=False)


def seat(label: str, price_minor: int, seat_type: str = "regular") -> SeatCharge:
    return SeatCharge(uuid.uuid4(), label, seat_type, price_minor)


def booking(
    *seats: SeatCharge, fee_per_seat: int = 3000, tax_bp: int = 1800, **extra: object
) -> Charged:
    """A booking priced by checkout's own pricing function."""
    breakdown = price(
        Order(
            seats=[SeatPrice(s.seat_id, s.label, s.seat_type, s.price_minor) for s in seats],
            fee_per_seat_minor=fee_per_seat,
            tax_rate_bp=tax_bp,
        )
    )
    values: dict[str, object] = {
        "seats": seats,
        "convenience_fee_minor": breakdown.convenience_fee_minor,
        "tax_minor": breakdown.tax_minor,
        "total_minor": breakdown.total_minor,
    }
    return Charged(**(values | extra))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("time_left", "percent"),
    [
        (timedelta(hours=24, minutes=1), 100),
        (timedelta(hours=24), 100),  # "at least 24 h" includes the instant itself
        (timedelta(hours=23, minutes=59), 50),
        (timedelta(hours=6, minutes=1), 50),
        (timedelta(hours=6), 50),
        (timedelta(hours=5, minutes=59), 0),
        (timedelta(minutes=1), 0),
        (timedelta(days=30), 100),
    ],
)
def test_default_tiers_at_their_boundaries(time_left: timedelta, percent: int) -> None:
    assert DEFAULT.refund_percent(time_left) == percent


def test_a_policy_without_a_zero_tier_refunds_nothing_below_its_last_tier() -> None:
    policy = Policy.from_document({"tiers": [{"min_hours_before": 48, "refund_percent": 80}]})
    assert policy.refund_percent(timedelta(hours=47)) == 0
    assert policy.tier_for(timedelta(hours=47)) is None


def test_one_seat_of_two_with_its_tax_share_and_the_fee_kept() -> None:
    # 2 × 250.00 + 2 × 30.00 fee = 560.00, 18 % tax = 100.80, total 660.80.
    e7, e8 = seat("E7", 25000), seat("E8", 25000)
    charged = booking(e7, e8)
    assert (charged.tax_minor, charged.total_minor) == (10080, 66080)
    full = plan_refund(charged, {e7.seat_id}, KEEP_FEE, 0)
    # 250.00 + 100.80 × 250/560 = 250.00 + 45.00
    assert [line.refund_minor for line in full.seats] == [29500]
    assert (full.money_minor, full.fee_kept_minor, full.whole_booking) == (29500, 3000, False)
    half = plan_refund(charged, {e7.seat_id}, Terms(50, fee_refundable=False), 0)
    assert half.money_minor == 12500 + 2250
    with_fee = plan_refund(charged, {e7.seat_id}, Terms(100, fee_refundable=True), 0)
    # The fee and its tax too: 30.00 + 100.80 × 30/560 = 35.40.
    assert (with_fee.money_minor, with_fee.fee_kept_minor) == (29500 + 3540, 0)


def test_coupon_discount_is_shared_over_the_seats_it_covered() -> None:
    # Flat 100.00 off premium seats: only G7 was discounted.
    e7, g7 = seat("E7", 25000), seat("G7", 40000, "premium")
    charged = booking(e7, g7, discount_minor=10000, coupon_seat_types=frozenset({"premium"}))
    charged = Charged(**{**_fields(charged), "total_minor": charged.total_minor - 10000})
    premium = plan_refund(charged, {g7.seat_id}, KEEP_FEE, 0).seats[0]
    regular = plan_refund(charged, {e7.seat_id}, KEEP_FEE, 0).seats[0]
    # Tax 18 % of 710.00 = 127.80; G7's share 127.80 × 400/710 = 72.00, E7's 45.00.
    assert (premium.discount_share_minor, premium.refund_minor) == (10000, 30000 + 7200)
    assert (regular.discount_share_minor, regular.refund_minor) == (0, 25000 + 4500)


@pytest.mark.parametrize(
    ("count", "shares", "refund"),
    [(3, [3334, 3333, 3333], 96200), (6, [1667] * 4 + [1666] * 2, 202400)],
)
def test_coupon_shares_add_up_to_the_discount_so_a_full_refund_is_exact(
    count: int, shares: list[int], refund: int
) -> None:
    # FLAT100 on 300.00 seats with a 35.00 fee each (the QA report's bookings): the refund is
    # what was paid less the kept fee and its 18 % tax, 108590 - 10500 - 1890 for three.
    seats = [seat(f"P{n}", 30000) for n in range(count)]
    charged = booking(*seats, fee_per_seat=3500, discount_minor=10000)
    charged = Charged(**{**_fields(charged), "total_minor": charged.total_minor - 10000})
    plan = plan_refund(charged, {s.seat_id for s in seats}, KEEP_FEE, 0)
    assert [line.discount_share_minor for line in plan.seats] == shares  # ties by seat order
    assert plan.money_minor == refund == charged.total_minor - count * (3500 + 630)


def _fields(charged: Charged) -> dict[str, object]:
    return {name: getattr(charged, name) for name in Charged.__dataclass_fields__}


def test_each_seat_line_is_rounded_half_up() -> None:
    odd = seat("A1", 25001)
    charged = booking(odd, fee_per_seat=0, tax_bp=0)
    plan = plan_refund(charged, {odd.seat_id}, Terms(50, fee_refundable=False), 0)
    assert plan.money_minor == 12501  # 125.005 → 125.01


def test_snacks_come_back_with_the_last_seat_only() -> None:
    a, b = seat("A1", 20000), seat("A2", 20000)
    priced = booking(a, b, fee_per_seat=0, tax_bp=0)
    charged = Charged(**{**_fields(priced), "snacks_minor": 5000, "total_minor": 45000})
    first = plan_refund(charged, {a.seat_id}, KEEP_FEE, 0)
    assert (first.snacks_refund_minor, first.money_minor) == (0, 20000)
    after = Charged(
        **{**_fields(charged), "refunded_minor": 20000, "seats": (replace_active(a), b)}
    )
    last = plan_refund(after, {b.seat_id}, Terms(50, fee_refundable=False), 0)
    assert (last.snacks_refund_minor, last.money_minor, last.whole_booking) == (2500, 12500, True)


def replace_active(charge: SeatCharge) -> SeatCharge:
    return SeatCharge(charge.seat_id, charge.label, charge.seat_type, charge.price_minor, False)


def test_points_paid_come_back_as_points_in_proportion() -> None:
    a = seat("A1", 30000)
    priced = booking(a, fee_per_seat=0, tax_bp=0)
    # 300.00 paid as 100.00 in points and 200.00 in money.
    charged = Charged(**{**_fields(priced), "loyalty_minor": 10000, "total_minor": 20000})
    plan = plan_refund(charged, {a.seat_id}, Terms(50, fee_refundable=False), 0)
    assert (plan.value_minor, plan.points_returned, plan.money_minor) == (15000, 5000, 10000)


def test_earned_points_follow_the_money_kept_and_a_spent_shortfall_is_deducted() -> None:
    a, b = seat("A1", 25000), seat("A2", 25000)
    priced = booking(a, b, fee_per_seat=0, tax_bp=0)
    charged = Charged(**{**_fields(priced), "points_earned": 500})
    # The holder still has the points: 250 of the 500 earned go back.
    kept = plan_refund(charged, {a.seat_id}, KEEP_FEE, points_balance=900)
    assert (kept.points_reversed, kept.points_shortfall, kept.money_minor) == (250, 0, 25000)
    assert kept.points_change == -250
    # They spent all but 100: the other 150 points are taken from the refund.
    spent = plan_refund(charged, {a.seat_id}, KEEP_FEE, points_balance=100)
    assert (spent.points_shortfall, spent.shortfall_deducted_minor) == (150, 150)
    assert (spent.money_minor, spent.points_change) == (25000 - 150, -100)
    # A cancelled show never charges the shortfall: it is forgiven.
    show = plan_full_refund(charged, points_balance=0)
    assert (show.money_minor, show.points_reversed, show.shortfall_deducted_minor) == (
        50000,
        500,
        0,
    )
    assert show.points_change == 0


def test_a_full_refund_returns_exactly_what_is_left_whatever_was_kept_before() -> None:
    a, b, c = seat("A1", 25000), seat("A2", 25000), seat("A3", 40000, "premium")
    charged = booking(a, b, c)
    first = plan_refund(charged, {a.seat_id}, Terms(50, fee_refundable=False), 0)
    after = Charged(
        **{
            **_fields(charged),
            "refunded_minor": first.money_minor,
            "seats": (replace_active(a), b, c),
        }
    )
    rest = plan_full_refund(after, 0)
    assert first.money_minor + rest.money_minor == charged.total_minor
    assert rest.seat_ids == [b.seat_id, c.seat_id] and rest.whole_booking


def test_refunds_go_to_the_largest_payment_first() -> None:
    small, large = uuid.uuid4(), uuid.uuid4()
    shares, rest = allocate(
        50000, [Refundable(small, 20000, 20000), Refundable(large, 40000, 35000)]
    )
    assert (shares, rest) == ({large: 35000, small: 15000}, 0)
    assert allocate(1000, []) == ({}, 1000)


@st.composite
def bookings(draw: st.DrawFn) -> Charged:
    count = draw(st.integers(1, 6))
    seats = tuple(
        seat(f"A{i}", draw(st.integers(0, 90000)), draw(st.sampled_from(["regular", "premium"])))
        for i in range(count)
    )
    priced = booking(
        *seats, fee_per_seat=draw(st.integers(0, 5000)), tax_bp=draw(st.integers(0, 2800))
    )
    covers = draw(st.sampled_from([None, frozenset({"premium"})]))
    base = sum(s.price_minor for s in seats if covers is None or s.seat_type in covers)
    discount = draw(st.integers(0, base))
    snacks = draw(st.integers(0, 20000))
    gross = priced.total_minor + snacks - discount
    points = draw(st.integers(0, gross))
    total = gross - points
    return Charged(
        **{
            **_fields(priced),
            "discount_minor": discount,
            "coupon_seat_types": covers,
            "snacks_minor": snacks,
            "loyalty_minor": points,
            "total_minor": total,
            "points_earned": total // 100,
        }
    )


@given(
    charged=bookings(),
    steps=st.lists(st.tuples(st.integers(0, 100), st.booleans(), st.integers(1, 3)), max_size=6),
    balance=st.integers(0, 3000),
    finish=st.booleans(),
)
def test_no_sequence_of_cancellations_refunds_more_than_was_paid(
    charged: Charged,
    steps: list[tuple[int, bool, int]],
    balance: int,
    finish: bool,
) -> None:
    money = points = 0
    for percent, fee_refundable, how_many in steps:
        active = [s.seat_id for s in charged.seats if s.active][:how_many]
        if not active:
            break
        plan = plan_refund(charged, set(active), Terms(percent, fee_refundable), balance)
        assert all(line.refund_minor >= 0 for line in plan.seats)
        assert plan.money_minor >= 0 and plan.points_returned >= 0
        assert balance + plan.points_change >= 0
        money += plan.money_minor
        points += plan.points_returned
        balance += plan.points_change
        charged = _after(charged, plan)
    if finish:
        plan = plan_full_refund(charged, balance)
        money += plan.money_minor
        points += plan.points_returned
        assert (money, points) == (charged.total_minor, charged.loyalty_minor)
        assert balance + plan.points_change >= 0
    assert money <= charged.total_minor and points <= charged.loyalty_minor


def _after(charged: Charged, plan: RefundPlan) -> Charged:
    """The booking as the next cancellation finds it."""
    cancelled = set(plan.seat_ids)
    seats = tuple(replace_active(s) if s.seat_id in cancelled else s for s in charged.seats)
    return Charged(
        **{
            **_fields(charged),
            "seats": seats,
            "refunded_minor": charged.refunded_minor + plan.money_minor,
            "points_returned": charged.points_returned + plan.points_returned,
            "points_reversed": charged.points_reversed + plan.points_reversed,
        }
    )


@given(
    charged=bookings(),
    percent=st.integers(0, 100),
    fee_refundable=st.booleans(),
)
def test_cancelling_everything_at_once_gives_back_at_most_the_percentage(
    charged: Charged, percent: int, fee_refundable: bool
) -> None:
    everything = {s.seat_id for s in charged.seats}
    plan = plan_refund(charged, everything, Terms(percent, fee_refundable), 10**9)
    # Rounding per seat line can add at most half a minor unit per line.
    ceiling = charged.paid_minor * percent / 100 + (
        charged.convenience_fee_minor + charged.tax_minor if fee_refundable else 0
    )
    assert plan.value_minor <= ceiling + len(charged.seats) / 2 + 1
    assert plan.whole_booking


@given(
    hours=st.lists(st.integers(0, 200), min_size=1, max_size=5, unique=True),
    left=st.integers(0, 300 * 60),
    later=st.integers(0, 300 * 60),
)
def test_a_later_cancellation_never_gets_more(hours: list[int], left: int, later: int) -> None:
    ordered = sorted(hours, reverse=True)
    percents = sorted((min(100, 10 * i) for i in range(len(ordered))), reverse=True)
    policy = Policy.from_document(
        {
            "tiers": [
                {"min_hours_before": h, "refund_percent": p}
                for h, p in zip(ordered, percents, strict=True)
            ]
        }
    )
    earlier, closer = max(left, later), min(left, later)
    assert policy.refund_percent(timedelta(minutes=earlier)) >= policy.refund_percent(
        timedelta(minutes=closer)
    )
