"""Every guarantee the schema itself makes, proven with raw rows the application never writes.

The application checks these rules too, but the database is the last line of defence: whatever
a buggy code path, a script or a race does, these rows are refused.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.db.models import Base
from tests.factories import World, make_world

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await make_world(
        session, starts_at=clock.now() + timedelta(days=2), layout="recliner-lounge-40"
    )


@pytest.fixture
async def user_id(engine: AsyncEngine) -> uuid.UUID:
    async with engine.begin() as conn:
        return await conn.scalar(
            text(
                "INSERT INTO users (name, email, role, is_guest, is_active, wallet_balance_minor,"
                " loyalty_points, preferences)"
                " VALUES ('Raw', :email, 'customer', false, true, 0, 0, '{}') RETURNING id"
            ),
            {"email": f"{uuid.uuid4().hex}@example.test"},
        )


async def execute(engine: AsyncEngine, sql: str, params: dict[str, object]) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(sql), params)


async def refused(engine: AsyncEngine, constraint: str, sql: str, params: dict[str, object]):
    """The statement fails, and it fails because of this constraint (not a typo or an FK)."""
    with pytest.raises(IntegrityError, match=constraint):
        await execute(engine, sql, params)


async def insert_booking(
    conn: AsyncConnection, show_id: uuid.UUID, user_id: uuid.UUID, clock: FrozenClock
) -> uuid.UUID:
    """A bare booking (and the hold it points at) with every amount zero."""
    hold_id = await conn.scalar(
        text(
            "INSERT INTO holds (show_id, buyer_id, status, kind, channel, accessible_request,"
            " expires_at) VALUES (:show, :user, 'CONVERTED', 'standard', 'online', false, :until)"
            " RETURNING id"
        ),
        {"show": show_id, "user": user_id, "until": clock.now() + timedelta(minutes=10)},
    )
    return await conn.scalar(
        text(
            "INSERT INTO bookings (code, user_id, show_id, hold_id, status, channel, currency,"
            " seats_minor, convenience_fee_minor, tax_minor, discount_minor, loyalty_minor,"
            " snacks_minor, total_minor, refunded_minor)"
            " VALUES (:code, :user, :show, :hold, 'CONFIRMED', 'online', 'INR',"
            " 0, 0, 0, 0, 0, 0, 0, 0) RETURNING id"
        ),
        {"code": uuid.uuid4().hex[:12], "user": user_id, "show": show_id, "hold": hold_id},
    )


async def bookings(
    engine: AsyncEngine, show_id: uuid.UUID, user_id: uuid.UUID, clock: FrozenClock, count: int
) -> list[uuid.UUID]:
    async with engine.begin() as conn:
        return [await insert_booking(conn, show_id, user_id, clock) for _ in range(count)]


INSERT_BOOKING_SEAT = (
    "INSERT INTO booking_seats (booking_id, seat_id, show_id, seat_type, price_minor, status)"
    " VALUES (:booking, :seat, :show, 'recliner', 60000, :status)"
)


INSERT_SHOW = (
    "INSERT INTO shows (movie_id, screen_id, theater_id, starts_at, ends_at, cleaning_ends_at,"
    " language, format, status, prices, version)"
    " VALUES (:movie, :screen, :theater, :starts, :ends, :clean, 'English', '2D', :status,"
    " '{}', 1)"
)


async def show_window(engine: AsyncEngine, show_id: uuid.UUID):
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT starts_at, ends_at, cleaning_ends_at FROM shows WHERE id = :id"),
                {"id": show_id},
            )
        ).one()


# The factory's movie runs 120 minutes and its theater cleans for 15 (the default).
SHOW_MINUTES = 120
CLEANING_MINUTES = 15


def show_params(world: World, starts, **extra) -> dict[str, object]:
    """A show of the factory's length and buffer on the world's screen."""
    return {
        "movie": world.movie_id,
        "screen": world.screen_id,
        "theater": world.theater_id,
        "starts": starts,
        "ends": starts + timedelta(minutes=SHOW_MINUTES),
        "clean": starts + timedelta(minutes=SHOW_MINUTES + CLEANING_MINUTES),
        "status": "SCHEDULED",
        **extra,
    }


# --- one seat, one active booking per show ------------------------------------------------------


async def test_a_seat_is_in_at_most_one_active_booking_per_show(
    engine, world: World, user_id, clock
) -> None:
    first, second, third = await bookings(engine, world.show_id, user_id, clock, 3)
    seat = {"seat": world.seats["C3"], "show": world.show_id}
    await execute(engine, INSERT_BOOKING_SEAT, {**seat, "booking": first, "status": "ACTIVE"})
    await refused(
        engine,
        "uq_booking_seats_active_seat",
        INSERT_BOOKING_SEAT,
        {**seat, "booking": second, "status": "ACTIVE"},
    )
    # A cancelled sale of the seat does not count: the seat may be sold again.
    await execute(
        engine,
        "UPDATE booking_seats SET status = 'CANCELLED', cancelled_at = now()"
        " WHERE booking_id = :booking",
        {"booking": first},
    )
    await execute(engine, INSERT_BOOKING_SEAT, {**seat, "booking": second, "status": "ACTIVE"})
    await execute(engine, INSERT_BOOKING_SEAT, {**seat, "booking": third, "status": "CANCELLED"})
    # Re-activating the cancelled row would make two active sales again.
    await refused(
        engine,
        "uq_booking_seats_active_seat",
        "UPDATE booking_seats SET status = 'ACTIVE' WHERE booking_id = :booking",
        {"booking": first},
    )


async def test_the_same_seat_may_be_sold_for_different_shows(
    engine, world: World, user_id, clock
) -> None:
    window = await show_window(engine, world.show_id)
    async with engine.begin() as conn:
        later = await conn.scalar(
            text(INSERT_SHOW + " RETURNING id"), show_params(world, window.cleaning_ends_at)
        )
    seat = world.seats["C3"]
    for show_id in (world.show_id, later):
        (booking,) = await bookings(engine, show_id, user_id, clock, 1)
        params = {"booking": booking, "seat": seat, "show": show_id, "status": "ACTIVE"}
        await execute(engine, INSERT_BOOKING_SEAT, params)
    async with engine.connect() as conn:
        active = await conn.scalar(
            text("SELECT count(*) FROM booking_seats WHERE seat_id = :seat AND status = 'ACTIVE'"),
            {"seat": seat},
        )
    assert active == 2


async def wait_until_waiting_on_a_lock(engine: AsyncEngine, pid: int) -> None:
    """Poll pg_stat_activity until that backend is stuck behind another transaction's lock."""
    async with engine.connect() as conn:
        for _ in range(500):
            waiting = await conn.scalar(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            )
            if waiting:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")


