"""The seat state machine against a tiny in-memory model, driven by Hypothesis.

Hypothesis picks a sequence of holds, releases, clock jumps, sweeps, admin repairs, sales and
cancellations on a few seats of one show. After every step the real database must agree with
the model, and the invariants that protect buyers must hold.

Hypothesis' stateful runner is synchronous, so the machine owns a private event loop and
engine; the pytest session loop is never re-entered.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine

from server.contracts.enums import HoldStatus, SeatStatus
from server.db.models import User
from server.domain.inventory import queries
from server.domain.inventory.queries import HoldTarget, TakeResult
from server.infra.database import driver_of
from tests.conftest import Backend
from tests.factories import make_world

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOLD_MINUTES = 10
# Few seats and buyers, so holds collide often; no wheelchair/companion seats (sold apart).
SEAT_LABELS = ("B1", "B2", "B3", "B4", "C1", "C2")
BUYERS = 3

AVAILABLE = SeatStatus.AVAILABLE.value
BLOCKED = SeatStatus.BLOCKED.value
BOOKED = SeatStatus.BOOKED.value
UNAVAILABLE = SeatStatus.UNAVAILABLE.value


@dataclass(frozen=True)
class SeatState:
    """One show_seats row as the model expects it, column for column."""

    status: str = AVAILABLE
    hold_id: uuid.UUID | None = None
    held_until: datetime | None = None
    booking_id: uuid.UUID | None = None


@dataclass
class ModelHold:
    seat_ids: tuple[uuid.UUID, ...]
    expires_at: datetime
    status: str = HoldStatus.ACTIVE.value


# There is no checkout service yet: the minimal SQL a sale and a cancellation must perform.
CONVERT_HOLD = """
UPDATE holds SET status = 'CONVERTED', ended_at = :now
 WHERE id = :hold AND status = 'ACTIVE' AND expires_at > :now
RETURNING buyer_id
"""
INSERT_BOOKING = """
INSERT INTO bookings (id, code, user_id, show_id, hold_id, status, channel, currency,
                      seats_minor, convenience_fee_minor, tax_minor, discount_minor,
                      loyalty_minor, snacks_minor, total_minor, refunded_minor, confirmed_at)
SELECT :booking, :code, :buyer, :show, :hold, 'CONFIRMED', 'online', 'INR',
       sum(price_minor), 0, 0, 0, 0, 0, sum(price_minor), 0, :now
  FROM hold_seats WHERE hold_id = :hold
"""
BOOK_SEATS = """
WITH booked AS (
    UPDATE show_seats
       SET status = 'BOOKED', booking_id = :booking, hold_id = NULL, held_until = NULL,
           version = version + 1
     WHERE show_id = :show AND hold_id = :hold AND status = 'BLOCKED' AND held_until > :now
    RETURNING seat_id
)
INSERT INTO booking_seats (booking_id, seat_id, show_id, seat_type, price_minor, status)
SELECT :booking, hs.seat_id, :show, hs.seat_type, hs.price_minor, 'ACTIVE'
  FROM hold_seats hs JOIN booked b ON b.seat_id = hs.seat_id
 WHERE hs.hold_id = :hold
RETURNING seat_id
"""
CANCEL_BOOKING = """
WITH booking AS (
    UPDATE bookings SET status = 'CANCELLED', cancelled_at = :now
     WHERE id = :booking AND status = 'CONFIRMED'
), sold AS (
    UPDATE booking_seats SET status = 'CANCELLED', cancelled_at = :now
     WHERE booking_id = :booking AND status = 'ACTIVE'
)
UPDATE show_seats SET status = 'AVAILABLE', booking_id = NULL, version = version + 1
 WHERE show_id = :show AND booking_id = :booking AND status = 'BOOKED'
RETURNING seat_id
"""
# Admin repair (a broken recliner): only a seat nobody holds or owns can be taken out of sale.
MARK_UNAVAILABLE = f"""
UPDATE show_seats ss
   SET status = 'UNAVAILABLE', hold_id = NULL, held_until = NULL,
       unavailable_reason = 'repair', version = ss.version + 1
 WHERE ss.show_id = :show AND ss.seat_id = :seat AND {queries.FREE}
