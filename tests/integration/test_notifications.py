"""Notifications against a real SMTP server (aiosmtpd on a loopback port) and the real
database: a booking's e-mail arrives through the background worker; a mail server that is
down is retried after the backoff and never loses the message; concurrent workers send once;
a crash after sending does not send again; unknown topics and refused addresses are closed,
not retried forever; files stand in when nothing is configured; SMS go to a gateway."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.contracts.notifications import Announcement
from server.db.models import Booking, BookingSeat, Hold, User
from server.domain.notifications import queries, worker
from server.domain.notifications.outbox import enqueue
from server.domain.notifications.providers import build_providers, load_settings
from tests.conftest import free_port
from tests.factories import World, make_user
from tests.integration.test_checkout import (
    add_snack,
    book,
    hold_seats,
    new_buyer,
    new_world,
    pay_by_card,
)
from tests.polling import eventually

WHEN = "Sun 22 Nov 2026, 14:30 IST"  # the clock fixture's now + 2 days, on Mumbai's clock


@pytest.fixture
def client(mailbox, client):
    """The app, started after the mailbox so its background worker sends there too."""
    return client


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await new_world(session, clock)


async def one(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).one()


async def make_booking(
    session: AsyncSession,
    world: World,
    user: User,
    *labels: str,
    code: str = "K7PQ2M9X",
    **contact: str,
) -> Booking:
    """A confirmed booking's rows as checkout leaves them (no payment: nobody reads it here)."""
    hold = Hold(
        show_id=world.show_id,
        buyer_id=user.id,
        status="CONVERTED",
        channel="online",
        expires_at=func.now(),
    )
    session.add(hold)
    await session.flush()
    booking = Booking(
        code=code,
        user_id=user.id,
        show_id=world.show_id,
        hold_id=hold.id,
        status="CONFIRMED",
        channel="online",
        currency="INR",
        seats_minor=25000 * len(labels),
        total_minor=25000 * len(labels),
        **contact,
    )
    session.add(booking)
    await session.flush()
    session.add_all(
        BookingSeat(
            booking_id=booking.id,
            seat_id=world.seats[label],
            show_id=world.show_id,
            seat_type="regular",
            price_minor=25000,
        )
        for label in labels
    )
    await session.commit()
    return booking


async def confirm(session: AsyncSession, booking: Booking, *labels: str) -> int:
    """The outbox event checkout writes, with the same fields."""
    event_id = await enqueue(
        session,
        "booking.confirmed",
        {
            "booking_id": str(booking.id),
            "code": booking.code,
            "status": "CONFIRMED",
            "user_id": str(booking.user_id),
            "show_id": str(booking.show_id),
            "seats": list(labels),
            "total_minor": booking.total_minor,
            "currency": "INR",
        },
    )
    await session.commit()
    return event_id


# -- end to end ------------------------------------------------------------------------------


async def test_booking_through_the_api_sends_its_email(
    client, session, engine, world, mailbox
) -> None:
    _, headers = await new_buyer(session)
    popcorn = await add_snack(session, world, "Popcorn", 15000)
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    answer = await book(
        client,
        headers,
        hold_id,
        [pay_by_card()],
        contact={"email": "ann@example.test"},
        snacks=[{"item_id": str(popcorn.id), "quantity": 1}],
    )
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    code, pickup = booking["code"], booking["ticket"]["snack_pickup_code"]

    # Nobody calls the worker: the app's background job delivers it.
    async def arrived() -> bool:
        return bool(mailbox.messages)

    await eventually(arrived, "the confirmation e-mail")
    [message] = mailbox.messages
    # The booking's contact address wins over the account's own.
    assert message["To"] == "ann@example.test"
    assert message["From"] == "Test Cinema <tickets@cinema.example.test>"
    assert code in message["Subject"]
    body = message.get_content()
    assert f"Booking code   {code}" in body
    assert "Seats          E7, E8" in body
    assert f"When           {WHEN}" in body
    total = booking["amounts"]["total_minor"]
    assert f"Total paid     {total // 100}.{total % 100:02d} INR" in body
    assert f"pickup code {pickup}" in body

    async def closed() -> bool:
        row = await one(engine, "SELECT processed_at FROM outbox")
        return row.processed_at is not None

    await eventually(closed, "the outbox event to be closed")
    event = await one(engine, "SELECT attempts, last_error FROM outbox")
    assert (event.attempts, event.last_error) == (1, None)
    note = await one(engine, "SELECT status, recipient, sent_at, dedupe_key FROM notifications")
    assert (note.status, note.recipient) == ("SENT", "ann@example.test")
    assert note.sent_at is not None and note.dedupe_key.endswith(":email:ann@example.test")