@pytest.mark.parametrize("first_outcome", ["commit", "rollback"])
async def test_concurrent_sales_of_one_seat_let_exactly_one_commit(
    engine, world: World, user_id, clock, first_outcome: str
) -> None:
    first_booking, second_booking = await bookings(engine, world.show_id, user_id, clock, 2)
    seat = {"seat": world.seats["D4"], "show": world.show_id, "status": "ACTIVE"}
    async with engine.connect() as first, engine.connect() as second:
        await first.execute(text(INSERT_BOOKING_SEAT), {**seat, "booking": first_booking})
        second_pid = await second.scalar(text("SELECT pg_backend_pid()"))

        async def second_sale() -> None:
            await second.execute(text(INSERT_BOOKING_SEAT), {**seat, "booking": second_booking})
            await second.commit()

        racing = asyncio.create_task(second_sale())
        # The second insert cannot decide before the first transaction does: it waits.
        await wait_until_waiting_on_a_lock(engine, second_pid)
        assert not racing.done()
        if first_outcome == "commit":
            await first.commit()
            with pytest.raises(IntegrityError, match="uq_booking_seats_active_seat"):
                await racing
            await second.rollback()
        else:
            await first.rollback()
            await racing
    async with engine.connect() as conn:
        owners = (
            await conn.scalars(
                text("SELECT booking_id FROM booking_seats WHERE seat_id = :seat"),
                {"seat": seat["seat"]},
            )
        ).all()
    assert owners == [first_booking if first_outcome == "commit" else second_booking]


