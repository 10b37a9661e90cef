"""Card checks: Luhn, expiry against the injected now, CVV, brands, and that the number never
shows in a repr or an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.contracts.checkout import CardIn
from server.domain.errors import Invalid
from server.domain.payments.cards import check_card, luhn_valid
from server.domain.payments.simulator import TEST_CARDS

NOW = datetime(2026, 11, 20, tzinfo=UTC)
VISA = "4242424242424242"


@pytest.mark.parametrize("number", [VISA, "5555555555554444", "378282246310005", *TEST_CARDS])
def test_valid_numbers_pass_luhn(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "1234567812345678", "5555555555554440"])
def test_typos_fail_luhn(number: str) -> None:
    assert not luhn_valid(number)


def check(number: str = VISA, month: int = 12, year: int = 2030, cvv: str = "123"):
    return check_card(number, month, year, cvv, " Ann ", now=NOW, at="payments[1].card")


def test_a_good_card() -> None:
    card = check("4242 4242 4242 4242", year=30)
    assert (card.number, card.exp_year, card.brand, card.last4, card.name) == (
        VISA,
        2030,
        "visa",
        "4242",
        "Ann",
    )
    assert check("5555555555554444").brand == "mastercard"
    assert check("378282246310005", cvv="1234").brand == "amex"


def test_this_month_is_still_valid() -> None:
    assert check(month=11, year=2026).exp_month == 11


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": "4242-4242"}, "number"),
        ({"number": "42424242424242ab"}, "number"),
        ({"number": "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"}, "number"),  # Arabic-Indic digits
        ({"year": 2047}, "exp_year"),
        ({"year": 99999999999999999999}, "exp_year"),
        ({"number": "4242424242424241"}, "number"),
        ({"month": 0}, "exp_month"),
        ({"month": 10, "year": 2026}, "exp_year"),
        ({"year": 25}, "exp_year"),
        ({"cvv": "12"}, "cvv"),
        ({"cvv": "12345"}, "cvv"),
        ({"cvv": "abc"}, "cvv"),
        ({"cvv": "١٢٣"}, "cvv"),
    ],
)
def test_errors_name_the_field_and_never_the_number(overrides: dict, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        check(**overrides)
    assert refused.value.extra["field"] == f"payments[1].card.{field}"
    assert refused.value.detail.startswith(f"payments[1].card.{field}")
    assert "4242424242424241" not in refused.value.detail


def test_the_number_stays_out_of_reprs() -> None:
    assert VISA not in repr(check())
    typed = CardIn(number=VISA, exp_month=1, exp_year=2030, cvv="999")
    assert VISA not in repr(typed) and "999" not in repr(typed)
