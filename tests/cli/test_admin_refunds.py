"""`bms admin refunds` in-process (CliRunner) against a real `bms serve` and the simulator
gateway: listing by status and booking, retrying a FAILED refund (it goes through; again it is
refused with 409; one the gateway refuses again exits 1), settling one by hand, and who may."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from admin.main import app
from server.contracts.enums import Role
from tests.cli.test_admin_accounts import StartServer
from tests.factories import World, auth, make_user, make_world
from tests.integration.test_checkout import book, hold_seats, pay_by_card

runner = CliRunner()
REFUNDS_TIME_OUT_FOUR_TIMES = "4000000000003188"


async def buy_and_cancel(
    client: httpx.AsyncClient, headers: dict[str, str], world: World, label: str, card: str
) -> str:
    hold_id = await hold_seats(client, headers, world, label)
    booked = await book(client, headers, hold_id, [pay_by_card(card)])
    assert booked.status_code == 201, booked.text
    code = str(booked.json()["code"])
    cancelled = await client.post(
        f"/api/v1/bookings/{code}/cancel", json={"confirm": True}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    return code


async def refund_of(engine: AsyncEngine, code: str, **changes: Any) -> str:
    """The id of a booking's refund, after setting ``changes`` on its row."""
    async with engine.begin() as conn:
        sets = ", ".join(f"{column} = :{column}" for column in changes)
        found = await conn.execute(
            text(
                f"UPDATE refunds r SET {sets or 'status = r.status'} FROM bookings b"
                " WHERE b.id = r.booking_id AND b.code = :code RETURNING r.id"
            ),
            {"code": code, **changes},
        )
        return str(found.scalar_one())


GAVE_UP = {"status": "FAILED", "failure_code": "no_answer", "failure_reason": "no answer"}


def run(*args: str) -> Any:
    return runner.invoke(app, ["refunds", *args])


async def test_list_retry_and_settle_failed_refunds(
    server_factory: StartServer,
    session: AsyncSession,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=3))
    manager, admin = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id]
    )
    _, buyer = await make_user(session)
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        # Its refund timed out (PENDING), then the job gave up on it: it may go through now.
        slow = await buy_and_cancel(client, auth(buyer), world, "E7", REFUNDS_TIME_OUT_FOUR_TIMES)
        paid = await buy_and_cancel(client, auth(buyer), world, "E8", "4242424242424242")
        cash = await buy_and_cancel(client, auth(buyer), world, "F5", "4242424242424242")
    slow_id = await refund_of(engine, slow, **GAVE_UP)
    paid_id = await refund_of(engine, paid)
    cash_id = await refund_of(engine, cash, gateway_refund_ref=None, **GAVE_UP)
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", admin)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    table = run("list")
    assert table.exit_code == 0, table.output
    rows = [line for line in table.stdout.splitlines() if "FAILED" in line]
    assert sorted(row.split()[0] for row in rows) == sorted([slow_id, cash_id])
    assert all("Test Cinema" in row and "no answer" in row for row in rows)
    assert "2 refunds: 2 FAILED" in table.stderr
    listed = json.loads(run("list", "--status", "all", "--booking", paid, "--json").stdout)
    assert [(r["refund_id"], r["status"], r["code"]) for r in listed] == [
        (paid_id, "SUCCEEDED", paid)
    ]
    none = run("list", "--status", "PENDING")
    assert none.exit_code == 0 and none.stdout == ""
    assert "no PENDING refunds" in none.stderr
    assert run("list", "--from", "21/11/2026").exit_code == 2
    unknown = run("list", "--theater", "Nowhere Cinema")
    assert unknown.exit_code == 1 and "no theater named 'Nowhere Cinema'" in unknown.stderr

    retried = run("retry", slow_id, "--json")
    assert retried.exit_code == 0, retried.output
    answer = json.loads(retried.stdout)
    assert (answer["status"], answer["attempts"]) == ("SUCCEEDED", 1)
    assert "The gateway refunded it (reference re_" in retried.stderr
    again = run("retry", slow_id)
    assert again.exit_code == 1 and again.stdout == ""
    assert "409 Conflict" in again.stderr and "is SUCCEEDED, not FAILED" in again.stderr
    assert run("retry", "not-a-refund-id").exit_code == 2

    settled = run("settle-manually", cash_id, "--note", "cash at the box office, receipt 1182")
    assert settled.exit_code == 0, settled.output
    assert "Status        SUCCEEDED (manual)" in settled.stdout
    assert f"settled manually by {manager.name}: cash at the box office" in settled.stdout
    assert f"refund {cash_id} of booking {cash} settled manually" in settled.stderr
    assert "may have gone through there after all" in settled.stderr
    refused = run("settle-manually", paid_id, "--note", "cash")
    assert refused.exit_code == 1 and "is SUCCEEDED, not FAILED" in refused.stderr
    assert "no FAILED refunds" in run("list").stderr

    # Refused by the gateway again (more than the capture has left): exit code 1.
    await refund_of(
        engine, paid, status="FAILED", failure_code="refund_exceeds_capture", amount_minor=99999
    )
    refused_again = run("retry", paid_id)
    assert refused_again.exit_code == 1, refused_again.output
    assert "error: The gateway refused it again: " in refused_again.stderr
    assert "Status        FAILED" in refused_again.stdout

    monkeypatch.setenv("BMS_TOKEN", buyer)
    customer = run("list")
    assert customer.exit_code == 1 and "403 Forbidden" in customer.stderr
