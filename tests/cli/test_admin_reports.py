"""`bms admin settlement | analytics | announce`: the real command in a subprocess against a
real `bms serve` for the month-end settlement (recomputed from the raw rows) and a refusal
for another theater's books; CliRunner against a real server for the rest."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from admin.commands.analytics import major
from admin.main import app
from server.contracts.enums import Role
from tests.cli.test_admin_accounts import Admin, StartServer, one_error_line
from tests.factories import make_user
from tests.integration.test_reports import (
    Week,
    as_printed,
    crafted_week,
    nonzero,
    november,
    recompute,
)

runner = CliRunner()
STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)


def pdf_text(pdf: bytes) -> bytes:
    """Every content stream of the PDF decoded (reportlab writes them ASCII85 over deflate):
    the page text as the drawing commands hold it."""
    return b"\n".join(
        zlib.decompress(base64.a85decode(chunk.strip().removesuffix(b"~>")))
        for chunk in STREAM.findall(pdf)
    )


async def test_month_end_settlement_by_the_real_command(
    server_factory: StartServer, session: AsyncSession, engine: AsyncEngine, tmp_path: Path
) -> None:
    month = await november(session)
    _, token = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[month.world.theater_id]
    )
    server = server_factory(BMS_PLATFORM_COMMISSION_BP="1250")
    admin = Admin(server.url, tmp_path / "config")
    days_csv, statement_pdf = tmp_path / "days.csv", tmp_path / "statement.pdf"

    done = admin(
        "settlement", "--theater", "Test Cinema", "--period", "2026-11", "--json",
        "--csv", str(days_csv), "--pdf", str(statement_pdf), token=token,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    statement = json.loads(done.stdout)
    expected = await recompute(engine, month.world.theater_id, "2026-11", 1250)
    assert as_printed(statement) == nonzero(expected)
    assert statement["total"]["net_payable_minor"] == expected["total"]["net_payable_minor"]
    assert f"wrote {days_csv}" in done.stderr and f"wrote {statement_pdf}" in done.stderr

    rows = list(csv.DictReader(days_csv.open()))
    assert [r["date"] for r in rows] == [d["date"] for d in statement["days"]] + ["total"]
    for row, line in zip(rows, [*statement["days"], statement["total"]], strict=True):
        assert {k: int(v) for k, v in row.items() if k != "date"} == {
            k: v for k, v in line.items() if k != "date"
        }

    pdf = statement_pdf.read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = pdf_text(pdf)
    assert b"(Test Cinema, Testville)" in pages and b"(Settlement statement)" in pages
    net = major(statement["total"]["net_payable_minor"], 2).encode()
    assert b"(" + net + b")" in pages

    table = admin("settlement", "--theater", "Test Cinema", "--period", "2026-11", token=token)
    assert table.returncode == 0, table.stderr
    assert "Net payable to the theater" in table.stdout
    assert major(statement["total"]["net_payable_minor"], 2) in table.stdout
    assert "commission 12.50 % of net ticket revenue" in table.stdout
    owed = "1 refund(s) of this period failed and are still owed to customers: 0.01"
    assert owed in " ".join(table.stdout.split())

    other = str(month.other.theater_id)
    refused = admin("settlement", "--theater", other, "--period", "2026-11", token=token)
    assert refused.returncode == 1 and refused.stdout == ""
    assert one_error_line(refused) == "error: 403 Forbidden: That theater is not one of yours."
    wrong = admin("settlement", "--theater", "Test Cinema", "--period", "2026-13", token=token)
    assert wrong.returncode == 2 and "write YYYY-MM" in wrong.stderr


@pytest.mark.parametrize("period", ["9999-12", "0000-01", "2026-00"])
def test_a_month_the_server_cannot_settle_is_a_usage_error(period: str) -> None:
    done = runner.invoke(app, ["settlement", "--theater", "T", "--period", period])
    assert done.exit_code == 2
    assert "0001-01 to 9998-12" in done.stderr


@pytest.fixture
async def week(
    server_factory: StartServer,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Week:
    """The crafted week of tests/integration/test_reports.py, a real server, and the commands
    acting as the theater's admin."""
    week = await crafted_week(session)
    server = server_factory()
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", week.manager_token)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    return week


DATES = ["--theater", "Test Cinema", "--from", "2026-11-21", "--to", "2026-11-23"]


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


async def test_analytics_tables_chart_json_and_csv(week: Week) -> None:
    shown = invoke("analytics", *DATES)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    for part in ("Occupancy by day", "Sat 2026-11-21", "Occupancy % by day", "Top movies",
                 "Second Feature", "Top start times", "Demand by weekday and local start hour"):  # fmt: skip
        assert part in out, part
    assert "4 shows, 120 of 590 seats sold (20.3 %)" in out
    assert re.search(r"Sun 2026-11-22[ │]+1[ │]+150[ │]+75[ │]+50\.0", out)

    report = json.loads(invoke("analytics", *DATES, "--json").stdout)
    assert (report["totals"]["booked_seats"], report["groups"][1]["occupancy_percent"]) == (
        120,
        50.0,
    )

    slots = invoke("analytics", *DATES, "--by", "slot", "--csv", "-")
    assert slots.exit_code == 0, slots.output
    rows = list(csv.DictReader(io.StringIO(slots.stdout)))
    assert [(r["key"], r["booked_seats"], r["occupancy_percent"]) for r in rows] == [
        ("morning", "30", "21.4"),
        ("afternoon", "15", "5.0"),
        ("evening", "75", "50.0"),
    ]
    quiet = invoke("analytics", *DATES, "--by", "show", "--no-chart")
    assert "Occupancy % by show" not in quiet.stdout and "Test Movie" in quiet.stdout
    clash = invoke("analytics", *DATES, "--json", "--csv", "-")
    assert clash.exit_code == 2
    assert clash.stderr.strip() == "error: only one of --json and --csv - can write to stdout"


async def test_announce_counts_and_queues(week: Week, engine: AsyncEngine) -> None:
    sunday = str(week.shows[3])
    dry = invoke("announce", "--show", sunday, "--message", "Doors open late.", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Second Feature" in dry.stdout
    assert "would tell 1 customers (1 bookings) of 1 shows (dry run: nothing sent)" in dry.stderr

    sent = invoke(
        "announce", *DATES, "--subject", "Doors", "--message", "Doors open late.", "--json"
    )
    assert sent.exit_code == 0, sent.output
    report = json.loads(sent.stdout)
    assert (report["applied"], report["events"], len(report["shows"])) == (True, 3, 4)
    assert "queued 3 announcements for 1 customers" in sent.stderr
    async with engine.connect() as conn:
        queued = await conn.scalar(text("SELECT count(*) FROM outbox WHERE topic = 'announcement'"))
    assert queued == 3

    both = invoke("announce", "--show", sunday, *DATES, "--message", "x")
    assert both.exit_code == 2
    no_dates = invoke("announce", "--theater", "Test Cinema", "--message", "x")
    assert no_dates.exit_code == 2
