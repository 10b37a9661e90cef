"""Show reminders against the real database and SMTP server: the job queues one reminder per
booking when the window opens and not before, none for cancelled bookings or shows, late
bookings or the last half hour, and exactly one even when two runs race."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.db.models import Booking, Show, SnackOrder, User
from server.domain.booking import reminders
from server.domain.notifications import worker
from server.infra.state import Services
from tests.factories import World, make_world
from tests.integration.test_notifications import make_booking, one
from tests.mailbox import Mailbox

HOURS = 3  # the default BMS_REMINDER_HOURS


async def booking_on(
    session: AsyncSession,
    world: World,
    code: str,
    *labels: str,
    made: datetime,
    show: int = 0,
    status: str = "CONFIRMED",
    role: Role = Role.CUSTOMER,
    **contact: str,
) -> Booking:
    """A booking of seats of the world's ``show``-th show, made at ``made``, by a buyer (or
    a clerk at the till) with the e-mail ``<code>@example.test``. (No login: hashing a
    password per booking would cost more than the test.)"""
    user = User(name=code.title(), email=f"{code.lower()}@example.test", role=role.value)
    session.add(user)
    await session.flush()
    on_show = replace(world, show_ids=[world.show_ids[show]])
    booking = await make_booking(session, on_show, user, *labels, code=code, **contact)
    await session.execute(
        update(Booking).where(Booking.id == booking.id).values(created_at=made, status=status)
    )
    await session.commit()
    return booking


async def reminded_codes(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT b.code FROM outbox o JOIN bookings b ON b.id = (o.payload->>'booking_id')::uuid"
            " WHERE o.topic = 'booking.reminder'"
        )
        return {row.code for row in rows}


async def test_a_reminder_goes_out_once_when_the_window_opens_and_not_before(
    services: Services,
    providers,
    session: AsyncSession,
    engine: AsyncEngine,
    clock: FrozenClock,
    mailbox: Mailbox,
) -> None:
    starts = clock.now() + timedelta(days=2)  # Sun 22 Nov 2026, 14:30 in Mumbai
    world = await make_world(session, starts_at=starts)
    booking = await booking_on(session, world, "K7PQ2M9X", "E7", "E8", made=clock.now())
    session.add(
        SnackOrder(booking_id=booking.id, pickup_code="HX42QP", lines=[], total_minor=15000)
    )
    await session.commit()

    assert await reminders.send_due(services) == 0
    clock.set(starts - timedelta(hours=HOURS, seconds=1))
    assert await reminders.send_due(services) == 0
    clock.advance(seconds=1)
    assert await reminders.send_due(services) == 1
    assert await worker.deliver_due(services, providers) == 1

    [message] = mailbox.messages
    assert message["To"] == "k7pq2m9x@example.test"
    assert message["Subject"] == "Reminder: Test Movie on Sun 22 Nov 14:30 (booking K7PQ2M9X)"
    body = message.get_content()
    for fact in (
        "Booking code   K7PQ2M9X",
        "When           Sun 22 Nov 2026, 14:30 IST",
        "Where          Test Cinema, Screen 1",
        "Seats          E7, E8",
        "Snacks         pickup code HX42QP at the snack counter",
    ):
        assert fact in body

    clock.advance(hours=1)
    assert await reminders.send_due(services) == 0
    assert await worker.deliver_due(services, providers) == 0
    assert len(mailbox.messages) == 1
    row = await one(engine, "SELECT reminded_at FROM bookings")
    assert row.reminded_at == starts - timedelta(hours=HOURS)


async def test_no_reminder_for_cancellations_late_bookings_walk_ups_or_the_last_half_hour(
    services: Services, session: AsyncSession, engine: AsyncEngine, clock: FrozenClock
) -> None:
    first = clock.now() + timedelta(days=2)
    world = await make_world(session, starts_at=first, shows=3)  # 3 h apart
    early = clock.now()
    for code, label, options in [
        ("REMIND01", "E1", {}),
        ("REMIND02", "E2", {"status": "PARTIALLY_CANCELLED"}),  # still holds a seat
        ("TILLMAIL", "E3", {"role": Role.CLERK, "contact_email": "walkup@example.test"}),
        ("CANCELED", "E4", {"status": "CANCELLED"}),
        ("REVIEW01", "E5", {"status": "REVIEW"}),  # not confirmed (yet)
        ("LATEBOOK", "E6", {"made": first - timedelta(hours=2, minutes=30)}),  # in the window
        ("TILLNONE", "E7", {"role": Role.CLERK}),  # a walk-up sale: nobody to tell
        ("SHOWGONE", "E1", {"show": 1}),
        ("TOOLATE1", "E1", {"show": 2}),
    ]:
        await booking_on(session, world, code, label, **{"made": early, **options})
    await session.execute(
        update(Show).where(Show.id == world.show_ids[1]).values(status="CANCELLED")
    )
    await session.commit()

    clock.set(first - timedelta(hours=2))
    assert await reminders.send_due(services) == 3
    assert await reminded_codes(engine) == {"REMIND01", "REMIND02", "TILLMAIL"}
    clock.set(first + timedelta(hours=1))  # the cancelled show is 2 h away
    assert await reminders.send_due(services) == 0
    clock.set(first + timedelta(hours=5, minutes=40))  # the last show is 20 minutes away
    assert await reminders.send_due(services) == 0
    assert await reminded_codes(engine) == {"REMIND01", "REMIND02", "TILLMAIL"}


async def test_two_job_runs_at_once_queue_each_reminder_exactly_once(
    services: Services,
    providers,
    session: AsyncSession,
    engine: AsyncEngine,
    clock: FrozenClock,
    mailbox: Mailbox,
) -> None:
    starts = clock.now() + timedelta(days=2)
    world = await make_world(session, starts_at=starts)
    codes = [f"RACE000{n}" for n in range(6)]
    for n, code in enumerate(codes):
        await booking_on(session, world, code, f"F{n + 1}", made=clock.now())
    # BMS_REMINDER_HOURS=24: a day ahead.
    day_ahead = replace(services, settings=replace(services.settings, reminder_hours=24))
    clock.set(starts - timedelta(hours=24))

    # Two runs at once, each on its own connection, in small batches so both find work.
    runs = await asyncio.gather(*(reminders.send_due(day_ahead, limit=2) for _ in range(2)))
    assert sum(runs) == len(codes)
    assert await reminders.send_due(day_ahead) == 0
    events = await one(engine, "SELECT count(*) AS n FROM outbox WHERE topic = 'booking.reminder'")
    assert events.n == len(codes)
    assert await reminded_codes(engine) == set(codes)

    assert await worker.drain(services, providers) == len(codes)
    assert sorted(m["To"] for m in mailbox.messages) == [
        f"{code.lower()}@example.test" for code in codes
    ]