# --- one live waiting-list entry per customer per show ----------------------------------------

INSERT_ENTRY = (
    "INSERT INTO waitlist_entries (show_id, user_id, seats_wanted, status)"
    " VALUES (:show, :user, 2, :status)"
)


async def test_a_customer_is_on_a_shows_waiting_list_once(engine, world: World, user_id) -> None:
    entry = {"show": world.show_id, "user": user_id}
    await execute(engine, INSERT_ENTRY, {**entry, "status": "WAITING"})
    for live in ("WAITING", "OFFERED"):
        await refused(
            engine,
            "uq_waitlist_entries_live_per_customer",
            INSERT_ENTRY,
            {**entry, "status": live},
        )
    # Entries that are over do not count: a customer may have had any number of them.
    for over in ("FULFILLED", "EXPIRED", "CANCELLED", "CANCELLED"):
        await execute(engine, INSERT_ENTRY, {**entry, "status": over})
    async with engine.begin() as conn:
        other = await conn.scalar(
            text(
                "INSERT INTO users (name, role, preferences) VALUES ('Someone else', 'customer',"
                " '{}') RETURNING id"
            )
        )
    await execute(engine, INSERT_ENTRY, {**entry, "user": other, "status": "WAITING"})
    # Once the live entry is over, the customer may join again; bringing the old one back
    # would make two.
    await execute(
        engine,
        "UPDATE waitlist_entries SET status = 'EXPIRED' WHERE show_id = :show AND user_id = :user"
        " AND status = 'WAITING'",
        entry,
    )
    await execute(engine, INSERT_ENTRY, {**entry, "status": "OFFERED"})
    await refused(
        engine,
        "uq_waitlist_entries_live_per_customer",
        "UPDATE waitlist_entries SET status = 'WAITING' WHERE show_id = :show AND user_id = :user"
        " AND status = 'EXPIRED'",
        entry,
    )


# --- shows never overlap on a screen ---------------------------------------------------------


async def test_overlapping_shows_on_one_screen_are_refused(engine, world: World) -> None:
    window = await show_window(engine, world.show_id)
    assert window.cleaning_ends_at > window.ends_at, "the factory's theater has a cleaning buffer"
    overlapping_starts = [
        window.starts_at,  # the same slot
        window.starts_at + timedelta(minutes=30),  # mid-show
        window.ends_at + timedelta(minutes=1),  # while the screen is being cleaned
        # a show whose own cleaning runs a minute into this one
        window.starts_at - timedelta(minutes=SHOW_MINUTES + CLEANING_MINUTES - 1),
    ]
    for starts in overlapping_starts:
        await refused(engine, "no_overlap_on_screen", INSERT_SHOW, show_params(world, starts))


async def test_shows_touching_at_the_buffer_end_are_fine(engine, world: World) -> None:
    window = await show_window(engine, world.show_id)
    # Ranges are half-open [start, cleaning end): back to back is not an overlap.
    await execute(engine, INSERT_SHOW, show_params(world, window.cleaning_ends_at))
    before = window.starts_at - timedelta(minutes=SHOW_MINUTES + CLEANING_MINUTES)
    await execute(engine, INSERT_SHOW, show_params(world, before))


