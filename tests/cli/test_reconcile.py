"""`bms admin reconcile` in-process (CliRunner) against a real `bms serve`: the shipped sample
settlement file against crafted payments and refunds, a clean file, an unreadable one, and a
caller who may not reconcile."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from admin.main import app
from server.contracts.enums import Role
from server.db.models import Payment, Refund
from tests.cli.test_admin_accounts import StartServer
from tests.conftest import ROOT
from tests.factories import make_user, make_world
from tests.integration.test_admin_api import sell

runner = CliRunner()
SAMPLE = ROOT / "fixtures" / "settlement-sample.csv"
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MATCHED = "cap_3b9f0c5e6d2a41f08c7e1a2b"
WRONG_AMOUNT = "cap_8d41e2a7c9b04f5e9a1d3c6f"
UNWOUND = "cap_c17a9e03b5d24f6a8e2b0d94"
OURS_ONLY = "cap_0aa1bb2cc3dd4ee5ff6a7b8c"


def payment(reference: str, amount: int, **extra: object) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "method": "card",
        "gateway": "simulator",
        "status": "CAPTURED",
        "amount_minor": amount,
        "currency": "INR",
        "idempotency_key": f"test:{reference}",
        "gateway_ref": reference,
        "captured_at": DAY,
    } | extra


@pytest.fixture
async def records(session: AsyncSession) -> None:
    """Our side: three captures of a booking (one refunded in part), a checkout that was
    refunded before it became a booking, and a capture from long before the period."""
    world = await make_world(session, starts_at=DAY + timedelta(days=2))
    buyer, _ = await make_user(session)
    booking = await sell(session, world.show_id, [world.seats["E7"]], buyer.id)
    matched = payment(MATCHED, 33040, booking_id=booking.id)
    rows = [
        matched,
        payment(WRONG_AMOUNT, 50000, booking_id=booking.id),
        payment(OURS_ONLY, 20000, booking_id=booking.id),
        payment(UNWOUND, 10000, status="REFUNDED", refunded_minor=10000),
        payment("cap_from_october", 9900, captured_at=DAY - timedelta(days=50)),
    ]
    await session.execute(insert(Payment), rows)
    await session.execute(
        insert(Refund).values(
            booking_id=booking.id,
            payment_id=matched["id"],
            amount_minor=29500,
            destination="original",
            status="SUCCEEDED",
            reason="cancelled by the customer",
            idempotency_key="test:refund",
            created_at=DAY,
            completed_at=DAY,
        )
    )
    await session.commit()


@pytest.fixture
async def admin_env(
    server_factory: StartServer,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> dict[str, str]:
    """A real server; the commands act as a platform admin. Returns other callers' tokens."""
    _, root = await make_user(session, role=Role.PLATFORM_ADMIN)
    _, manager = await make_user(session, role=Role.THEATER_ADMIN)
    server = server_factory()
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", root)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    return {"theater_admin": manager}


async def test_reconcile_reports_every_kind_of_difference(
    records: None, admin_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = runner.invoke(app, ["reconcile", str(SAMPLE)])
    assert table.exit_code == 1, table.output
    assert "1 mismatched, 1 missing here, 1 missing at the gateway; 4 matched" in table.stderr
    assert "2026-11-20 to 2026-11-21" in table.stderr
    row = next(line for line in table.stdout.splitlines() if WRONG_AMOUNT in line)
    assert row.replace("│", " ").split()[:2] == ["mismatched", "capture"]

    report = json.loads(runner.invoke(app, ["reconcile", str(SAMPLE), "--json"]).stdout)
    assert report["clean"] is False
    assert [(i["reference"], i["gateway_amount_minor"], i["our_amount_minor"])
            for i in report["mismatched"]] == [(WRONG_AMOUNT, 45000, 50000)]  # fmt: skip
    assert [i["reference"] for i in report["missing_here"]] == ["cap_f0e1d2c3b4a5968778695a4b"]
    assert [i["row"] for i in report["missing_here"]] == [7]
    assert [(i["reference"], i["our_amount_minor"]) for i in report["missing_at_gateway"]] == [
        (OURS_ONLY, 20000)
    ]
    assert sorted((i["type"], i["reference"]) for i in report["matched"]) == [
        ("capture", MATCHED),
        ("capture", UNWOUND),
        ("refund", MATCHED),
        ("refund", UNWOUND),
    ]

    clean = tmp_path / "clean.csv"
    lines = SAMPLE.read_text().splitlines()
    fixed = [line.replace(",45000,", ",50000,") for line in lines[:-1]]
    clean.write_text("\n".join([*fixed, f"{OURS_ONLY},20000,INR,2026-11-20,capture"]) + "\n")
    matched = runner.invoke(app, ["reconcile", str(clean), "--from", "2026-11-20"])
    assert matched.exit_code == 0, matched.output
    assert "6 lines matched, no differences (2026-11-20 to 2026-11-20)" in matched.stderr

    broken = tmp_path / "broken.csv"
    broken.write_text(
        "reference,amount_minor,currency,date,type\ncap_x,12.5O,INR,2026-11-20,capture\n"
    )
    unreadable = runner.invoke(app, ["reconcile", str(broken)])
    assert unreadable.exit_code == 2
    assert "amount_minor" in unreadable.stdout

    monkeypatch.setenv("BMS_TOKEN", admin_env["theater_admin"])
    refused = runner.invoke(app, ["reconcile", str(SAMPLE)])
    assert refused.exit_code == 1 and "403" in refused.stderr