async def test_a_partial_cancellation_emails_that_the_ticket_was_reissued(
    client, session, world, mailbox
) -> None:
    _, headers = await new_buyer(session)
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    answer = await book(
        client, headers, hold_id, [pay_by_card()], contact={"email": "ann@example.test"}
    )
    assert answer.status_code == 201, answer.text
    code, old_qr = answer.json()["code"], answer.json()["ticket"]["qr_payload"]
    cancelled = await client.post(
        f"/api/v1/bookings/{code}/cancel",
        json={"seat_ids": [str(world.seats["E7"])], "confirm": True},
        headers=headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    ticket = (await client.get(f"/api/v1/bookings/{code}", headers=headers)).json()["ticket"]
    assert ticket["seats"] == ["E8"] and ticket["qr_payload"] != old_qr

    async def cancellation_mail() -> list[EmailMessage]:
        return [m for m in mailbox.messages if m["Subject"].startswith("Seats cancelled")]

    [message] = await eventually(cancellation_mail, "the cancellation e-mail")
    assert message["To"] == "ann@example.test"
    assert message["Subject"] == f"Seats cancelled in booking {code}"
    body = " ".join(message.get_content().split())  # unwrapped, whatever the line breaks
    assert f"We have cancelled seat E7 of your booking {code}" in body
    assert "You still hold seat E8, on a new ticket: its QR code replaces the old one" in body
    old_ticket = "the ticket you had before (printed, downloaded or in a screenshot) no longer"
    assert f"{old_ticket} opens the door" in body
    assert f"your booking code {code} stays the same" in body


# -- retries ---------------------------------------------------------------------------------


async def test_smtp_down_is_retried_after_the_backoff_and_not_lost(
    services, providers, session, engine, clock, world, mailbox
) -> None:
    user, _ = await make_user(session, email="ann@example.test")
    booking = await make_booking(session, world, user, "E7", "E8")
    await confirm(session, booking, "E7", "E8")
    mailbox.stop()

    assert await worker.deliver_due(services, providers) == 1
    event = await one(engine, "SELECT attempts, processed_at, last_error FROM outbox")
    assert event.attempts == 1 and event.processed_at is None
    assert "mail server 127.0.0.1" in event.last_error
    note = await one(engine, "SELECT status, error FROM notifications")
    assert note.status == "PENDING" and note.error

    # Not due yet: nothing is tried before the first retry delay (30 s) has passed.
    mailbox.start()
    assert await worker.deliver_due(services, providers) == 0
    clock.advance(seconds=29)
    assert await worker.deliver_due(services, providers) == 0
    clock.advance(seconds=2)
    assert await worker.deliver_due(services, providers) == 1

    [message] = mailbox.messages
    assert message["To"] == "ann@example.test" and "K7PQ2M9X" in message["Subject"]
    event = await one(engine, "SELECT attempts, processed_at, last_error FROM outbox")
    assert event.attempts == 2 and event.processed_at == clock.now() and event.last_error is None
    note = await one(engine, "SELECT status, sent_at, error FROM notifications")
    assert (note.status, note.sent_at, note.error) == ("SENT", clock.now(), None)


async def test_gives_up_after_the_last_attempt_keeping_the_error(
    services, providers, session, engine, clock, world, mailbox
) -> None:
    user, _ = await make_user(session, email="ann@example.test")
    await confirm(session, await make_booking(session, world, user, "E7"), "E7")
    mailbox.stop()
    for attempt in range(1, worker.MAX_ATTEMPTS + 1):
        assert await worker.deliver_due(services, providers) == 1
        clock.advance(worker.retry_delay(attempt))
    assert await worker.deliver_due(services, providers) == 0
    event = await one(engine, "SELECT attempts, processed_at, last_error FROM outbox")
    assert event.attempts == worker.MAX_ATTEMPTS and event.processed_at is not None
    assert "mail server 127.0.0.1" in event.last_error
    assert (await one(engine, "SELECT status FROM notifications")).status == "FAILED"


async def test_a_refused_address_fails_at_once_without_retries(
    services, providers, session, engine, world, mailbox
) -> None:
    user, _ = await make_user(session, email="gone@example.test")
    await confirm(session, await make_booking(session, world, user, "E7"), "E7")
    mailbox.refused.add("gone@example.test")
    assert await worker.deliver_due(services, providers) == 1
    event = await one(engine, "SELECT attempts, processed_at, last_error FROM outbox")
    assert event.attempts == 1 and event.processed_at is not None
    assert "refused the address" in event.last_error
    note = await one(engine, "SELECT status, error FROM notifications")
    assert note.status == "FAILED" and "550" in note.error
    assert not mailbox.messages


async def confirmed_buyers(
    session: AsyncSession, world: World, addresses: list[str], code_prefix: str
) -> None:
    """One confirmed booking (seat E1, E2, ...) with its outbox event per e-mail address."""
    for n, address in enumerate(addresses):
        user, _ = await make_user(session, email=address)
        booking = await make_booking(session, world, user, f"E{n + 1}", code=f"{code_prefix}{n}")
        await confirm(session, booking, f"E{n + 1}")


# -- exactly once ----------------------------------------------------------------------------


async def test_two_workers_at_once_send_each_message_exactly_once(
    services, providers, session, engine, world, mailbox
) -> None:
    addresses = [f"buyer{n}@example.test" for n in range(6)]
    await confirmed_buyers(session, world, addresses, "CODE000")

    handled = 0
    while True:
        # Two passes at once, each on its own connection, small batches so both get work.
        passes = await asyncio.gather(
            worker.deliver_due(services, providers, limit=2),
            worker.deliver_due(services, providers, limit=2),
        )
        if not any(passes):
            break
        handled += sum(passes)
    assert handled == len(addresses)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)
    sent = await one(engine, "SELECT count(*) AS n FROM notifications WHERE status = 'SENT'")
    assert sent.n == len(addresses)


