"""How a person is reached: the e-mail and phone rules every slice applies to what is typed
(a booking's contact, a staff lookup, a customer put on a waiting list at the counter)."""

from __future__ import annotations

import re

from server.contracts.checkout import Contact, CustomerContact
from server.domain.errors import Invalid

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
MIN_PHONE_DIGITS = 6
MAX_NAME = 200


def checked_email(value: str, field: str) -> str:
    """The e-mail address, stripped; a 422 naming ``field`` when it is not one."""
    email = value.strip()
    if not EMAIL.match(email):
        raise Invalid(
            f"{field} {value!r} is not an e-mail address; type it like name@example.com.",
            field=field,
        )
    return email


def digits_of(phone: str) -> str:
    """Phone numbers are matched on their digits alone."""
    return re.sub(r"[^0-9]", "", phone)


def phone_digits(value: str, field: str) -> str:
    """The digits of a phone number typed to look something up; a 422 naming ``field`` when
    there are too few to be one."""
    digits = digits_of(value)
    if len(digits) < MIN_PHONE_DIGITS:
        raise Invalid(
            f"{value!r} has too few digits for a phone number; type at least {MIN_PHONE_DIGITS}.",
            field=field,
        )
    return digits


def checked_phone(value: str, field: str) -> str:
    """The phone number, stripped: digits with an optional leading +, spaces, dashes and
    brackets; a 422 naming ``field`` otherwise."""
    phone = value.strip()
    if not PHONE.match(phone):
        raise Invalid(
            f"{field} {value!r} is not a phone number; type 6 to 20 digits (spaces, dashes "
            "and a leading + are fine), e.g. +91 98200 12345.",
            field=field,
        )
    phone_digits(phone, field)
    return phone


def checked_contact(contact: Contact, where: str) -> Contact:
    """A booking's contact with each address checked and stripped; empty means not given."""
    email = contact.email.strip() if contact.email else ""
    phone = contact.phone.strip() if contact.phone else ""
    return Contact(
        email=checked_email(email, f"{where}.email") if email else None,
        phone=checked_phone(phone, f"{where}.phone") if phone else None,
    )


def checked_customer(customer: CustomerContact, where: str) -> CustomerContact:
    """A customer a clerk acts for: their addresses checked, at least one of them given (the
    customer must be reachable), the name stripped ("Guest" when none is given)."""
    reach = checked_contact(customer, where)
    if reach.email is None and reach.phone is None:
        raise Invalid(
            f"{where} needs the customer's e-mail address or phone number (or both), so that "
            "they can be told when seats are held for them.",
            field=where,
        )
    name = (customer.name or "").strip()[:MAX_NAME] or "Guest"
    return CustomerContact(name=name, email=reach.email, phone=reach.phone)
