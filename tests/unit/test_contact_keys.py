"""The keys a clerk's find-or-create of a customer locks: whatever two counters type for one
person (any case of the e-mail, a phone number with or without its country code) locks the
same key, so the second waits for the first and finds the customer it made."""

from __future__ import annotations

from server.domain.accounts.contact import digits_of
from server.domain.accounts.services import contact_keys


def test_an_email_in_any_case_is_one_key() -> None:
    assert contact_keys("Asha.Rao@Example.test", None) == contact_keys(
        "asha.rao@example.test", None
    )
    assert contact_keys("asha@example.test", None) != contact_keys("ravi@example.test", None)


def test_phone_numbers_taken_for_one_share_a_key() -> None:
    [local] = contact_keys(None, digits_of("98200 12345"))
    [international] = contact_keys(None, digits_of("+91 98200 12345"))
    [shorter] = contact_keys(None, digits_of("200-12345"))
    assert local == international == shorter


def test_an_email_and_a_phone_are_two_keys() -> None:
    both = contact_keys("asha@example.test", "9820012345")
    assert both == contact_keys("asha@example.test", None) + contact_keys(None, "9820012345")
    assert contact_keys(None, None) == []
    assert all(-(2**31) <= key < 2**31 for key in both)  # PostgreSQL int4
