"""Staff find bookings by code, phone or e-mail through the real app: only their own
theaters' bookings (platform admins: all), phone on its digits, e-mail in any case, and a
clear 422 or 403 for what cannot be answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from tests.factories import World, auth, make_user, make_world
from tests.integration.test_checkout import book, hold_seats, new_buyer, new_world, pay_by_card

Headers = dict[str, str]
PHONE = "+91 98200 12345"
EMAIL = "Asha.Rao@Example.test"


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await new_world(session, clock)


@pytest.fixture
async def other(session: AsyncSession, clock: FrozenClock) -> World:
    """A second theater in another city, with its own staff."""
    return await make_world(session, starts_at=clock.now() + timedelta(days=3), name_suffix=" B")


async def staff(session: AsyncSession, role: Role, world: World | None = None) -> Headers:
    theaters = [world.theater_id] if world is not None else None
    _, token = await make_user(session, role=role, theater_ids=theaters)
    return auth(token)


async def buy(
    client: AsyncTestClient, headers: Headers, world: World, label: str, **contact: str
) -> str:
    hold_id = await hold_seats(client, headers, world, label)
    answer = await book(client, headers, hold_id, [pay_by_card()], contact=contact or None)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])


async def lookup(client: AsyncTestClient, headers: Headers, **query: str) -> Any:
    return await client.get("/api/v1/bookings", params=query, headers=headers)


def codes(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(row["code"] for row in answer.json())


async def test_a_clerk_finds_a_booking_by_code_phone_digits_or_email_in_any_case(
    client: AsyncTestClient, session: AsyncSession, world: World
) -> None:
    _, buyer = await new_buyer(session)
    code = await buy(client, buyer, world, "F7", phone=PHONE, email=EMAIL)
    await buy(client, buyer, world, "F9", phone="+91 99999 00000")
    clerk = await staff(session, Role.CLERK, world)

    for query in (
        {"code": code.lower()},
        {"phone": "9820012345"},  # without the country code
        {"phone": "0091-98200-12345"},  # with it, written differently
        {"phone": "+91 98200 12345"},
        {"email": "asha.rao@example.TEST"},
    ):
        assert codes(await lookup(client, clerk, **query)) == [code], query

    (found,) = (await lookup(client, clerk, code=code)).json()
    assert found["seats"] == ["F7"]
    assert found["status"] == "CONFIRMED"
    assert found["movie_title"] == "Test Movie"
    assert found["contact_phone"] == PHONE and found["contact_email"] == EMAIL
    assert found["total_minor"] > 0 and found["refunded_minor"] == 0
    assert codes(await lookup(client, clerk, phone="98200 54321")) == []


async def test_the_account_email_finds_a_customers_bookings_without_a_contact(
    client: AsyncTestClient, session: AsyncSession, world: World
) -> None:
    _, token = await make_user(session, email="Ravi@Example.test")
    code = await buy(client, auth(token), world, "G5")
    clerk = await staff(session, Role.CLERK, world)
    assert codes(await lookup(client, clerk, email="ravi@example.test")) == [code]


async def test_staff_see_only_their_theaters_and_platform_admins_see_all(
    client: AsyncTestClient, session: AsyncSession, world: World, other: World
) -> None:
    _, buyer = await new_buyer(session)
    here = await buy(client, buyer, world, "F7", email=EMAIL)
    there = await buy(client, buyer, other, "F7", email=EMAIL)

    clerk_here = await staff(session, Role.CLERK, world)
    admin_there = await staff(session, Role.THEATER_ADMIN, other)
    platform = await staff(session, Role.PLATFORM_ADMIN)

    assert codes(await lookup(client, clerk_here, email=EMAIL)) == [here]
    assert codes(await lookup(client, admin_there, email=EMAIL)) == [there]
    assert codes(await lookup(client, clerk_here, code=there)) == []
    assert codes(await lookup(client, platform, email=EMAIL)) == sorted([here, there])


async def test_a_cancelled_seat_drops_out_of_the_summary_and_the_refund_shows(
    client: AsyncTestClient, session: AsyncSession, world: World
) -> None:
    _, buyer = await new_buyer(session)
    hold_id = await hold_seats(client, buyer, world, "F7", "F8")
    answer = await book(client, buyer, hold_id, [pay_by_card()], contact={"phone": PHONE})
    code = answer.json()["code"]
    cancel = {"seat_ids": [str(world.seats["F8"])], "confirm": True}
    assert (
        await client.post(f"/api/v1/bookings/{code}/cancel", json=cancel, headers=buyer)
    ).is_success
    clerk = await staff(session, Role.CLERK, world)

    (found,) = (await lookup(client, clerk, phone=PHONE)).json()
    assert found["seats"] == ["F7"]
    assert found["status"] == "PARTIALLY_CANCELLED"
    assert found["refunded_minor"] > 0


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({}, "exactly one of code, phone or email"),
        ({"code": "K7Q2M9XD", "phone": "9820012345"}, "exactly one of code, phone or email"),
        ({"phone": "  "}, "exactly one of code, phone or email"),
        ({"phone": "12-34"}, "too few digits"),
        ({"email": "not-an-address"}, "is not an e-mail address"),
        ({"code": "DROP TABLE"}, "is not a booking code"),
    ],
)
async def test_bad_lookups_are_a_422_that_says_what_to_type(
    client: AsyncTestClient, session: AsyncSession, world: World, query: dict[str, str], says: str
) -> None:
    clerk = await staff(session, Role.CLERK, world)
    answer = await lookup(client, clerk, **query)
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["detail"]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.KIOSK])
async def test_customers_and_kiosks_cannot_look_bookings_up(
    client: AsyncTestClient, session: AsyncSession, world: World, role: Role
) -> None:
    _, buyer = await new_buyer(session)
    await buy(client, buyer, world, "F7", email=EMAIL)
    _, token = await make_user(session, role=role, theater_ids=[world.theater_id])
    answer = await lookup(client, auth(token), email=EMAIL)
    assert answer.status_code == 403
    assert "box-office staff" in answer.json()["detail"]
    assert (await client.get("/api/v1/bookings", params={"email": EMAIL})).status_code == 401
