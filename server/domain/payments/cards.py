"""Card input checks before anything reaches a gateway: Luhn, expiry, CVV, brand.

Every refusal names the field it is about (``payments[0].card.number``) so a client can point
at it. The number itself never appears in an error, a log line or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.domain.errors import Invalid

# Leading digits → brand, longest prefix first (enough for the simulator's test cards).
BRAND_PREFIXES = (
    ("34", "amex"),
    ("37", "amex"),
    ("60", "rupay"),
    ("65", "rupay"),
    ("81", "rupay"),
    ("82", "rupay"),
    ("2", "mastercard"),
    ("5", "mastercard"),
    ("4", "visa"),
)
MIN_DIGITS, MAX_DIGITS = 12, 19
# Cards are issued for at most a few years; a later expiry is a typo, not a card.
MAX_YEARS_AHEAD = 20


@dataclass(frozen=True, slots=True)
class CardDetails:
    """A checked card, on its way to the gateway's tokenizer and nowhere else."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvv: str = field(repr=False)
    name: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def brand(self) -> str:
        return next((b for prefix, b in BRAND_PREFIXES if self.number.startswith(prefix)), "card")


def ascii_digits(text: str) -> bool:
    """Only 0-9: ``str.isdigit`` also takes other scripts' digits (``٤٢``) and superscripts."""
    return text.isascii() and text.isdigit()


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def check_card(
    number: str, exp_month: int, exp_year: int, cvv: str, name: str, *, now: datetime, at: str
) -> CardDetails:
    """A CardDetails, or Invalid naming the first wrong field (``at`` is the card's path)."""
    digits = number.replace(" ", "").replace("-", "")
    if not ascii_digits(digits) or not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise Invalid(
            f"{at}.number must be {MIN_DIGITS}–{MAX_DIGITS} digits; check the card number.",
            field=f"{at}.number",
        )
    if not luhn_valid(digits):
        raise Invalid(
            f"{at}.number is not a valid card number (its check digit is wrong); check for a typo.",
            field=f"{at}.number",
        )
    if not 1 <= exp_month <= 12:
        raise Invalid(f"{at}.exp_month must be 1–12.", field=f"{at}.exp_month")
    year = exp_year + 2000 if exp_year < 100 else exp_year
    if (year, exp_month) < (now.year, now.month):
        raise Invalid(
            f"{at}.exp_year: the card expired at the end of {exp_month:02d}/{year}; use another "
            "card.",
            field=f"{at}.exp_year",
        )
    if year > now.year + MAX_YEARS_AHEAD:
        raise Invalid(
            f"{at}.exp_year must be {now.year + MAX_YEARS_AHEAD} or earlier; check the expiry "
            "date printed on the card.",
            field=f"{at}.exp_year",
        )
    if not (ascii_digits(cvv) and 3 <= len(cvv) <= 4):
        raise Invalid(f"{at}.cvv must be 3 or 4 digits.", field=f"{at}.cvv")
    return CardDetails(digits, exp_month, year, cvv, name.strip())
