"""The waiting list: join a sold-out show, get a priority hold when seats free up, move on
when the offer runs out; a clerk puts the customer at the counter on it, the offer reaches
the customer (a real SMTP server) and the clerk books it for them at the counter."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from server.clock import FrozenClock
from server.contracts.enums import Role
from tests.factories import auth, make_user, make_world
from tests.integration.test_booking_lookup import staff
from tests.integration.test_checkout import add_coupon, book, count, hold_seats, pay_by_card
from tests.integration.test_notifications import one
from tests.mailbox import Mailbox
from tests.polling import eventually


@pytest.fixture
async def world(session, clock: FrozenClock):
    return await make_world(
        session, starts_at=clock.now() + timedelta(days=1), layout="recliner-lounge-40"
    )


async def sell_out(session, world, buyer_id) -> None:
    """Mark every general-sale seat BLOCKED by a long hold (a sold-out show)."""
    await session.execute(
        text(
            """
            WITH h AS (
                INSERT INTO holds (id, show_id, buyer_id, status, kind, channel, expires_at)
                VALUES (gen_random_uuid(), :show, :buyer, 'ACTIVE', 'group', 'box_office',
                        now() + interval '30 days') RETURNING id)
            UPDATE show_seats SET status = 'BLOCKED', hold_id = (SELECT id FROM h),
                   held_until = now() + interval '30 days'
             WHERE show_id = :show AND NOT accessible_only
            """
        ),
        {"show": world.show_id, "buyer": buyer_id},
    )
    await session.commit()


async def wait_for(client, url, headers, status: str) -> dict:
    async def entry_in_status() -> dict | None:  # the offer job runs every second by itself
        entry = (await client.get(url, headers=headers)).json()
        return entry if entry["status"] == status else None

    return await eventually(entry_in_status, f"the entry to become {status}", seconds=6)


async def test_line_gets_priority_holds_in_order(client, session, world, clock) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    _, first = await make_user(session)
    _, second = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/waitlist"
    one = await client.post(url, json={"seats_wanted": 2}, headers=auth(first))
    assert one.status_code == 201, one.text
    assert one.json()["position"] == 1
    two = await client.post(url, json={"seats_wanted": 2}, headers=auth(second))
    assert two.json()["position"] == 2
    again = await client.post(url, json={"seats_wanted": 1}, headers=auth(first))
    assert again.status_code == 409

    # Two seats side by side come free (the block is cut back): the head of the line gets them.
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"show": world.show_id, "seats": [world.seats["B2"], world.seats["B3"]]},
    )
    await session.commit()
    first_url = f"/api/v1/waitlist/{one.json()['entry_id']}"
    offered = await wait_for(client, first_url, auth(first), "OFFERED")
    assert offered["hold_id"] and offered["offer_expires_at"]
    second_entry = (
        await client.get(f"/api/v1/waitlist/{two.json()['entry_id']}", headers=auth(second))
    ).json()
    assert second_entry["status"] == "WAITING" and second_entry["position"] == 1
    outbox = await session.scalar(
        text("SELECT count(*) FROM outbox WHERE topic = 'waitlist.offered'")
    )
    assert outbox == 1

    # Unanswered, the offer runs out and the seats go to the next in line.
    clock.advance(minutes=11)
    await wait_for(client, first_url, auth(first), "EXPIRED")
    await wait_for(client, f"/api/v1/waitlist/{two.json()['entry_id']}", auth(second), "OFFERED")


async def test_cannot_wait_for_seats_that_are_free(client, session, world) -> None:
    _, buyer = await make_user(session)
    answer = await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist", json={"seats_wanted": 2}, headers=auth(buyer)
    )
    assert answer.status_code == 409
    assert "hold them instead" in answer.json()["detail"]
    bad = await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist",
        json={"seats_wanted": 2, "seat_type": "balcony"},
        headers=auth(buyer),
    )
    assert bad.status_code == 422


# -- a clerk queues the customer at the counter ----------------------------------------------

ASHA = {"name": "Asha Rao", "email": "Asha.Rao@example.test", "phone": "+91 98200 12345"}


@pytest.fixture
def mailed(mailbox: Mailbox, client: AsyncTestClient) -> AsyncTestClient:
    """The app, started after the SMTP server so its notifications worker mails there."""
    return client


async def join(client, world, headers, seats: int = 2, **body) -> Any:
    return await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist",
        json={"seats_wanted": seats, **body},
        headers=headers,
    )


async def free(session, world, *labels: str) -> None:
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"show": world.show_id, "seats": [world.seats[label] for label in labels]},
    )
    await session.commit()


async def test_a_clerk_queues_a_walk_up_customer_who_is_told_and_booked_at_the_counter(
    mailed, session, engine, clock, world, mailbox
) -> None:
    client = mailed
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    clerk = await staff(session, Role.CLERK, world)

    joined = await join(client, world, clerk, customer=ASHA)
    assert joined.status_code == 201, joined.text
    entry = joined.json()
    assert entry["position"] == 1 and entry["status"] == "WAITING"
    assert entry["customer"] == ASHA
    assert entry["movie_title"] == "Test Movie" and entry["theater_name"] == "Test Cinema"
    # The entry is the customer's, kept as a guest customer; the clerk is on no list.
    customer = await one(
        engine,
        "SELECT u.id, u.role, u.is_guest, u.name, u.email, u.phone,"
        "       u.preferences->>'contact_email' AS contact_email"
        "  FROM waitlist_entries w JOIN users u ON u.id = w.user_id WHERE w.id = :id",
        id=entry["entry_id"],
    )
    assert (customer.role, customer.is_guest, customer.name) == ("customer", True, "Asha Rao")
    assert customer.email is None  # logins only; a guest's e-mail is a contact
    assert (customer.contact_email, customer.phone) == (ASHA["email"], ASHA["phone"])

    await free(session, world, "B2", "B3")
    url = f"/api/v1/waitlist/{entry['entry_id']}"
    offered = await wait_for(client, url, clerk, "OFFERED")
    event = await one(engine, "SELECT payload FROM outbox WHERE topic = 'waitlist.offered'")
    assert event.payload["user_id"] == str(customer.id) and event.payload["at_box_office"]

    # The offer reaches the customer, by e-mail (a real SMTP server) and by SMS.
    async def mailed_to_asha() -> list:
        return mailbox.to(ASHA["email"])

    [letter] = await eventually(mailed_to_asha, "the offer e-mail")
    assert "Hello Asha Rao," in letter.get_content()
    assert "Come to the box office at Test Cinema" in letter.get_content()

    async def texted() -> Any:
        return await count(
            engine,
            "SELECT count(*) FROM notifications WHERE channel = 'sms' AND recipient = :phone"
            " AND status = 'SENT'",
            phone=ASHA["phone"],
        )

    await eventually(texted, "the offer SMS")

    # The clerk books the offered hold for her at the counter: her points and wallet stay hers.
    hold_id = offered["hold_id"]
    points = await client.post(
        f"/api/v1/holds/{hold_id}/quote", json={"loyalty_points": 5}, headers=clerk
    )
    assert points.status_code == 422 and points.json()["field"] == "loyalty_points"
    # A once-per-customer coupon is hers to use: it counts on her, not on the clerk.
    coupon = await add_coupon(session, clock, code="ONCE", per_user_limit=1)
    terms = {"coupon_code": coupon.code}
    quote = await client.post(f"/api/v1/holds/{hold_id}/quote", json=terms, headers=clerk)
    assert quote.status_code == 200, quote.text
    total = quote.json()["amounts"]["total_minor"]
    wallet = await book(client, clerk, hold_id, [{"method": "wallet"}], **terms)
    assert wallet.status_code == 422 and "customer's wallet" in wallet.json()["detail"]
    cash = {"method": "cash", "tendered_minor": total}
    paid = await book(client, clerk, hold_id, [cash], **terms)
    assert paid.status_code == 201, paid.text
    assert paid.json()["channel"] == "box_office"
    assert len(paid.json()["seats"]) == 2
    booking = await one(
        engine, "SELECT user_id FROM bookings WHERE code = :c", c=paid.json()["code"]
    )
    assert booking.user_id == customer.id
    redeemed = await one(engine, "SELECT user_id FROM coupon_redemptions")
    assert redeemed.user_id == customer.id
    # It carries her contact, so the bookings desk finds it by her phone number.
    assert (paid.json()["contact_email"], paid.json()["contact_phone"]) == (
        ASHA["email"],
        ASHA["phone"],
    )
    found = await client.get("/api/v1/bookings", params={"phone": "98200 12345"}, headers=clerk)
    assert [b["code"] for b in found.json()] == [paid.json()["code"]]
    await wait_for(client, url, clerk, "FULFILLED")


async def test_a_registered_customer_found_by_phone_books_the_offer_themselves(
    client, session, engine, world, clock
) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    ravi, ravi_token = await make_user(session, email="ravi@example.test")
    ravi.phone = "+91 90000 11111"
    await session.commit()
    clerk = await staff(session, Role.CLERK, world)
    users_before = await count(engine, "SELECT count(*) FROM users")

    joined = await join(client, world, clerk, 1, customer={"phone": "90000-11111"})
    assert joined.status_code == 201, joined.text
    assert joined.json()["customer"]["email"] == "ravi@example.test"
    assert await count(engine, "SELECT count(*) FROM users") == users_before  # found

    await free(session, world, "C4")
    url = f"/api/v1/waitlist/{joined.json()['entry_id']}"
    offered = await wait_for(client, url, auth(ravi_token), "OFFERED")
    event = await one(engine, "SELECT payload FROM outbox WHERE topic = 'waitlist.offered'")
    assert event.payload["user_id"] == str(ravi.id) and not event.payload["at_box_office"]

    # Only staff of the show's theater may book it for him; another customer may not at all.
    other = await make_world(session, starts_at=clock.now() + timedelta(days=2), name_suffix=" B")
    elsewhere = await staff(session, Role.CLERK, other)
    refused = await book(client, elsewhere, offered["hold_id"], [pay_by_card()])
    assert refused.status_code == 403 and "not one of your theaters" in refused.json()["detail"]
    _, stranger = await make_user(session)
    not_yours = await book(client, auth(stranger), offered["hold_id"], [pay_by_card()])
    assert not_yours.status_code == 409 and "not yours" in not_yours.json()["detail"]
    assert (await client.get(url, headers=elsewhere)).status_code == 403

    paid = await book(client, auth(ravi_token), offered["hold_id"], [pay_by_card()])
    assert paid.status_code == 201, paid.text
    assert paid.json()["channel"] == "online"
    await wait_for(client, url, auth(ravi_token), "FULFILLED")


async def test_a_clerk_cannot_book_a_customers_ordinary_hold(client, session, world) -> None:
    _, customer = await make_user(session)
    hold_id = await hold_seats(client, auth(customer), world, "D4")
    clerk = await staff(session, Role.CLERK, world)
    answer = await book(client, clerk, hold_id, [pay_by_card()])
    assert answer.status_code == 409 and "not yours" in answer.json()["detail"]


async def test_one_entry_per_customer_however_the_clerk_finds_them(client, session, world) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    clerk = await staff(session, Role.CLERK, world)
    colleague = await staff(session, Role.THEATER_ADMIN, world)

    assert (await join(client, world, clerk, customer=ASHA)).status_code == 201
    for again in (
        {"email": "asha.rao@EXAMPLE.test"},
        {"phone": "9820012345", "name": "Asha"},  # no country code
    ):
        twice = await join(client, world, colleague, customer=again)
        assert twice.status_code == 409, again
        assert "Asha Rao" in twice.json()["detail"]
        assert (
            "already on the waiting list for this show (number 1 in line)"
            in (twice.json()["detail"])
        )

    # The clerk is nobody on the list: every customer they add is their own entry.
    ravi = await join(client, world, clerk, customer={"name": "Ravi", "email": "ravi@x.test"})
    assert ravi.status_code == 201 and ravi.json()["position"] == 2
    meera = await join(client, world, clerk, customer={"phone": "+91 91111 22222"})
    assert meera.status_code == 201 and meera.json()["position"] == 3
    assert meera.json()["customer"]["name"] == "Guest"
    _, self_serve = await make_user(session)
    assert (await join(client, world, auth(self_serve))).json()["position"] == 4


async def all_at_once(client: AsyncTestClient, posts: list[tuple[str, dict, dict]]) -> list:
    """POST these (url, body, headers) to the app concurrently. The test client sends one
    request at a time, so they go through an ASGI transport on the app's own event loop (its
    database pool lives there), each request on its own connection, truly at once."""

    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(
                *(http.post(url, json=body, headers=headers) for url, body, headers in posts)
            )

    return await asyncio.wrap_future(client.blocking_portal.start_task_soon(send))


AT_ONCE = 16


async def test_a_customer_joining_many_times_at_once_is_on_the_list_once(
    client, session, engine, world
) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    customer, token = await make_user(session)
    url = f"/api/v1/shows/{world.show_id}/waitlist"

    answers = await all_at_once(client, [(url, {"seats_wanted": 2}, auth(token))] * AT_ONCE)

    [joined] = [answer for answer in answers if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert len(refused) == AT_ONCE - 1
    for answer in refused:
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"] == "You are already on the waiting list for this show."
        assert answer.json()["entry_id"] == joined.json()["entry_id"]
    entries = await count(
        engine, "SELECT count(*) FROM waitlist_entries WHERE user_id = :u", u=customer.id
    )
    assert entries == 1


async def test_clerks_adding_one_new_customer_at_once_make_one_guest_and_one_entry(
    client, session, engine, world
) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    clerks = [await staff(session, Role.CLERK, world) for _ in range(2)]
    users_before = await count(engine, "SELECT count(*) FROM users")
    url = f"/api/v1/shows/{world.show_id}/waitlist"
    # The same walk-up customer, typed a little differently at each counter.
    typed = [
        {"name": "Asha Rao", "email": "asha.rao@example.test", "phone": "+91 98200 12345"},
        {"name": "Asha", "email": "ASHA.RAO@example.test"},
    ]
    posts = [
        (url, {"seats_wanted": 2, "customer": typed[n % 2]}, clerks[n % 2]) for n in range(AT_ONCE)
    ]

    answers = await all_at_once(client, posts)

    [joined] = [answer for answer in answers if answer.status_code == 201]
    for answer in answers:
        if answer is not joined:
            assert answer.status_code == 409, answer.text
            assert "is already on the waiting list for this show" in answer.json()["detail"]
    assert await count(engine, "SELECT count(*) FROM users") == users_before + 1
    assert await count(engine, "SELECT count(*) FROM waitlist_entries") == 1


@pytest.mark.parametrize(
    ("role", "body", "status", "field", "says"),
    [
        (Role.CUSTOMER, {"customer": ASHA}, 403, None, 'leave out "customer"'),
        (Role.KIOSK, {}, 403, None, "start a guest session"),
        (Role.CLERK, {}, 422, "customer", "give the customer"),
        (Role.THEATER_ADMIN, {}, 422, "customer", "name and e-mail or phone number"),
        (
            Role.CLERK,
            {"customer": {"name": "Asha", "email": "asha@"}},
            422,
            "customer.email",
            "'asha@' is not an e-mail address; type it like name@example.com",
        ),
        (
            Role.CLERK,
            {"customer": {"email": "asha@x.test", "phone": "98-20"}},
            422,
            "customer.phone",
            "is not a phone number; type 6 to 20 digits",
        ),
        (
            Role.CLERK,
            {"customer": {"phone": "(--) ----"}},
            422,
            "customer.phone",
            "too few digits",
        ),
        (
            Role.CLERK,
            {"customer": {"name": "Asha", "email": " "}},
            422,
            "customer",
            "needs the customer's e-mail address or phone number",
        ),
    ],
)
async def test_who_may_queue_whom_and_what_a_customer_needs(
    client, session, engine, world, role, body, status, field, says
) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    headers = await staff(session, role, world)
    answer = await join(client, world, headers, **body)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]
    assert answer.json().get("field") == field
    assert await count(engine, "SELECT count(*) FROM waitlist_entries") == 0


async def test_staff_of_another_theater_cannot_queue_for_this_show(
    client, session, world, clock
) -> None:
    other = await make_world(session, starts_at=clock.now() + timedelta(days=2), name_suffix=" B")
    elsewhere = await staff(session, Role.CLERK, other)
    answer = await join(client, world, elsewhere, customer=ASHA)
    assert answer.status_code == 403 and "not in one of your theaters" in answer.json()["detail"]


async def test_the_bookings_desk_finds_a_customers_entries_by_phone_or_email(
    client, session, world, clock
) -> None:
    owner, _ = await make_user(session)
    await sell_out(session, world, owner.id)
    clerk = await staff(session, Role.CLERK, world)
    await join(client, world, clerk, customer={"name": "Ravi", "email": "ravi@x.test"})
    await join(client, world, clerk, 3, customer=ASHA)

    for query in ({"phone": "98200 12345"}, {"email": "ASHA.RAO@example.test"}):
        found = await client.get("/api/v1/waitlist", params=query, headers=clerk)
        assert found.status_code == 200, found.text
        [entry] = found.json()
        assert entry["customer"]["name"] == "Asha Rao", query
        assert (entry["position"], entry["seats_wanted"], entry["status"]) == (2, 3, "WAITING")
    assert (
        await client.get("/api/v1/waitlist", params={"phone": "99999 99999"}, headers=clerk)
    ).json() == []

    other = await make_world(session, starts_at=clock.now() + timedelta(days=2), name_suffix=" B")
    elsewhere = await staff(session, Role.CLERK, other)
    theirs = await client.get(
        "/api/v1/waitlist", params={"email": ASHA["email"]}, headers=elsewhere
    )
    assert theirs.json() == []
    _, customer = await make_user(session)
    refused = await client.get(
        "/api/v1/waitlist", params={"email": ASHA["email"]}, headers=auth(customer)
    )
    assert refused.status_code == 403 and "box-office staff" in refused.json()["detail"]
    for bad in ({}, {"email": ASHA["email"], "phone": ASHA["phone"]}, {"email": "asha"}):
        assert (await client.get("/api/v1/waitlist", params=bad, headers=clerk)).status_code == 422