RETURNING seat_id
"""
MARK_AVAILABLE = """
UPDATE show_seats
   SET status = 'AVAILABLE', unavailable_reason = NULL, version = version + 1
 WHERE show_id = :show AND seat_id = :seat AND status = 'UNAVAILABLE'
RETURNING seat_id
"""


BUYER = st.integers(0, BUYERS - 1)
PICKS = st.sets(st.integers(0, len(SEAT_LABELS) - 1), min_size=1, max_size=3)


class SeatMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    bookings = Bundle("bookings")

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine: AsyncEngine = create_async_engine(database_url, pool_size=2)
        self.now = START
        self.show_id, self.seat_ids, self.buyer_ids = self.run(self.build())
        self.seats = {seat_id: SeatState() for seat_id in self.seat_ids}
        self.model_holds: dict[uuid.UUID, ModelHold] = {}
        self.active_bookings: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(work)

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection]:
        """An asyncpg connection, as the lock strategies take seats on."""
        async with self.engine.connect() as conn:
            yield await driver_of(conn)

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    async def build(self) -> tuple[uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            world = await make_world(
                session,
                starts_at=START + timedelta(days=2),
                layout="recliner-lounge-40",
                hold_minutes=HOLD_MINUTES,
                name_suffix=f" {uuid.uuid4().hex[:8]}",
            )
            buyers = [
                User(name=f"buyer {n}", email=f"{uuid.uuid4().hex}@example.test", role="customer")
                for n in range(BUYERS)
            ]
            session.add_all(buyers)
            await session.commit()
        return world.show_id, [world.seats[label] for label in SEAT_LABELS], [b.id for b in buyers]

    # --- the model's view ---------------------------------------------------------------------

    def effective(self, seat_id: uuid.UUID) -> str:
        """What a buyer sees: a BLOCKED seat whose hold has run out is AVAILABLE."""
        seat = self.seats[seat_id]
        if seat.status == BLOCKED and seat.held_until is not None and seat.held_until <= self.now:
            return AVAILABLE
        return seat.status

    def free_seats(self) -> set[uuid.UUID]:
        return {seat_id for seat_id in self.seat_ids if self.effective(seat_id) == AVAILABLE}

    def seats_of_hold(self, hold_id: uuid.UUID) -> set[uuid.UUID]:
        return {
            s
            for s, state in self.seats.items()
            if state.status == BLOCKED and state.hold_id == hold_id
        }

    def target(self, buyer_id: uuid.UUID, seat_ids: tuple[uuid.UUID, ...]) -> HoldTarget:
        return HoldTarget(
            hold_id=uuid.uuid4(),
            show_id=self.show_id,
            buyer_id=buyer_id,
            seat_ids=tuple(sorted(seat_ids)),
            now=self.now,
            expires_at=self.now + timedelta(minutes=HOLD_MINUTES),
            accessible=False,
            channel="online",
        )

    async def take(self, target: HoldTarget, *, keep: bool) -> TakeResult:
        """take_seats in its own transaction, rolled back when incomplete (as strategies do)."""
        async with self.driver() as conn:
            transaction = conn.transaction()
            await transaction.start()
            result = await queries.take_seats(conn, target)
            if result.complete and keep:
                await transaction.commit()
            else:
                await transaction.rollback()
            return result

    async def write(self, sql: str, **params: object) -> list[uuid.UUID]:
        async with self.engine.begin() as conn:
            return list(await conn.scalars(text(sql), params))

    # --- rules --------------------------------------------------------------------------------

    @initialize(target=holds, buyer=BUYER, picks=PICKS)
    def first_hold(self, buyer: int, picks: set[int]):
        """Every run starts with seats held, so expiry and sales come up early and often."""
        return self.hold(buyer, picks)

    @rule(target=holds, buyer=BUYER, picks=PICKS)
    def hold(self, buyer: int, picks: set[int]):
        wanted = tuple(self.seat_ids[i] for i in picks)
        target = self.target(self.buyer_ids[buyer], wanted)
        free = set(wanted) & self.free_seats()
        expected = free == set(wanted)
        result = self.run(self.take(target, keep=True))
        assert result.complete == expected
        if not expected:
            assert result.still_free == free, "a refusal names exactly the seats still free"
            return multiple()
        for seat_id in wanted:
            self.seats[seat_id] = SeatState(BLOCKED, target.hold_id, target.expires_at)
        self.model_holds[target.hold_id] = ModelHold(target.seat_ids, target.expires_at)
        return target.hold_id

    @rule(hold_id=holds)
    def release(self, hold_id: uuid.UUID) -> None:
        expected = self.seats_of_hold(hold_id)

        async def release() -> list[tuple[uuid.UUID, int]]:
            async with self.engine.begin() as conn:
                _, seats, _ = await queries.release_hold(
                    conn,
                    hold_id,
                    now=self.now,
                    actor_id=None,
                    final_status=HoldStatus.RELEASED.value,
                    reason="released",
                )
            return seats

        assert {seat_id for seat_id, _ in self.run(release())} == expected
        for seat_id in expected:
            self.seats[seat_id] = SeatState()
        hold = self.model_holds[hold_id]
        if hold.status == HoldStatus.ACTIVE.value:
            hold.status = HoldStatus.RELEASED.value

    # Small steps, and the edges of a hold's life: just before, exactly at and after expiry.
    @rule(minutes=st.sampled_from((1, 4, HOLD_MINUTES - 1, HOLD_MINUTES, HOLD_MINUTES + 3)))
    def advance_clock(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule()
    def sweep(self) -> None:
        due = {s for s in self.seat_ids if self.seats[s].status != self.effective(s)}

        async def sweep() -> list[tuple[uuid.UUID, uuid.UUID, int, int]]:
            async with self.engine.begin() as conn:
                return await queries.expire_due(conn, self.now)

        # The sweeper is global: leftovers of earlier examples may be freed too.
        freed = {seat for show, seat, _, _ in self.run(sweep()) if show == self.show_id}
        assert freed == due
        for seat_id in due:
            self.seats[seat_id] = SeatState()
        for hold in self.model_holds.values():
            if hold.status == HoldStatus.ACTIVE.value and hold.expires_at <= self.now:
                hold.status = HoldStatus.EXPIRED.value

    @rule(pick=st.integers(0, len(SEAT_LABELS) - 1))
    def mark_unavailable(self, pick: int) -> None:
        seat_id = self.seat_ids[pick]
        expected = self.effective(seat_id) == AVAILABLE
        changed = self.run(
            self.write(MARK_UNAVAILABLE, show=self.show_id, seat=seat_id, now=self.now)
        )
        assert changed == ([seat_id] if expected else [])
        if expected:
            self.seats[seat_id] = SeatState(UNAVAILABLE)

    @rule(pick=st.integers(0, len(SEAT_LABELS) - 1))
    def mark_available(self, pick: int) -> None:
        seat_id = self.seat_ids[pick]
        expected = self.seats[seat_id].status == UNAVAILABLE
        changed = self.run(self.write(MARK_AVAILABLE, show=self.show_id, seat=seat_id))
        assert changed == ([seat_id] if expected else [])
        if expected:
            self.seats[seat_id] = SeatState()

    @rule(target=bookings, hold_id=holds)
    def confirm(self, hold_id: uuid.UUID):
        hold = self.model_holds[hold_id]
        expected = hold.status == HoldStatus.ACTIVE.value and hold.expires_at > self.now
        booking_id = uuid.uuid4()
        booked = self.run(self.book(hold_id, booking_id))
        assert booked == expected
        if not expected:
            return multiple()
        assert self.seats_of_hold(hold_id) == set(hold.seat_ids)
        for seat_id in hold.seat_ids:
            self.seats[seat_id] = SeatState(BOOKED, booking_id=booking_id)
        hold.status = HoldStatus.CONVERTED.value
        self.active_bookings[booking_id] = hold.seat_ids
        return booking_id

    async def book(self, hold_id: uuid.UUID, booking_id: uuid.UUID) -> bool:
        """Hold to booking, all or nothing: every seat of a live hold, or no change at all."""
        params = {"hold": hold_id, "booking": booking_id, "show": self.show_id, "now": self.now}
        async with self.engine.connect() as conn:
            transaction = await conn.begin()
            buyer_id = await conn.scalar(text(CONVERT_HOLD), params)
            if buyer_id is None:
                await transaction.rollback()
                return False
            code = booking_id.hex[:12].upper()
            await conn.execute(text(INSERT_BOOKING), {**params, "buyer": buyer_id, "code": code})
            booked = list(await conn.scalars(text(BOOK_SEATS), params))
            held = await conn.scalar(
                text("SELECT count(*) FROM hold_seats WHERE hold_id = :hold"), params
            )
            if len(booked) != held:
                await transaction.rollback()
                return False
            await transaction.commit()
            return True

    @rule(booking_id=bookings)
    def cancel(self, booking_id: uuid.UUID) -> None:
        expected = set(self.active_bookings.pop(booking_id, ()))
        freed = self.run(
            self.write(CANCEL_BOOKING, booking=booking_id, show=self.show_id, now=self.now)
        )
        assert set(freed) == expected
        for seat_id in expected:
            self.seats[seat_id] = SeatState()

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def database_equals_model(self) -> None:
        rows = self.fetch(
            "SELECT seat_id, status, hold_id, held_until, booking_id FROM show_seats"
            " WHERE show_id = :show"
        )
        untouched = {row.seat_id: SeatState() for row in rows}
        assert {row.seat_id: SeatState(*row[1:]) for row in rows} == {**untouched, **self.seats}
        shown = self.read(lambda conn: queries.seat_map_rows(conn, self.show_id, self.now))
        seen_by_buyers = {row.seat_id: row.status for row in shown if row.seat_id in self.seats}
        assert seen_by_buyers == {seat_id: self.effective(seat_id) for seat_id in self.seats}
        holds = self.fetch("SELECT id, status FROM holds WHERE show_id = :show")
        assert dict(holds) == {hold_id: hold.status for hold_id, hold in self.model_holds.items()}

    @invariant()
    def expired_holds_never_refuse_a_buyer(self) -> None:
        """Every seat the model calls free, a newcomer can take, even before any sweep."""
        free = self.free_seats()
        probe = self.target(self.buyer_ids[0], tuple(self.seat_ids))

        async def read_probe() -> list[queries.SeatRow]:
            async with self.driver() as conn:
                return await queries.read_seats(conn, self.show_id, probe.seat_ids)

        rows = self.run(read_probe())
        assert set(queries.unavailable(rows, probe)) == set(self.seat_ids) - free
        if free:
            newcomer = self.target(self.buyer_ids[0], tuple(free))
            assert self.run(self.take(newcomer, keep=False)).complete

    @invariant()
    def booked_seats_have_exactly_one_active_sale(self) -> None:
        rows = self.fetch(
            """
            SELECT ss.status, ss.booking_id,
                   array_agg(bs.booking_id) FILTER (WHERE bs.status = 'ACTIVE') AS sales
              FROM show_seats ss
              LEFT JOIN booking_seats bs ON bs.show_id = ss.show_id AND bs.seat_id = ss.seat_id
             WHERE ss.show_id = :show
             GROUP BY ss.seat_id, ss.status, ss.booking_id
            """
        )
        for row in rows:
            assert row.sales == ([row.booking_id] if row.status == BOOKED else None)

    @invariant()
    def blocked_seats_belong_to_live_holds(self) -> None:
        rows = self.fetch(
            """
            SELECT ss.held_until, h.status, h.expires_at, hs.seat_id IS NOT NULL AS listed
              FROM show_seats ss
              LEFT JOIN holds h ON h.id = ss.hold_id
              LEFT JOIN hold_seats hs ON hs.hold_id = ss.hold_id AND hs.seat_id = ss.seat_id
             WHERE ss.show_id = :show AND ss.status = 'BLOCKED'
            """
        )
        for row in rows:
            assert row.listed and row.expires_at == row.held_until
            expired = row.held_until <= self.now
            assert row.status == HoldStatus.ACTIVE.value or (
                expired and row.status == HoldStatus.EXPIRED.value
            )

    def read(self, query: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
        async def on_a_connection() -> Any:
            async with self.engine.connect() as conn:
                return await query(conn)

        return self.run(on_a_connection())

    def fetch(self, sql: str) -> list:
        async def rows(conn: AsyncConnection) -> list:
            return list(await conn.execute(text(sql), {"show": self.show_id}))

        return self.read(rows)


@pytest.mark.timeout(120)
def test_seat_state_machine(backend: Backend, engine: AsyncEngine) -> None:
    # ``engine`` only truncates the shared database first; the machine brings its own engine.
    run_state_machine_as_test(
        lambda: SeatMachine(backend.database_url),
        settings=settings(max_examples=25, stateful_step_count=20, deadline=None),
    )