async def test_the_job_works_off_a_backlog_at_once_not_a_batch_a_second(
    services, providers, session, engine, world, mailbox
) -> None:
    addresses = [f"buyer{n}@example.test" for n in range(7)]
    await confirmed_buyers(session, world, addresses, "CODE100")

    # Batches of two: four passes in one run of the job, the last one short.
    assert await worker.drain(services, providers, limit=2) == len(addresses)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)
    pending = await one(engine, "SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL")
    assert pending.n == 0
    assert await worker.drain(services, providers, limit=2) == 0


async def test_a_crash_after_sending_does_not_send_again(
    services, providers, session, engine, world, clock, mailbox
) -> None:
    user, _ = await make_user(session, email="ann@example.test")
    event_id = await confirm(session, await make_booking(session, world, user, "E7"), "E7")
    # What a worker that died between sending and closing the event leaves behind.
    await session.execute(
        text(
            "INSERT INTO notifications (user_id, channel, recipient, subject, body, status,"
            " dedupe_key, sent_at) VALUES (:user, 'email', 'ann@example.test', 's', 'b',"
            " 'SENT', :key, :now)"
        ),
        {"user": user.id, "key": f"{event_id}:email:ann@example.test", "now": clock.now()},
    )
    await session.commit()
    assert await worker.deliver_due(services, providers) == 1
    assert not mailbox.messages
    assert (await one(engine, "SELECT processed_at FROM outbox")).processed_at is not None
    assert (await one(engine, "SELECT count(*) AS n FROM notifications")).n == 1


async def test_a_claim_left_by_a_worker_that_died_waits_out_its_lease_only(
    services, providers, engine, session, world, clock, mailbox
) -> None:
    user, _ = await make_user(session, email="ann@example.test")
    await confirm(session, await make_booking(session, world, user, "E7"), "E7")
    # A worker claims the event and dies before sending anything.
    async with engine.begin() as conn:
        now = clock.now()
        claimed = await queries.claim_due(conn, now=now, lease_until=now + worker.LEASE, limit=5)
    assert len(claimed) == 1
    assert await worker.deliver_due(services, providers) == 0  # not while the lease runs
    clock.advance(worker.LEASE)
    assert await worker.deliver_due(services, providers) == 1
    assert [m["To"] for m in mailbox.messages] == ["ann@example.test"]
    event = await one(engine, "SELECT attempts, processed_at FROM outbox")
    assert event.attempts == 1 and event.processed_at == clock.now()


class HeldMailer:
    """An e-mail provider that holds messages (every one, or only those to ``address``) until
    the test lets them through, like a mail server that takes minutes to answer."""

    def __init__(self, real: Any, address: str | None = None) -> None:
        self.real = real
        self.address = address
        self.sending = asyncio.Event()
        self.let_through = asyncio.Event()

    async def send(self, message: Any) -> None:
        if self.address in (None, message.to):
            self.sending.set()
            await self.let_through.wait()
        await self.real.send(message)