async def test_a_cancelled_show_does_not_block_the_screen(engine, world: World) -> None:
    window = await show_window(engine, world.show_id)
    clash = window.starts_at + timedelta(minutes=30)
    await execute(engine, INSERT_SHOW, show_params(world, clash, status="CANCELLED"))
    await execute(
        engine, "UPDATE shows SET status = 'CANCELLED' WHERE id = :id", {"id": world.show_id}
    )
    await execute(engine, INSERT_SHOW, show_params(world, clash))
    # Bringing the cancelled show back would overlap the one that took its place.
    await refused(
        engine,
        "no_overlap_on_screen",
        "UPDATE shows SET status = 'SCHEDULED' WHERE id = :id",
        {"id": world.show_id},
    )


async def test_different_screens_do_not_conflict(engine, world: World) -> None:
    async with engine.begin() as conn:
        other_screen = await conn.scalar(
            text(
                "INSERT INTO screens (theater_id, name, formats, layout_name, layout_source,"
                " screen_side, width, height) VALUES (:theater, 'Screen 2', '{2D}', 'tiny', '',"
                " 'top', 1, 1) RETURNING id"
            ),
            {"theater": world.theater_id},
        )
    window = await show_window(engine, world.show_id)
    params = show_params(world, window.starts_at, screen=other_screen)
    await execute(engine, INSERT_SHOW, params)


# --- CHECK constraints -------------------------------------------------------------------------

SHOW_SEAT = "UPDATE show_seats SET {} WHERE show_id = :show AND seat_id = :seat"
INSERT_THEATER = (
    "INSERT INTO theaters (city_id, name, address, latitude, longitude, facilities,"
    " hold_minutes, cleaning_minutes, convenience_fee_minor, accessible_release_minutes,"
    " cancellation_policy) VALUES (:city, :name, '', 0, 0, '{{}}', {}, 15, 0, 60, '{{}}')"
)
INSERT_REVIEW = (
    "INSERT INTO reviews (movie_id, user_id, rating, body) VALUES (:movie, :user, {}, '')"
)
INSERT_COUPON = (
    "INSERT INTO coupons (code, kind, value, min_amount_minor, valid_from, valid_until,"
    " total_limit, used_count) VALUES (:code, 'flat', 5000, 0, now(), now() + interval '1 day',"
    " {}, {})"
)
SET_AMOUNTS = "UPDATE bookings SET {} WHERE id = :booking"
# A refund record: status, then settled_manually_at, settled_manually_by, settlement_note and
# gateway_refund_ref.
INSERT_REFUND = (
    "INSERT INTO refunds (booking_id, amount_minor, destination, status, reason,"
    " settled_manually_at, settled_manually_by, settlement_note, gateway_refund_ref)"
    " VALUES (:booking, 29500, 'original', '{}', 'cancelled', {}, {}, {}, {})"
)
SETTLED = ("now()", ":user", "'cash at the box office'")

