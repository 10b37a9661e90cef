"""The migrations: up, down and up again, concurrent starts, the models match, and `bms db`.

Each test that changes the schema gets its own throw-away database on the same server, so the
shared test database is never downgraded.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Connection, make_url, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from server.contracts.enums import Role
from server.db.migrate import current_revision, downgrade, upgrade
from server.db.models import Base
from tests.conftest import ROOT, Backend
from tests.factories import make_user, make_world

pytestmark = pytest.mark.timeout(120)

HEAD = "0006"
BEFORE_HEAD = f"{int(HEAD) - 1:04d}"  # revisions are numbered one after another
BMS_TABLES = set(Base.metadata.tables)
BMS_SEQUENCES = {"seat_events_seq", "lock_fence_seq"}


@asynccontextmanager
async def connected(url: str, **options: Any) -> AsyncIterator[AsyncConnection]:
    """One connection on a short-lived engine (each test database gets its own)."""
    engine = create_async_engine(url, **options)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def admin(backend: Backend, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run inside a transaction: use an AUTOCOMMIT connection."""
    async with connected(backend.database_url, isolation_level="AUTOCOMMIT") as conn:
        await conn.execute(text(statement))


@pytest.fixture
async def fresh_url(backend: Backend) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped again after the test."""
    name = f"mig_test_{uuid.uuid4().hex[:8]}"
    await admin(backend, f'CREATE DATABASE "{name}"')
    yield make_url(backend.database_url).set(database=name).render_as_string(hide_password=False)
    await admin(backend, f'DROP DATABASE "{name}" WITH (FORCE)')


async def schema_objects(url: str) -> tuple[set[str], set[str]]:
    """The tables and sequences in the public schema (alembic's own table left out)."""
    async with connected(url) as conn:
        tables = await conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'alembic_version'"
            )
        )
        table_names = set(tables)
        sequences = await conn.scalars(
            text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = 'public'"
            )
        )
        # Sequences owned by a BIGSERIAL column come and go with their table.
        return table_names, {name for name in sequences if not name.endswith("_id_seq")}


async def test_upgrade_downgrade_upgrade(fresh_url: str) -> None:
    assert await current_revision(fresh_url) is None
    await upgrade(fresh_url)
    assert await current_revision(fresh_url) == HEAD
    assert await schema_objects(fresh_url) == (BMS_TABLES, BMS_SEQUENCES)

    await downgrade(fresh_url, "base")
    assert await current_revision(fresh_url) is None
    assert await schema_objects(fresh_url) == (set(), set())

    await upgrade(fresh_url)
    assert await current_revision(fresh_url) == HEAD
    assert await schema_objects(fresh_url) == (BMS_TABLES, BMS_SEQUENCES)


def model_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def differences_in(url: str) -> list[object]:
    async with connected(url) as conn:
        return await conn.run_sync(model_differences)


async def test_models_match_the_migrated_schema(backend: Backend) -> None:
    # No known differences: tables, columns, types, nullability, indexes (partial and
    # expression ones included), unique constraints and foreign keys all agree.
    assert await differences_in(backend.database_url) == []


async def test_the_comparison_notices_drift(fresh_url: str) -> None:
    await upgrade(fresh_url)
    async with connected(fresh_url) as conn:
        await conn.execute(text("DROP INDEX ix_bookings_user"))
        await conn.commit()
    (drift,) = await differences_in(fresh_url)
    assert drift[0] == "add_index" and drift[1].name == "ix_bookings_user"


def named_constraints() -> set[tuple[str, str, str]]:
    kinds = {CheckConstraint: "c", ExcludeConstraint: "x"}
    return {
        (table.name, str(constraint.name), kinds[type(constraint)])
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if type(constraint) in kinds
    }


async def test_checks_and_exclusions_match_the_models(backend: Backend) -> None:
    """Autogenerate does not compare CHECK or EXCLUDE constraints, so compare them by name."""
    async with connected(backend.database_url) as conn:
        rows = await conn.execute(
            text(
                "SELECT rel.relname, con.conname, con.contype::text AS contype"
                " FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
                " JOIN pg_namespace ns ON ns.oid = rel.relnamespace"
                " WHERE ns.nspname = 'public' AND con.contype IN ('c', 'x')"
            )
        )
        in_database = {(row.relname, row.conname, row.contype) for row in rows}
    assert in_database == named_constraints()


UPGRADE_PROCESS = (
    "import asyncio, sys; from server.db.migrate import upgrade; asyncio.run(upgrade(sys.argv[1]))"
)


