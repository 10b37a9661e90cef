"""The migrations: up, down and up again, concurrent starts, the models match, and `bms db`.

Each test that changes the schema gets its own throw-away database on the same server, so the
shared test database is never downgraded.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Connection, make_url, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from server.db.migrate import current_revision, downgrade, upgrade
from server.db.models import Base
from tests.conftest import ROOT, Backend

pytestmark = pytest.mark.timeout(120)

HEAD = "0002"
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
    assert "database at revision 0001" in await asyncio.to_thread(run, "downgrade")
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
