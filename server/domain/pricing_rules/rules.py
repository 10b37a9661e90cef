"""Dynamic pricing, as a pure function: base prices + rules + the show's situation -> prices.

    effective_prices(base_prices, rules, show) -> {seat type: price in minor units}

Checkout prices a hold with it (``services.show_prices`` loads the inputs for one show). The
rules, in order:

1. A rule counts when it is active, belongs to the show's screen (or to every screen of the
   theater) and its condition holds for the show (see ``condition_holds``).
2. Counting rules apply one after another, lowest ``priority`` first (then by name): each
   multiplies the price reached so far by (100 + adjust_percent) / 100, rounded half up to a
   whole minor unit, for the seat types it names (every type when it names none).
3. Right after its adjustment, a rule clamps the price of each seat type it has bounds for to
   its floor and ceiling, so a later (higher priority number) rule has the last word.
4. A price is never negative. Seat types without a base price get none.

Stdlib only, no I/O: the same inputs always give the same prices.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONDITION_KINDS = ("occupancy", "weekday", "time_of_day", "days_before")
MIN_ADJUST_PERCENT = -90
MAX_ADJUST_PERCENT = 300
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True, slots=True)
class PricingRule:
    name: str
    # A condition as ``parse_condition`` returns it, e.g. {"kind": "weekday", "days": ["sat"]}.
    condition: Mapping[str, Any]
    adjust_percent: int
    seat_types: frozenset[str] | None = None
    # Per seat type, in minor units: {"premium": {"floor": 30000, "ceiling": 60000}}.
    bounds: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    priority: int = 100
    screen_id: uuid.UUID | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class ShowContext:
    """What the rules look at. ``starts_at`` must be in the theater's timezone: weekday and
    time of day are read from it."""

    starts_at: datetime
    now: datetime
    occupancy_percent: int  # seats sold or held, of those on sale
    screen_id: uuid.UUID | None = None

    @property
    def days_before(self) -> int:
        return max(0, (self.starts_at - self.now) // timedelta(days=1))


def effective_prices(
    base_prices: Mapping[str, int], rules: Iterable[PricingRule], show: ShowContext
) -> dict[str, int]:
    """The price of each seat type of ``base_prices`` once the rules that hold have applied."""
    prices = {seat_type: int(price) for seat_type, price in base_prices.items()}
    for rule in applying_rules(rules, show):
        for seat_type, price in prices.items():
            if rule.seat_types is None or seat_type in rule.seat_types:
                price = _adjusted(price, rule.adjust_percent)
            prices[seat_type] = _bounded(price, rule.bounds.get(seat_type, {}))
    return prices


def applying_rules(rules: Iterable[PricingRule], show: ShowContext) -> list[PricingRule]:
    """The rules that count for this show, in the order they apply."""
    relevant = [
        rule
        for rule in rules
        if rule.active
        and (rule.screen_id is None or rule.screen_id == show.screen_id)
        and condition_holds(rule.condition, show)
    ]
    return sorted(relevant, key=lambda rule: (rule.priority, rule.name))


def condition_holds(condition: Mapping[str, Any], show: ShowContext) -> bool:
    kind = condition["kind"]
    if kind == "occupancy":
        upper = condition.get("max_percent")
        return condition["min_percent"] <= show.occupancy_percent and (
            upper is None or show.occupancy_percent < upper
        )
    if kind == "weekday":
        return WEEKDAYS[show.starts_at.weekday()] in condition["days"]
    if kind == "time_of_day":
        start, end = _clock(condition["from"]), _clock(condition["to"])
        at = show.starts_at.time().replace(tzinfo=None)
        return start <= at < end if start < end else (at >= start or at < end)
    if kind == "days_before":
        upper = condition.get("max_days")
        return condition.get("min_days", 0) <= show.days_before and (
            upper is None or show.days_before <= upper
        )
    raise ValueError(f"unknown condition kind {kind!r}")


def _adjusted(price: int, percent: int) -> int:
    # Integer arithmetic, half up: 25000 at +15 % is 28750, 999 at +50 % is 1499 (1498.5 up).
    return max(0, (price * (100 + percent) * 2 + 100) // 200)


def _bounded(price: int, bounds: Mapping[str, int]) -> int:
    if "floor" in bounds:
        price = max(price, bounds["floor"])
    if "ceiling" in bounds:
        price = min(price, bounds["ceiling"])
    return max(0, price)


def _clock(text: str) -> time:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day; write HH:MM, e.g. 18:30")
    return time(int(match.group(1)), int(match.group(2)))


# -- checking what people write -------------------------------------------------------------


def parse_condition(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical stored form of a condition, or ValueError with a sentence saying what to
    fix. Only the fields of the condition's kind may be given."""
    kind = raw.get("kind")
    if kind not in CONDITION_KINDS:
        raise ValueError(
            f"condition kind {kind!r} is unknown; use one of {', '.join(CONDITION_KINDS)}"
        )
    given = {key: value for key, value in raw.items() if value is not None and key != "kind"}
    parser = _PARSERS[kind]
    condition = parser(given)
    stray = set(given) - set(condition)
    if stray:
        raise ValueError(f"a {kind} condition does not take {', '.join(sorted(stray))}")
    return {"kind": kind, **condition}


def _percent(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValueError(f"{name} must be a whole percentage from 0 to 100, not {value!r}")
    return value


def _days(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
        raise ValueError(f"{name} must be a whole number of days from 0 to 365, not {value!r}")
    return value


def _occupancy(given: dict[str, Any]) -> dict[str, Any]:
    if "min_percent" not in given:
        raise ValueError("an occupancy condition needs min_percent (0-100)")
    condition = {"min_percent": _percent(given["min_percent"], "min_percent")}
    if "max_percent" in given:
        condition["max_percent"] = _percent(given["max_percent"], "max_percent")
        if condition["max_percent"] <= condition["min_percent"]:
            raise ValueError("max_percent must be above min_percent")
    return condition


def _weekday(given: dict[str, Any]) -> dict[str, Any]:
    days = [str(day).strip().lower()[:3] for day in given.get("days") or []]
    unknown = [day for day in days if day not in WEEKDAYS]
    if not days or unknown:
        raise ValueError(f"a weekday condition needs days from {', '.join(WEEKDAYS)}")
    return {"days": [day for day in WEEKDAYS if day in days]}


def _time_of_day(given: dict[str, Any]) -> dict[str, Any]:
    if "from" not in given or "to" not in given:
        raise ValueError("a time_of_day condition needs from and to, e.g. 18:00 and 23:59")
    start, end = _clock(str(given["from"])), _clock(str(given["to"]))
    if start == end:
        raise ValueError("from and to are the same time; the window would be empty")
    return {"from": start.strftime("%H:%M"), "to": end.strftime("%H:%M")}


def _days_before(given: dict[str, Any]) -> dict[str, Any]:
    if "min_days" not in given and "max_days" not in given:
        raise ValueError("a days_before condition needs min_days and/or max_days")
    condition = {"min_days": _days(given.get("min_days", 0), "min_days")}
    if "max_days" in given:
        condition["max_days"] = _days(given["max_days"], "max_days")
        if condition["max_days"] < condition["min_days"]:
            raise ValueError("max_days must not be below min_days")
    return condition


_PARSERS = {
    "occupancy": _occupancy,
    "weekday": _weekday,
    "time_of_day": _time_of_day,
    "days_before": _days_before,
}
