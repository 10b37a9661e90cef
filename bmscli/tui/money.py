"""Money for people: integer minor units plus a currency code, drawn as "₹1,250.00"."""

from __future__ import annotations

SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "SGD": "S$"}
# ISO 4217 exponents that are not 2; every other currency has cents, paise, pence...
DECIMALS = {"JPY": 0, "KRW": 0, "VND": 0, "IDR": 0, "BHD": 3, "KWD": 3, "OMR": 3}


def format_money(minor: int, currency: str) -> str:
    """``format_money(25000, "INR") == "₹250.00"``; unknown currencies get a code prefix."""
    code = currency.upper()
    decimals = DECIMALS.get(code, 2)
    units, fraction = divmod(abs(minor), 10**decimals)
    amount = f"{units:,}" + (f".{fraction:0{decimals}d}" if decimals else "")
    symbol = SYMBOLS.get(code, f"{code} ")
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{amount}"