async def test_concurrent_upgrades_both_succeed(fresh_url: str) -> None:
    """Two server processes starting at once: the advisory lock lets one migrate, the other
    then finds nothing to do (without it, the second would trip over the first's tables)."""
    starts = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", UPGRADE_PROCESS, fresh_url, cwd=ROOT, stderr=PIPE
        )
        for _ in range(2)
    ]
    for process in starts:
        _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
    assert await current_revision(fresh_url) == HEAD
    assert await schema_objects(fresh_url) == (BMS_TABLES, BMS_SEQUENCES)
    async with connected(fresh_url) as conn:
        versions = (await conn.scalars(text("SELECT version_num FROM alembic_version"))).all()
    assert versions == [HEAD]


def bms_db(backend: Backend, url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(BMS_DATABASE_URL=url, BMS_REDIS_URL=backend.redis_url, BMS_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "bmscli.main", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_bms_db_commands(backend: Backend, fresh_url: str, tmp_path: Path) -> None:
    def run(*args: str) -> str:
        done = bms_db(backend, fresh_url, tmp_path, *args)
        assert done.returncode == 0, done.stderr
        return done.stderr

    assert f"database at revision {HEAD}" in await asyncio.to_thread(run, "upgrade")
    assert f"database at revision {BEFORE_HEAD}" in await asyncio.to_thread(run, "downgrade")
    assert "database at revision None" in await asyncio.to_thread(run, "downgrade", "base")
    assert await schema_objects(fresh_url) == (set(), set())

    assert f"database at revision {HEAD}" in await asyncio.to_thread(run, "upgrade")
    async with connected(fresh_url) as conn:
        await conn.execute(
            text(
                "INSERT INTO cities (name, country, timezone, currency, tax_rate_bp)"
                " VALUES ('Doomed', 'IN', 'Asia/Kolkata', 'INR', 0)"
            )
        )
        await conn.commit()
    # reset says what it did but not the revision it left, so ask the database.
    assert "database reset" in await asyncio.to_thread(run, "reset", "--yes")
    async with connected(fresh_url) as conn:
        assert await conn.scalar(text("SELECT count(*) FROM cities")) == 0
    assert await current_revision(fresh_url) == HEAD
    assert await schema_objects(fresh_url) == (BMS_TABLES, BMS_SEQUENCES)


# -- 0003: manual settlements in columns, one live waiting-list entry per customer -----------

SETTLED_AT = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
AUDIT = (
    "INSERT INTO audit_log (at, actor_id, action, entity, entity_id, detail)"
    " VALUES (:at, :actor, :action, 'refund', :entity_id, CAST(:detail AS jsonb))"
)
REFUND = (
    "INSERT INTO refunds (id, booking_id, payment_id, amount_minor, destination, status, reason,"
    " completed_at, gateway_refund_ref, failure_code)"
    " VALUES (:id, :booking, :payment, 20000, 'original', :status, 'cancelled by the customer',"
    " :at, :ref, :code)"
)
# Written in SQL, like every row seeded at an old revision: today's Booking model has columns
# (reminded_at, 0005) that revision 0002 does not.
SOLD = (
    "WITH hold AS (INSERT INTO holds (show_id, buyer_id, status, channel, expires_at)"
    " VALUES (:show, :buyer, 'CONVERTED', 'online', :at) RETURNING id)"
    " INSERT INTO bookings (code, user_id, show_id, hold_id, status, channel, currency,"
    " seats_minor, total_minor)"
    " SELECT 'SEED0002', :buyer, :show, id, 'CONFIRMED', 'online', 'INR', 80000, 80000 FROM hold"
    " RETURNING id"
)
ENTRY = (
    "INSERT INTO waitlist_entries (id, show_id, user_id, seats_wanted, status, created_at)"
    " VALUES (:id, :show, :user, 2, :status, :at)"
)


def entry_id(n: int) -> uuid.UUID:
    """Entry ids in a known order (the clean-up's last tie-breaker)."""
    return uuid.UUID(int=n)


async def seed_0002(url: str) -> dict[str, Any]:
    """Data as revision 0002 left it: refunds settled manually known only by their audit
    entries (and odd entries that must not fail the upgrade), and customers on one show's
    waiting list more than once."""
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            world = await make_world(session, starts_at=SETTLED_AT + timedelta(days=2), shows=2)
            admin, _ = await make_user(session, role=Role.THEATER_ADMIN)
            people = [(await make_user(session))[0].id for _ in range(4)]
        ids = {name: uuid.uuid4() for name in ("settled", "gateway", "failed", "odd", "orphan")}
        async with engine.begin() as conn:
            booking_id = await conn.scalar(
                text(SOLD), {"show": world.show_id, "buyer": people[0], "at": SETTLED_AT}
            )
            payment = await conn.scalar(
                text(
                    "INSERT INTO payments (booking_id, method, gateway, status, amount_minor,"
                    " currency, idempotency_key, gateway_ref, captured_at)"
                    " VALUES (:booking, 'card', 'simulator', 'CAPTURED', 80000, 'INR', 'k1',"
                    " 'cap_1', :at) RETURNING id"
                ),
                {"booking": booking_id, "at": SETTLED_AT},
            )
            refund = {"booking": booking_id, "payment": payment, "at": SETTLED_AT, "code": None}
            for name, status, ref in (
                ("settled", "SUCCEEDED", None),
                ("gateway", "SUCCEEDED", "re_1"),
                ("failed", "FAILED", None),
                ("odd", "SUCCEEDED", "re_2"),  # an audit entry says settled: the gateway did
                ("orphan", "SUCCEEDED", None),  # settled, says the audit, by nobody known
            ):
                await conn.execute(
                    text(REFUND), {**refund, "id": ids[name], "status": status, "ref": ref}
                )
            settled = {"action": "refund.settled_manually", "at": SETTLED_AT}
            for name, actor, note in (
                ("settled", admin.id, "cash at the box office, receipt 1182"),
                ("odd", admin.id, "cash"),
                ("orphan", None, "cash"),
            ):
                detail = json.dumps({"note": note, "failure_code": "no_answer"})
                await conn.execute(
                    text(AUDIT),
                    {**settled, "actor": actor, "entity_id": str(ids[name]), "detail": detail},
                )
            await conn.execute(  # a second entry for a refund: the first one counts
                text(AUDIT),
                {
                    **settled,
                    "at": SETTLED_AT + timedelta(hours=1),
                    "actor": people[3],
                    "entity_id": str(ids["settled"]),
                    "detail": json.dumps({"note": "later"}),
                },
            )
            await conn.execute(  # not a refund id at all
                text(AUDIT),
                {**settled, "actor": admin.id, "entity_id": "not-a-uuid", "detail": "{}"},
            )
            await conn.execute(  # other admin acts on a refund are left alone
                text(AUDIT),
                {
                    **settled,
                    "action": "refund.retried",
                    "actor": admin.id,
                    "entity_id": str(ids["failed"]),
                    "detail": "{}",
                },
            )

            first, second = world.show_ids
            alice, bob, carol, dan = people
            at = [SETTLED_AT + timedelta(minutes=n) for n in range(4)]
            for n, show, user, status, when in (
                (1, first, alice, "WAITING", at[0]),  # twice waiting: the earliest stays
                (2, first, alice, "WAITING", at[1]),
                (3, first, alice, "EXPIRED", at[0]),  # over: not a duplicate
                (4, first, bob, "WAITING", at[0]),  # waiting, then offered: the offer stays
                (5, first, bob, "OFFERED", at[2]),
                (6, first, bob, "WAITING", at[3]),
                (7, first, carol, "WAITING", at[1]),  # same moment: the smaller id stays
                (8, first, carol, "WAITING", at[1]),
                (9, first, dan, "WAITING", at[0]),  # once per show is fine
                (10, second, dan, "WAITING", at[0]),
                (11, second, alice, "OFFERED", at[3]),
            ):
                await conn.execute(
                    text(ENTRY),
                    {"id": entry_id(n), "show": show, "user": user, "status": status, "at": when},
                )
        return {"admin": admin, "refunds": ids, "show": first, "alice": alice}
    finally:
        await engine.dispose()


async def rows(url: str, sql: str, **params: object) -> list[Any]:
    async with connected(url) as conn:
        return list(await conn.execute(text(sql), params))


async def test_0003_fills_in_manual_settlements_and_clears_duplicate_entries(
    fresh_url: str,
) -> None:
    await upgrade(fresh_url, "0002")
    seeded = await seed_0002(fresh_url)
    ids, admin = seeded["refunds"], seeded["admin"]
    await upgrade(fresh_url, "0003")
    assert await current_revision(fresh_url) == "0003"

    settled = {
        row.id: (row.settled_manually_at, row.settled_manually_by, row.settlement_note)
        for row in await rows(
            fresh_url,
            "SELECT id, settled_manually_at, settled_manually_by, settlement_note FROM refunds",
        )
    }
    assert settled == {
        ids["settled"]: (SETTLED_AT, admin.id, "cash at the box office, receipt 1182"),
        ids["gateway"]: (None, None, None),
        ids["failed"]: (None, None, None),
        ids["odd"]: (None, None, None),
        ids["orphan"]: (None, None, None),
    }

    statuses = dict(await rows(fresh_url, "SELECT id, status FROM waitlist_entries"))
    cancelled = {entry_id(n) for n in (2, 4, 6, 8)}
    assert {entry for entry, status in statuses.items() if status == "CANCELLED"} == cancelled
    assert statuses[entry_id(1)] == statuses[entry_id(7)] == "WAITING"
    assert statuses[entry_id(5)] == statuses[entry_id(11)] == "OFFERED"
    assert statuses[entry_id(3)] == "EXPIRED"
    audited = await rows(
        fresh_url,
        "SELECT entity_id, detail->>'kept' AS kept FROM audit_log"
        " WHERE action = 'waitlist.duplicate_cancelled'",
    )
    assert sorted((row.entity_id, row.kept) for row in audited) == [
        (str(entry_id(2)), str(entry_id(1))),
        (str(entry_id(4)), str(entry_id(5))),
        (str(entry_id(6)), str(entry_id(5))),
        (str(entry_id(8)), str(entry_id(7))),
    ]
    duplicate = {"show": seeded["show"], "user": seeded["alice"], "status": "WAITING"}
    with pytest.raises(IntegrityError, match="uq_waitlist_entries_live_per_customer"):
        async with connected(fresh_url) as conn:
            await conn.execute(text(ENTRY), {**duplicate, "id": entry_id(12), "at": SETTLED_AT})

    # Down: the columns and the index go; the audit entries the older code reads stay.
    await downgrade(fresh_url, "0002")
    columns = await rows(
        fresh_url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'refunds'"
        " AND column_name LIKE 'settle%'",
    )
    assert columns == []
    marks = await rows(
        fresh_url, "SELECT entity_id FROM audit_log WHERE action = 'refund.settled_manually'"
    )
    assert len(marks) == 5
    async with connected(fresh_url) as conn:
        await conn.execute(text(ENTRY), {**duplicate, "id": entry_id(12), "at": SETTLED_AT})
        await conn.commit()

    # And up again: the same backfill, and the duplicate made meanwhile is cleared.
    await upgrade(fresh_url)
    [again] = await rows(
        fresh_url,
        "SELECT settled_manually_by, settlement_note FROM refunds WHERE id = :id",
        id=ids["settled"],
    )
    assert tuple(again) == (admin.id, "cash at the box office, receipt 1182")
    [late] = await rows(
        fresh_url, "SELECT status FROM waitlist_entries WHERE id = :id", id=entry_id(12)
    )
    assert late.status == "CANCELLED"
    assert await differences_in(fresh_url) == []


# -- 0004: the outbox's next attempt in a column, out of the payload ---------------------------

EVENT = (
    "INSERT INTO outbox (topic, payload, processed_at)"
    " VALUES ('booking.confirmed', CAST(:payload AS jsonb), :processed)"
)


async def test_0004_moves_the_next_attempt_out_of_the_payload_and_back(fresh_url: str) -> None:
    await upgrade(fresh_url, "0003")
    retry_at = SETTLED_AT + timedelta(minutes=5)
    async with connected(fresh_url) as conn:
        for payload, processed in [
            ({"booking_id": "b-1", "_next_attempt_at": retry_at.isoformat()}, None),
            ({"booking_id": "b-2"}, None),
            ({"booking_id": "b-3", "_next_attempt_at": retry_at.isoformat()}, SETTLED_AT),
        ]:
            await conn.execute(
                text(EVENT), {"payload": json.dumps(payload), "processed": processed}
            )
        await conn.commit()

    await upgrade(fresh_url, "0004")
    moved = await rows(fresh_url, "SELECT payload, next_attempt_at FROM outbox ORDER BY id")
    assert [(row.payload, row.next_attempt_at) for row in moved] == [
        ({"booking_id": "b-1"}, retry_at),
        ({"booking_id": "b-2"}, None),
        ({"booking_id": "b-3"}, retry_at),
    ]

    # Down: pending events get their time back in the payload; a processed one needs none.
    await downgrade(fresh_url, "0003")
    back = [row.payload for row in await rows(fresh_url, "SELECT payload FROM outbox ORDER BY id")]
    assert datetime.fromisoformat(back[0].pop("_next_attempt_at")) == retry_at
    assert back == [{"booking_id": "b-1"}, {"booking_id": "b-2"}, {"booking_id": "b-3"}]
