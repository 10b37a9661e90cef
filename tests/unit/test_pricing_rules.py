"""effective_prices: the pure dynamic-pricing core, rule by rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from server.domain.pricing_rules.rules import (
    PricingRule,
    ShowContext,
    applying_rules,
    effective_prices,
    parse_condition,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
BASE = {"regular": 25000, "premium": 40000}
# Saturday 2026-11-21, 19:30 in Kolkata; asked on Friday morning.
SATURDAY_EVENING = ShowContext(
    starts_at=datetime(2026, 11, 21, 19, 30, tzinfo=KOLKATA),
    now=datetime(2026, 11, 20, 4, 0, tzinfo=UTC),
    occupancy_percent=75,
)


def rule(name: str, condition: dict, percent: int, **fields) -> PricingRule:
    return PricingRule(name=name, condition=parse_condition(condition), adjust_percent=percent,
                       **fields)  # fmt: skip


def test_no_rules_keep_the_base_prices() -> None:
    assert effective_prices(BASE, [], SATURDAY_EVENING) == BASE


@pytest.mark.parametrize(
    ("condition", "applies"),
    [
        ({"kind": "occupancy", "min_percent": 70}, True),
        ({"kind": "occupancy", "min_percent": 50, "max_percent": 75}, False),  # upper bound open
        ({"kind": "weekday", "days": ["sat", "Sunday"]}, True),
        ({"kind": "weekday", "days": ["fri"]}, False),
        ({"kind": "time_of_day", "from": "18:00", "to": "23:00"}, True),
        ({"kind": "time_of_day", "from": "22:00", "to": "02:00"}, False),  # wraps midnight
        ({"kind": "days_before", "max_days": 1}, True),  # 1 day and 10 hours away
        ({"kind": "days_before", "min_days": 2}, False),
    ],
)
def test_each_condition_kind(condition: dict, applies: bool) -> None:
    expected = {**BASE, "regular": 27500, "premium": 44000} if applies else BASE
    assert effective_prices(BASE, [rule("r", condition, 10)], SATURDAY_EVENING) == expected


def test_time_windows_wrap_past_midnight() -> None:
    late = ShowContext(
        starts_at=datetime(2026, 11, 21, 0, 30, tzinfo=KOLKATA),
        now=datetime(2026, 11, 20, 4, 0, tzinfo=UTC),
        occupancy_percent=0,
    )
    night = rule("night", {"kind": "time_of_day", "from": "22:00", "to": "02:00"}, -20)
    assert effective_prices(BASE, [night], late) == {"regular": 20000, "premium": 32000}


def test_rules_compound_in_priority_order_and_round_half_up() -> None:
    busy = rule("busy", {"kind": "occupancy", "min_percent": 70}, 15, priority=20)
    weekend = rule("weekend", {"kind": "weekday", "days": ["sat"]}, 10, priority=10)
    odd = {"regular": 999}
    # 999 * 1.10 = 1098.9 -> 1099; 1099 * 1.15 = 1263.85 -> 1264
    assert effective_prices(odd, [busy, weekend], SATURDAY_EVENING) == {"regular": 1264}
    assert [r.name for r in applying_rules([busy, weekend], SATURDAY_EVENING)] == [
        "weekend",
        "busy",
    ]


def test_a_rule_touches_only_its_seat_types_and_clamps_to_its_bounds() -> None:
    surge = rule(
        "surge",
        {"kind": "occupancy", "min_percent": 50},
        50,
        seat_types=frozenset({"premium"}),
        bounds={"premium": {"ceiling": 55000}, "regular": {"floor": 26000}},
    )
    assert effective_prices(BASE, [surge], SATURDAY_EVENING) == {
        "regular": 26000,  # not adjusted, but floored by the rule's bound
        "premium": 55000,  # 60000, capped at the ceiling
    }


def test_later_rules_have_the_last_word_on_bounds() -> None:
    capped = rule("cap", {"kind": "weekday", "days": ["sat"]}, 0, priority=1,
                  bounds={"regular": {"ceiling": 26000}})  # fmt: skip
    surge = rule("surge", {"kind": "occupancy", "min_percent": 50}, 20, priority=2)
    assert effective_prices(BASE, [capped, surge], SATURDAY_EVENING)["regular"] == 30000


def test_inactive_and_other_screens_rules_do_not_count() -> None:
    screen = uuid.uuid4()
    here = ShowContext(SATURDAY_EVENING.starts_at, SATURDAY_EVENING.now, 75, screen_id=screen)
    always = {"kind": "occupancy", "min_percent": 0}
    rules = [
        rule("elsewhere", always, 50, screen_id=uuid.uuid4()),
        rule("off", always, 50, active=False),
        rule("here", always, -50, screen_id=screen),
    ]
    assert effective_prices(BASE, rules, here) == {"regular": 12500, "premium": 20000}


def test_prices_never_go_negative() -> None:
    giveaway = PricingRule("giveaway", {"kind": "occupancy", "min_percent": 0}, -150)
    assert effective_prices(BASE, [giveaway], SATURDAY_EVENING) == {"regular": 0, "premium": 0}


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"kind": "moon"}, "condition kind 'moon' is unknown"),
        ({"kind": "occupancy"}, "needs min_percent"),
        ({"kind": "occupancy", "min_percent": 101}, "whole percentage from 0 to 100"),
        ({"kind": "occupancy", "min_percent": 50, "max_percent": 50}, "max_percent must be above"),
        ({"kind": "weekday", "days": ["someday"]}, "needs days from mon"),
        ({"kind": "time_of_day", "from": "18:00"}, "needs from and to"),
        ({"kind": "time_of_day", "from": "7pm", "to": "23:00"}, "'7pm' is not a time of day"),
        ({"kind": "days_before"}, "needs min_days and/or max_days"),
        ({"kind": "days_before", "min_days": 3, "max_days": 1}, "must not be below"),
        ({"kind": "weekday", "days": ["sat"], "min_percent": 5}, "does not take min_percent"),
    ],
)
def test_conditions_are_checked_with_a_reason(condition: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_condition(condition)


def test_conditions_are_stored_in_one_canonical_form() -> None:
    assert parse_condition({"kind": "weekday", "days": ["Sunday", "sat", "sat"]}) == {
        "kind": "weekday",
        "days": ["sat", "sun"],
    }
    assert parse_condition({"kind": "days_before", "max_days": 2, "min_percent": None}) == {
        "kind": "days_before",
        "min_days": 0,
        "max_days": 2,
    }