async def test_a_slow_delivery_keeps_its_claim_and_holds_no_transaction(
    services, providers, engine, session, world, clock, mailbox
) -> None:
    user, _ = await make_user(session, email="ann@example.test")
    await confirm(session, await make_booking(session, world, user, "E7"), "E7")
    held = HeldMailer(providers.email)
    slow = worker.deliver_due(services, replace(providers, email=held), renew_every=0.02)
    first = asyncio.create_task(slow)
    try:
        await asyncio.wait_for(held.sending.wait(), 10)

        async def no_open_transaction() -> bool:
            # Each lease renewal is a short transaction of its own: one may be caught between
            # its statements, but a transaction kept open across the held send never ends.
            async with engine.connect() as conn:
                open_transactions = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state LIKE 'idle in transaction%'"
                    )
                )
            return open_transactions == 0

        await eventually(no_open_transaction, "no transaction open during the send", 5)
        clock.advance(worker.LEASE * 3)  # long past the first lease: only renewals keep it

        async def renewed_past_now() -> bool:
            due = await one(engine, "SELECT next_attempt_at FROM outbox")
            return bool(due.next_attempt_at > clock.now())

        await eventually(renewed_past_now, "the lease renewed past the clock")
        assert await worker.deliver_due(services, providers) == 0  # a second worker keeps off
    finally:
        held.let_through.set()  # a failed check must not leave the worker renewing forever
    assert await asyncio.wait_for(first, 10) == 1
    assert [m["To"] for m in mailbox.messages] == ["ann@example.test"]


async def test_one_slow_recipient_does_not_hold_up_the_rest_of_the_pass(
    services, providers, session, world, mailbox
) -> None:
    addresses = ["slow@example.test", "bob@example.test", "cyd@example.test"]
    await confirmed_buyers(session, world, addresses, "CODE200")
    held = HeldMailer(providers.email, "slow@example.test")
    run = asyncio.create_task(worker.deliver_due(services, replace(providers, email=held)))
    try:
        await asyncio.wait_for(held.sending.wait(), 10)

        async def others_sent() -> bool:
            return sorted(m["To"] for m in mailbox.messages) == sorted(addresses[1:])

        await eventually(others_sent, "the other two e-mails while the first is held")
    finally:
        held.let_through.set()
    assert await asyncio.wait_for(run, 10) == 3
    assert sorted(m["To"] for m in mailbox.messages) == sorted(addresses)


# -- events that cannot be delivered ---------------------------------------------------------


async def test_an_unknown_topic_is_closed_with_a_warning_not_retried(
    services, providers, session, engine, caplog
) -> None:
    await session.execute(
        text("INSERT INTO outbox (topic, payload) VALUES ('loyalty.tier_changed', '{}')")
    )
    await session.commit()
    with caplog.at_level(logging.WARNING, logger="bms.notifications"):
        assert await worker.deliver_due(services, providers) == 1
    assert "no template for topic 'loyalty.tier_changed'" in caplog.text
    event = await one(engine, "SELECT attempts, processed_at, last_error FROM outbox")
    assert event.attempts == 1 and event.processed_at is not None
    assert "no template" in event.last_error
    assert await worker.deliver_due(services, providers) == 0


async def test_a_bad_payload_is_closed_with_the_reason(
    services, providers, session, engine
) -> None:
    await session.execute(
        text(
            "INSERT INTO outbox (topic, payload)"
            " VALUES ('booking.confirmed', '{\"booking_id\": \"not-a-uuid\"}')"
        )
    )
    await session.commit()
    assert await worker.deliver_due(services, providers) == 1
    event = await one(engine, "SELECT processed_at, last_error FROM outbox")
    assert event.processed_at is not None and "does not fit topic" in event.last_error


async def test_enqueue_refuses_unknown_topics_and_misshapen_payloads(session) -> None:
    with pytest.raises(ValueError, match="no notification template"):
        await enqueue(session, "booking.confrimed", {})
    with pytest.raises(ValueError, match="does not fit"):
        await enqueue(session, "booking.cancelled", {"booking_id": "B-1"})
    event_id = await enqueue(session, "announcement", Announcement(subject="s", message="m"))
    assert isinstance(event_id, int)


# -- recipients ------------------------------------------------------------------------------