# (constraint that must refuse it, statement)
REFUSED = {
    "blocked without hold": (
        "ck_show_seats_blocked_has_hold",
        SHOW_SEAT.format("status = 'BLOCKED', held_until = now()"),
    ),
    "blocked without expiry": (
        "ck_show_seats_blocked_has_hold",
        SHOW_SEAT.format("status = 'BLOCKED', hold_id = gen_random_uuid()"),
    ),
    "available but held": (
        "ck_show_seats_blocked_has_hold",
        SHOW_SEAT.format("hold_id = gen_random_uuid(), held_until = now()"),
    ),
    "booked without booking": (
        "ck_show_seats_booked_has_booking",
        SHOW_SEAT.format("status = 'BOOKED'"),
    ),
    "available but booked": (
        "ck_show_seats_booked_has_booking",
        SHOW_SEAT.format("booking_id = gen_random_uuid()"),
    ),
    "unknown seat status": (
        "ck_show_seats_status_valid",
        SHOW_SEAT.format("status = 'SOLD'"),
    ),
    "total does not add up": (
        "ck_bookings_total_adds_up",
        SET_AMOUNTS.format("seats_minor = 60000, tax_minor = 10800, total_minor = 70000"),
    ),
    "discount not subtracted": (
        "ck_bookings_total_adds_up",
        SET_AMOUNTS.format("seats_minor = 60000, discount_minor = 5000, total_minor = 60000"),
    ),
    "refund above total": (
        "ck_bookings_refund_within_total",
        SET_AMOUNTS.format("seats_minor = 60000, total_minor = 60000, refunded_minor = 60001"),
    ),
    "coupon used past its limit": ("ck_coupons_used_within_limit", INSERT_COUPON.format(3, 4)),
    "negative wallet": (
        "ck_users_wallet_balance_minor_not_negative",
        "UPDATE users SET wallet_balance_minor = -1 WHERE id = :user",
    ),
    "hold shorter than 10 minutes": (
        "ck_theaters_hold_minutes_range",
        INSERT_THEATER.format(9),
    ),
    "hold longer than 15 minutes": (
        "ck_theaters_hold_minutes_range",
        INSERT_THEATER.format(16),
    ),
    "rating 0": ("ck_reviews_rating_range", INSERT_REVIEW.format(0)),
    "rating 11": ("ck_reviews_rating_range", INSERT_REVIEW.format(11)),
    "settled manually by nobody": (
        "ck_refunds_settled_manually_complete",
        INSERT_REFUND.format("SUCCEEDED", "now()", "NULL", "'cash'", "NULL"),
    ),
    "settled manually without a note": (
        "ck_refunds_settled_manually_complete",
        INSERT_REFUND.format("SUCCEEDED", "now()", ":user", "NULL", "NULL"),
    ),
    "a settlement note on a refund nobody settled": (
        "ck_refunds_settled_manually_complete",
        INSERT_REFUND.format("FAILED", "NULL", "NULL", "'cash'", "NULL"),
    ),
    "settled manually but still FAILED": (
        "ck_refunds_settled_manually_succeeded",
        INSERT_REFUND.format("FAILED", *SETTLED, "NULL"),
    ),
    "settled manually and refunded by the gateway": (
        "ck_refunds_settled_manually_succeeded",
        INSERT_REFUND.format("SUCCEEDED", *SETTLED, "'re_1'"),
    ),
}

# The edge values the same constraints must still let through.
ACCEPTED = {
    "blocked with hold and expiry": SHOW_SEAT.format(
        "status = 'BLOCKED', hold_id = gen_random_uuid(), held_until = now()"
    ),
    "booked with booking": SHOW_SEAT.format("status = 'BOOKED', booking_id = gen_random_uuid()"),
    "unavailable": SHOW_SEAT.format("status = 'UNAVAILABLE'"),
    "total with every part": SET_AMOUNTS.format(
        "seats_minor = 60000, convenience_fee_minor = 3000, tax_minor = 11340,"
        " snacks_minor = 20000, discount_minor = 5000, loyalty_minor = 1000, total_minor = 88340"
    ),
    "refund of everything": SET_AMOUNTS.format(
        "seats_minor = 60000, total_minor = 60000, refunded_minor = 60000"
    ),
    "coupon used up exactly": INSERT_COUPON.format(3, 3),
    "coupon without a limit": INSERT_COUPON.format("NULL", 1000),
    "empty wallet": "UPDATE users SET wallet_balance_minor = 0 WHERE id = :user",
    "hold of 10 minutes": INSERT_THEATER.format(10),
    "hold of 15 minutes": INSERT_THEATER.format(15),
    "rating 1": INSERT_REVIEW.format(1),
    "rating 10": INSERT_REVIEW.format(10),
    "settled manually": INSERT_REFUND.format("SUCCEEDED", *SETTLED, "NULL"),
    "refunded by the gateway": INSERT_REFUND.format("SUCCEEDED", "NULL", "NULL", "NULL", "'re_1'"),
    "failed at the gateway": INSERT_REFUND.format("FAILED", "NULL", "NULL", "NULL", "NULL"),
}


