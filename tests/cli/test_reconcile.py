"""`bms admin reconcile` in-process (CliRunner) against a real `bms serve`: the shipped sample
settlement file against crafted payments and refunds (captures by capture id, refunds by the
gateway's refund id or, without one, by their capture; a refund settled by hand and one given
up for want of an answer explained), a clean file, the sign convention, a file in the old
layout, files that cannot be read (every one a clear message and exit code 2, never a
traceback), and a caller who may not reconcile."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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
HEADER = "type,reference,capture_reference,amount_minor,currency,date"
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EARLIER = DAY - timedelta(days=40)
MATCHED = "cap_3b9f0c5e6d2a41f08c7e1a2b"
MATCHED_REFUND = "re_7a1e4c9d2b8f40a6b5c3d1e0"
WRONG_AMOUNT = "cap_8d41e2a7c9b04f5e9a1d3c6f"
WRONG_REFUND = "re_0c6b2e9f4d1a47b38e5f6a7c"
UNWOUND = "cap_c17a9e03b5d24f6a8e2b0d94"
OURS_ONLY = "cap_0aa1bb2cc3dd4ee5ff6a7b8c"
OURS_ONLY_REFUND = "re_ours_only"
SETTLED_BY_HAND = "cap_5e6f7a8b9c0d41e2f3a4b5c6"
GIVEN_UP = "cap_d4c3b2a1f0e94d8c7b6a5f4e"


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


def refund(booking_id: uuid.UUID, paid: dict[str, Any], amount: int, **extra: object) -> dict:
    return {
        "id": uuid.uuid4(),
        "booking_id": booking_id,
        "payment_id": paid["id"],
        "amount_minor": amount,
        "destination": "original",
        "status": "SUCCEEDED",
        "reason": "cancelled by the customer",
        "idempotency_key": f"test:refund:{paid['gateway_ref']}",
        "created_at": DAY,
        "completed_at": DAY,
    } | extra


@pytest.fixture
async def records(session: AsyncSession) -> dict[str, Any]:
    """Our side: captures of a booking (refunded in part, confirmed by refund id), a checkout
    refunded before it became a booking (no refund id), a capture from long before the
    period, and two October captures whose refunds FAILED for want of an answer."""
    world = await make_world(session, starts_at=DAY + timedelta(days=2))
    buyer, _ = await make_user(session)
    booking = await sell(session, world.show_id, [world.seats["E7"]], buyer.id)
    paid = {
        ref: payment(ref, amount, booking_id=booking.id)
        for ref, amount in ((MATCHED, 33040), (WRONG_AMOUNT, 50000), (OURS_ONLY, 20000))
    }
    october = {
        ref: payment(ref, amount, booking_id=booking.id, captured_at=EARLIER)
        for ref, amount in ((SETTLED_BY_HAND, 20000), (GIVEN_UP, 15000))
    }
    await session.execute(
        insert(Payment),
        [
            *paid.values(),
            *october.values(),
            payment(UNWOUND, 10000, status="REFUNDED", refunded_minor=10000),
            payment("cap_from_october", 9900, captured_at=DAY - timedelta(days=50)),
        ],
    )
    gave_up = {"status": "FAILED", "failure_code": "no_answer", "completed_at": EARLIER}
    rows = [
        refund(booking.id, paid[MATCHED], 29500, gateway_refund_ref=MATCHED_REFUND),
        refund(booking.id, paid[WRONG_AMOUNT], 4500, gateway_refund_ref=WRONG_REFUND),
        refund(booking.id, paid[OURS_ONLY], 1000, gateway_refund_ref=OURS_ONLY_REFUND),
        refund(booking.id, october[SETTLED_BY_HAND], 20000, **gave_up),
        refund(booking.id, october[GIVEN_UP], 15000, **gave_up),
    ]
    await session.execute(insert(Refund), rows)
    await session.commit()
    return {"code": booking.code, "settle": str(rows[3]["id"]), "given_up": str(rows[4]["id"])}


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


def reconcile(*args: str) -> Any:
    return runner.invoke(app, ["reconcile", *args])


def written(tmp_path: Path, name: str, *lines: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return str(path)


async def test_reconcile_reports_every_kind_of_difference(
    records: dict[str, Any],
    admin_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The customer was paid in cash at the box office; the gateway's file will say more.
    note = "cash at the box office, receipt 1182"
    settled = runner.invoke(app, ["refunds", "settle-manually", records["settle"], "--note", note])
    assert settled.exit_code == 0, settled.output

    table = reconcile(str(SAMPLE))
    assert table.exit_code == 1, table.output
    assert "2 mismatched, 3 missing here, 2 missing at the gateway; 4 matched" in table.stderr
    assert "1 refund settled manually: paid by other means" in table.stderr
    assert "2026-11-20 to 2026-11-21" in table.stderr
    row = next(line for line in table.stdout.splitlines() if WRONG_AMOUNT in line)
    assert row.replace("│", " ").split()[:2] == ["mismatched", "capture"]
    assert "possible double payment" in table.stdout

    report = json.loads(reconcile(str(SAMPLE), "--json").stdout)
    assert report["clean"] is False
    assert [(i["type"], i["reference"], i["gateway_amount_minor"], i["our_amount_minor"])
            for i in report["mismatched"]] == [
        ("capture", WRONG_AMOUNT, 45000, 50000),
        ("refund", WRONG_REFUND, 5000, 4500),
    ]  # fmt: skip
    assert sorted((i["type"], i["reference"]) for i in report["matched"]) == [
        ("capture", MATCHED),
        ("capture", UNWOUND),
        ("refund", "re_4f8a2c6e0b9d41e7a3c5b1d2"),  # by its capture: we kept no refund id
        ("refund", MATCHED_REFUND),
    ]
    assert [(i["reference"], i["our_amount_minor"]) for i in report["missing_at_gateway"]] == [
        (OURS_ONLY, 20000),
        (OURS_ONLY_REFUND, 1000),
    ]
    unknown, paid_twice, maybe = report["missing_here"]
    assert (unknown["reference"], unknown["row"], unknown["note"]) == (
        "cap_f0e1d2c3b4a5968778695a4b",
        8,
        None,
    )
    assert (paid_twice["row"], paid_twice["booking_code"]) == (9, records["code"])
    assert paid_twice["note"].startswith(f"Refund {records['settle']} of this capture was settled")
    assert note in paid_twice["note"] and "possible double payment" in paid_twice["note"]
    assert (maybe["row"], maybe["booking_code"]) == (10, records["code"])
    assert f"Refund {records['given_up']} of this capture FAILED here" in maybe["note"]
    assert "bms admin refunds retry" in maybe["note"]
    [by_hand] = report["settled_manually"]
    assert (by_hand["refund_id"], by_hand["capture_reference"], by_hand["our_amount_minor"]) == (
        records["settle"],
        SETTLED_BY_HAND,
        20000,
    )
    assert by_hand["note"].endswith(f": {note}")

    # Refunds written negative (the sign convention of some gateways) match all the same.
    clean = written(
        tmp_path,
        "clean.csv",
        HEADER,
        f"capture,{MATCHED},,33040,INR,2026-11-20",
        f"refund,{MATCHED_REFUND},{MATCHED},-29500,INR,2026-11-20",
        f"capture,{WRONG_AMOUNT},,50000,INR,2026-11-20",
        f"refund,{WRONG_REFUND},{WRONG_AMOUNT},-4500,INR,2026-11-20",
        f"capture,{UNWOUND},,10000,INR,2026-11-20",
        f"refund,re_4f8a2c6e0b9d41e7a3c5b1d2,{UNWOUND},-10000,inr,2026-11-20",
        f"capture,{OURS_ONLY},,20000,INR,2026-11-20",
        f"refund,{OURS_ONLY_REFUND},{OURS_ONLY},1000,INR,2026-11-20",
    )
    matched = reconcile(clean, "--from", "2026-11-20")
    assert matched.exit_code == 0, matched.output
    assert "8 lines matched, no differences (2026-11-20 to 2026-11-20)" in matched.stderr

    # The old layout named a refund's capture in reference: said so, not silently missed.
    old = written(
        tmp_path,
        "old.csv",
        "reference,amount_minor,currency,date,type",
        f"{MATCHED},33040,INR,2026-11-20,capture",
        f"{MATCHED},29500,INR,2026-11-20,refund",
    )
    report = json.loads(reconcile(old, "--json").stdout)
    [named_capture] = report["missing_here"]
    assert named_capture["note"].startswith("This names a capture of ours: a refund line carries")
    assert named_capture["booking_code"] == records["code"]
    assert MATCHED_REFUND in [i["reference"] for i in report["missing_at_gateway"]]

    monkeypatch.setenv("BMS_TOKEN", admin_env["theater_admin"])
    refused = reconcile(str(SAMPLE))
    assert refused.exit_code == 1 and "403" in refused.stderr


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ((HEADER, "capture,cap_x,,12.5O,INR,2026-11-20"), "'12.5O' is not a whole number"),
        ((HEADER, "payout,po_x,,100,INR,2026-11-20"), "'payout' is neither capture nor refund"),
        ((HEADER, "capture,cap_x,,-100,INR,2026-11-20"), "a capture is positive"),
        ((HEADER, "refund,re_x,cap_x,0,INR,2026-11-20"), "0 moves no money"),
        ((HEADER, "capture,cap_x,,100,RUPEES,2026-11-20"), "not a 3-letter code"),
        ((HEADER, "capture,cap_x,,100,INR,20/11/2026"), "is not a date; write YYYY-MM-DD"),
        ((HEADER, "capture,,,100,INR,2026-11-20"), "required, but empty"),
        ((HEADER, "capture,cap_x,,100,INR,2026-11-20,oops"), "1 cell(s) more than headers"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column(
    tmp_path: Path, lines: tuple[str, ...], problem: str
) -> None:
    # Read and refused before anything is sent: no server needed.
    bad = written(tmp_path, "bad.csv", *lines, "capture,cap_ok,,100,INR,2026-11-20")
    answer = reconcile(bad)
    assert answer.exit_code == 2, answer.output
    assert "bad.csv has rows that cannot be read; fix them" in answer.stderr
    [row] = [line for line in answer.stdout.splitlines() if problem in line]
    assert row.replace("│", " ").split()[0] == "2"  # the header is row 1
    assert "Traceback" not in answer.output


def test_every_bad_cell_of_a_row_is_listed_at_once(tmp_path: Path) -> None:
    bad = written(
        tmp_path, "bad.csv", HEADER,
        "refund,re_x,cap_x,abc,INR,2026-13-01",
        "bogus,re_y,cap_x,0,XXXX,2026-11-20",
    )  # fmt: skip
    answer = reconcile(bad)
    assert answer.exit_code == 2, answer.output
    cells = [line.replace("│", " ").split()[:2] for line in answer.stdout.splitlines()[2:]]
    assert cells == [
        ["2", "amount_minor"], ["2", "date"],
        ["3", "type"], ["3", "currency"], ["3", "amount_minor"],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("short.csv", "reference,amount_minor,currency,date\n", "line 1: no column(s) type"),
        ("typo.csv", f"{HEADER},amount\n", "unknown column(s) amount"),
        ("twice.csv", f"{HEADER},type\n", "line 1: column(s) type appear twice"),
        ("empty.csv", "", "empty.csv is empty"),
        ("broken.json", '[{"type": "capture",\n "reference": }]', "broken.json:2:15: not valid"),
        ("notes.txt", "hello", "use a .csv or .json file"),
        ("missing.csv", None, "cannot read"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    answer = reconcile(str(path))
    assert answer.exit_code == 2, answer.output
    assert message in answer.stderr and answer.stdout == ""
    assert "Traceback" not in answer.output