async def test_guests_walk_up_sales_and_waitlist_offers_reach_the_right_people(
    services, providers, session, engine, world, clock, mailbox
) -> None:
    guest = User(
        name="Gita", role="customer", is_guest=True, preferences={"contact_email": "gita@x.test"}
    )
    session.add(guest)
    await session.commit()
    await confirm(session, await make_booking(session, world, guest, "E7", code="GUEST001"), "E7")
    clerk, _ = await make_user(session, role=Role.CLERK, email="clerk@cinema.test")
    walk_up = await make_booking(session, world, clerk, "E8", code="TILL0001")
    walk_up_event = await confirm(session, walk_up, "E8")
    await enqueue(
        session,
        "waitlist.offered",
        {
            "entry_id": str(uuid.uuid4()),
            "user_id": str(guest.id),
            "show_id": str(world.show_id),
            "hold_id": str(uuid.uuid4()),
            "seat_ids": [str(world.seats["F1"])],
            "expires_at": (clock.now() + timedelta(minutes=10)).isoformat(),
        },
    )
    await session.commit()

    assert await worker.deliver_due(services, providers) == 3
    [confirmation, offer] = mailbox.to("gita@x.test")
    assert "GUEST001" in confirmation["Subject"] and "Hello Gita," in confirmation.get_content()
    assert "1 seat opened up" in offer.get_content()
    assert "until Fri 20 Nov 2026, 14:40 IST" in offer.get_content()
    # The clerk who sold at the till is not told about the customer's ticket.
    assert not mailbox.to("clerk@cinema.test")
    till = await one(
        engine, "SELECT processed_at, last_error FROM outbox WHERE id = :id", id=walk_up_event
    )
    assert till.processed_at is not None and "nobody to tell" in till.last_error


async def test_an_announcement_reaches_a_shows_audience_and_named_users(
    services, providers, session, engine, world, mailbox
) -> None:
    ann, _ = await make_user(session, email="ann@example.test")
    bob, _ = await make_user(session, email="bob@example.test")
    await make_booking(session, world, ann, "E7", code="ANNBOOK1")
    await make_booking(session, world, bob, "E8", code="BOBBOOK1", contact_email="bob@work.test")
    named, _ = await make_user(session, email="named@example.test")
    await enqueue(
        session,
        "announcement",
        Announcement(
            subject="Screen 1 has a new sound system",
            message="Come and hear it.",
            show_id=world.show_id,
            user_ids=[named.id, ann.id],
        ),
    )
    await session.commit()
    assert await worker.deliver_due(services, providers) == 1
    assert sorted(m["To"] for m in mailbox.messages) == [
        "ann@example.test",
        "bob@work.test",
        "named@example.test",
    ]
    [to_ann] = mailbox.to("ann@example.test")
    assert "This is about your booking ANNBOOK1" in to_ann.get_content()
    assert "booking" not in mailbox.to("named@example.test")[0].get_content()


# -- providers -------------------------------------------------------------------------------


@pytest.fixture
async def sms_gateway() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny HTTP SMS gateway on a loopback port, keeping what it is asked to send."""
    received: list[dict[str, Any]] = []

    async def take(request: web.Request) -> web.Response:
        received.append(json.loads(await request.text()))
        return web.json_response({"queued": True})

    app = web.Application()
    app.router.add_post("/sms", take)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/sms", received
    await runner.cleanup()


async def test_without_smtp_email_goes_to_a_file_and_sms_to_the_gateway(
    services, session, engine, world, tmp_path, sms_gateway
) -> None:
    url, texts = sms_gateway
    drop = tmp_path / "drop"
    providers = build_providers(load_settings({"BMS_SMS_PROVIDER": url}), drop)
    user, _ = await make_user(session, email="ann@example.test")
    booking = await make_booking(session, world, user, "E7", contact_phone="+91 98200 00000")
    await confirm(session, booking, "E7")
    assert await worker.deliver_due(services, providers) == 1

    logged = (drop / "email.log").read_text()
    assert "to ann@example.test" in logged and "Booking code   K7PQ2M9X" in logged
    assert [t["to"] for t in texts] == ["+91 98200 00000"]
    assert "K7PQ2M9X" in texts[0]["text"] and "seat E7" in texts[0]["text"]
    rows = await session.execute(text("SELECT channel, status FROM notifications ORDER BY 1"))
    assert [tuple(r) for r in rows] == [("email", "SENT"), ("sms", "SENT")]