@pytest.fixture
async def row_ids(engine, world: World, user_id, clock) -> dict[str, object]:
    """Every bind parameter the CHECK statements use."""
    (booking,) = await bookings(engine, world.show_id, user_id, clock, 1)
    return {
        "show": world.show_id,
        "seat": world.seats["B2"],
        "booking": booking,
        "user": user_id,
        "movie": world.movie_id,
        "city": world.city_id,
        "name": f"Raw Cinema {uuid.uuid4().hex[:6]}",
        "code": uuid.uuid4().hex[:12],
    }


@pytest.mark.parametrize(("constraint", "sql"), REFUSED.values(), ids=REFUSED.keys())
async def test_check_refuses(engine, row_ids, constraint: str, sql: str) -> None:
    await refused(engine, constraint, sql, row_ids)


@pytest.mark.parametrize("sql", ACCEPTED.values(), ids=ACCEPTED.keys())
async def test_check_accepts_the_edge(engine, row_ids, sql: str) -> None:
    await execute(engine, sql, row_ids)


async def test_concurrent_coupon_redemptions_stop_at_the_limit(engine) -> None:
    async with engine.begin() as conn:
        coupon = await conn.scalar(
            text(INSERT_COUPON.format(3, 0) + " RETURNING id"), {"code": "LIMIT3"}
        )

    async def redeem() -> bool:
        try:
            await execute(
                engine,
                "UPDATE coupons SET used_count = used_count + 1 WHERE id = :id",
                {"id": coupon},
            )
        except IntegrityError as exc:
            assert "ck_coupons_used_within_limit" in str(exc)
            return False
        return True

    outcomes = await asyncio.gather(*(redeem() for _ in range(12)))
    assert outcomes.count(True) == 3
    async with engine.connect() as conn:
        used = await conn.scalar(
            text("SELECT used_count FROM coupons WHERE id = :id"), {"id": coupon}
        )
    assert used == 3


# --- column types ------------------------------------------------------------------------------

FLOAT_TYPES = {"real", "double precision", "numeric", "money"}
# Map coordinates are the only inexact numbers in the schema, and they are not money.
COORDINATES = {("theaters", "latitude"), ("theaters", "longitude")}
# Integer amounts whose names do not end in _minor: flat coupon values and loyalty points.
OTHER_AMOUNTS = {("coupons", "value"), ("users", "loyalty_points"), ("loyalty_ledger", "points")}


async def public_columns(engine: AsyncEngine) -> list:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT c.table_name, c.column_name, c.data_type"
                    " FROM information_schema.columns c JOIN information_schema.tables t"
                    " ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                    " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
                )
            )
        ).all()


async def test_the_inspection_covers_every_table(engine) -> None:
    tables = {row.table_name for row in await public_columns(engine)}
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


async def test_money_is_integer_everywhere(engine) -> None:
    columns = await public_columns(engine)
    inexact = {(r.table_name, r.column_name) for r in columns if r.data_type in FLOAT_TYPES}
    assert inexact == COORDINATES
    amounts = {
        (r.table_name, r.column_name): r.data_type
        for r in columns
        if r.column_name.endswith("_minor") or (r.table_name, r.column_name) in OTHER_AMOUNTS
    }
    assert {table for table, _ in amounts} >= {
        "bookings",
        "booking_seats",
        "hold_seats",
        "payments",
        "refunds",
        "wallet_ledger",
        "coupons",
        "users",
        "theaters",
        "snack_items",
        "snack_orders",
    }
    assert set(amounts.values()) == {"bigint"}, amounts


async def test_every_timestamp_is_timezone_aware(engine) -> None:
    columns = await public_columns(engine)
    naive = [(r.table_name, r.column_name) for r in columns if "without time zone" in r.data_type]
    assert naive == []
    aware = {(r.table_name, r.column_name) for r in columns if r.data_type.startswith("timestamp")}
    moments = {
        (r.table_name, r.column_name)
        for r in columns
        if r.column_name == "at" or r.column_name.endswith(("_at", "_until", "_from"))
    }
    assert moments <= aware, moments - aware
    assert ("show_seats", "held_until") in aware and ("shows", "starts_at") in aware
