"""Prices as people type them ("250.00", major units) or as scripts send them (25000, minor
units), checked and turned into minor units with the currency's exponent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

# ISO 4217 exponents that are not 2; every other currency has cents, paise, pence...
CURRENCY_DECIMALS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
# Plain decimals only: Decimal alone also reads "1e3", "NaN" and "Infinity", and a typed
# exponent silently makes a ticket a thousand times dearer.
AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# A price above this is a typo (a million in major units), not a ticket.
MAX_MINOR = 10**8

Problems = list[tuple[str, str]]  # (column, reason)


def decimals_of(currency: str) -> int:
    return CURRENCY_DECIMALS.get(currency.upper(), 2)


def to_minor(amount: str, currency: str) -> int:
    """``to_minor("250.50", "INR") == 25050``; ValueError with the reason otherwise."""
    decimals = decimals_of(currency)
    if AMOUNT.fullmatch(amount.strip()) is None:
        raise ValueError(
            f"{amount!r} is not an amount; write decimal {currency} like "
            f"{_example(decimals)} (major units)"
        )
    value = Decimal(amount.strip())
    if value < 0:
        raise ValueError(f"{amount!r} is not a price; give zero or more {currency}")
    minor = value.scaleb(decimals)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency} has ({decimals})")
    return _checked(int(minor), amount, currency)


def _checked(minor: int, shown: object, currency: str) -> int:
    if not 0 <= minor <= MAX_MINOR:
        raise ValueError(f"{shown!r} is out of range for a ticket price in {currency}")
    return minor


def _example(decimals: int) -> str:
    return "250" if decimals == 0 else "250." + "0" * decimals


def price_table(
    prices: Mapping[str, str],
    prices_minor: Mapping[str, int],
    currency: str,
    *,
    major_column: str = "prices",
    minor_column: str = "prices_minor",
) -> tuple[dict[str, int], Problems]:
    """Both spellings merged into minor units per seat type, plus every problem found, keyed
    by the column it came from (``prices.premium``)."""
    table: dict[str, int] = {}
    problems: Problems = []
    for seat_type, amount in prices.items():
        try:
            table[seat_type] = to_minor(amount, currency)
        except ValueError as exc:
            problems.append((f"{major_column}.{seat_type}", str(exc)))
    for seat_type, minor in prices_minor.items():
        column = f"{minor_column}.{seat_type}"
        if seat_type in prices:
            problems.append((column, f"{seat_type} also has a price in {major_column}; give one"))
            continue
        try:
            table[seat_type] = _checked(minor, minor, currency)
        except ValueError as exc:
            problems.append((column, str(exc)))
    return table, problems
