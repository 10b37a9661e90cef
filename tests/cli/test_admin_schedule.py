"""`bms admin schedule upload|list` and `price set`: the real command in a subprocess against
a real `bms serve`, as a theater admin's nightly script runs it; plus quick in-process checks
of file reading."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from admin.commands.bulk import Steps, convert_rows, read_records
from admin.main import app
from server.contracts.admin import ScheduleRow
from server.contracts.enums import Role
from tests.cli.test_admin_accounts import Admin, StartServer, one_error_line
from tests.conftest import ROOT
from tests.factories import make_user, make_world

KOLKATA = ZoneInfo("Asia/Kolkata")
HEADER = ["movie", "theater", "screen", "starts_at", "language", "format", "prices.regular",
          "prices.premium", "prices.wheelchair", "prices.companion"]  # fmt: skip
PRICES = ["250.00", "400", "250", "250"]

runner = CliRunner()


def local(day: int, hour: int, minute: int = 0) -> str:
    """A wall time in Kolkata ``day`` days from now (real time: the server's clock is real)."""
    base = datetime.now(UTC).astimezone(KOLKATA) + timedelta(days=day)
    return base.replace(hour=hour, minute=minute).strftime("%Y-%m-%d %H:%M")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def show_row(starts_at: str, theater: str = "Test Cinema North", movie: str = "Test Movie North"):
    return [movie, theater, "Screen 1", starts_at, "English", "2D", *PRICES]


async def count_shows(session: AsyncSession) -> tuple[int, int]:
    row = (
        await session.execute(
            text("SELECT (SELECT count(*) FROM shows), (SELECT count(*) FROM show_seats)")
        )
    ).one()
    return row[0], row[1]


async def test_nightly_upload_with_dry_run_overlaps_scope_and_new_prices(
    server_factory: StartServer, session: AsyncSession, tmp_path: Path
) -> None:
    existing = datetime.now(UTC) + timedelta(days=3)
    north = await make_world(session, starts_at=existing, name_suffix=" North")
    await make_world(session, starts_at=existing, name_suffix=" South")
    _, token = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[north.theater_id])
    server = server_factory()
    admin = Admin(server.url, tmp_path / "config")
    nightly = write_csv(
        tmp_path / "nightly.csv",
        [show_row(local(5, 10)), show_row(local(5, 13)), show_row(local(5, 16))],
    )

    dry = admin("schedule", "upload", str(nightly), "--dry-run", token=token)
    assert dry.returncode == 0, dry.stderr
    assert "all 3 rows are valid (dry run: nothing written)" in dry.stderr
    assert await count_shows(session) == (2, 300)  # North's and South's

    done = admin("schedule", "upload", str(nightly), "--json", token=token)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["created"], [s["row"] for s in report["shows"]]) == (3, [2, 3, 4])
    assert await count_shows(session) == (5, 750)

    clash_at = existing.astimezone(KOLKATA) + timedelta(minutes=30)
    clashing = write_csv(
        tmp_path / "clashing.csv",
        [
            show_row(local(6, 10)),
            show_row(local(6, 11)),  # within row 2's 120 + 15 minutes
            show_row(clash_at.strftime("%Y-%m-%d %H:%M")),  # on the show from before
        ],
    )
    refused = admin("schedule", "upload", str(clashing), "--json", token=token)
    assert refused.returncode == 1
    problems = [(p["row"], p["column"]) for p in json.loads(refused.stdout)["problems"]]
    assert problems == [(3, "starts_at"), (4, "starts_at")]
    assert "2 of 3 rows have problems; nothing was written" in refused.stderr
    table = admin("schedule", "upload", str(clashing), token=token)
    assert "overlaps row 2 ('Test Movie North'" in table.stdout
    assert "overlaps the scheduled show of 'Test Movie North'" in table.stdout
    assert await count_shows(session) == (5, 750)

    foreign = write_csv(
        tmp_path / "foreign.csv",
        [show_row(local(7, 10)), show_row(local(7, 10), "Test Cinema South", "Test Movie South")],
    )
    denied = admin("schedule", "upload", str(foreign), token=token)
    assert denied.returncode == 1 and denied.stdout == ""
    assert one_error_line(denied) == (
        "error: 403 Forbidden: row(s) 3 are for Test Cinema South, which is not one of your "
        "theaters; upload shows for your own theaters only. Nothing was written."
    )

    show_id = report["shows"][0]["show_id"]
    repriced = admin("price", "set", "--show", show_id, "--price", "regular=310.50", token=token)
    assert repriced.returncode == 0, repriced.stderr
    assert "regular 25000 → 31050" in repriced.stdout
    async with httpx.AsyncClient(base_url=server.url) as http:
        seat_map = (await http.get(f"/api/v1/shows/{show_id}/seatmap")).json()
    prices = {seat["label"]: seat["price"] for seat in seat_map["seats"]}
    assert (prices["A1"], prices["G1"]) == (31050, 40000)


async def test_continue_on_error_writes_the_good_rows_and_exits_3(
    server_factory: StartServer,
    session: AsyncSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    north = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=3))
    _, token = await make_user(session, role=Role.PLATFORM_ADMIN)
    server = server_factory()
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", token)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    rows = [
        show_row(local(5, 10), theater="Test Cinema", movie="Test Movie"),
        [
            *show_row(local(5, 14), theater="Test Cinema", movie="Test Movie")[:6],
            "abc",
            "1",
            "1",
            "1",
        ],
        show_row(local(5, 18), theater="Test Cinema", movie="No Such Movie"),
    ]
    path = write_csv(tmp_path / "partly.csv", rows)
    result = runner.invoke(app, ["schedule", "upload", str(path), "--continue-on-error"])
    assert result.exit_code == 3, result.output
    assert "created 1 shows" in result.stderr and "2 of 3 rows failed" in result.stderr
    assert "'abc' is not an amount" in result.stdout
    assert "no movie 'No Such Movie'" in result.stdout
    listed = runner.invoke(app, ["schedule", "list", "--screen", str(north.screen_id), "--json"])
    assert [s["starts_local"] for s in json.loads(listed.stdout)][-1] == local(5, 10)


def test_the_sample_schedules_say_the_same_in_csv_and_json() -> None:
    as_csv, csv_problems = convert_rows(
        read_records(ROOT / "fixtures/schedule-sample.csv"), ScheduleRow
    )
    as_json, json_problems = convert_rows(
        read_records(ROOT / "fixtures/schedule-sample.json"), ScheduleRow
    )
    assert csv_problems == json_problems == []
    assert len(as_csv) == len(as_json) == 8
    for major, minor in zip(as_csv, as_json, strict=True):
        assert {t: int(Decimal(p) * 100) for t, p in major.prices.items()} == minor.prices_minor
        assert (major.movie, major.screen, major.starts_at) == (
            minor.movie, minor.screen, minor.starts_at
        )  # fmt: skip


def test_json_prices_may_be_numbers_read_exactly(tmp_path: Path) -> None:
    sample = json.loads((ROOT / "fixtures/schedule-sample.json").read_text())[0]
    del sample["prices_minor"]
    numbers = tmp_path / "numbers.json"
    numbers.write_text(json.dumps([sample])[:-2] + ', "prices": {"regular": 500, '
                       '"premium": 650.10, "companion": 1e3}}]')  # fmt: skip
    [row], problems = convert_rows(read_records(numbers), ScheduleRow)
    assert problems == []
    # As written (1e3 stays an exponent, which the server refuses as not an amount).
    assert row.prices == {"regular": "500", "premium": "650.10", "companion": "1E+3"}


def test_every_unreadable_cell_of_a_row_is_reported(tmp_path: Path) -> None:
    sample = json.loads((ROOT / "fixtures/schedule-sample.json").read_text())[0]
    bad = {"regular": 500.5, "premium": "65000", "wheelchair": True, "companion": "x"}
    items = tmp_path / "items.json"
    items.write_text(json.dumps([{**sample, "prices_minor": bad}]))
    short = tmp_path / "short.csv"
    short.write_text("movie,theater,screen,starts_at\nM,T,S,2027-01-01 10:00\n")
    _, problems = convert_rows(read_records(items), ScheduleRow)
    _, missing = convert_rows(read_records(short), ScheduleRow)
    assert [(p.column, p.reason) for p in problems] == [
        ("prices_minor.regular", "500.5 is not a whole number"),
        ("prices_minor.wheelchair", "True is not a whole number"),
        ("prices_minor.companion", "'x' is not a whole number"),
    ]
    assert [(p.row, p.column) for p in missing] == [(2, "language"), (2, "format")]


def test_unreadable_rows_and_unknown_columns_are_reported_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BMS_SERVER_URL", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("BMS_TOKEN", "bms_unused")
    typo = tmp_path / "typo.csv"
    typo.write_text("movie,theater,screen,starts_at,language,format,colour\n")
    result = runner.invoke(app, ["schedule", "upload", str(typo)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown column(s) colour; the columns are format")
    items = tmp_path / "items.json"
    items.write_text(json.dumps([42, {"movie": "M", "theater": "T"}]))
    result = runner.invoke(app, ["schedule", "upload", str(items), "--json"])
    problems = json.loads(result.stdout)["problems"]
    assert [(p["row"], p["column"]) for p in problems[:2]] == [(1, "-"), (2, "screen")]
    assert result.exit_code == 1
    assert runner.invoke(app, ["schedule", "upload", str(tmp_path / "x.txt")]).exit_code == 1


@pytest.mark.parametrize(
    "command",
    [["schedule", "upload"], ["schedule", "list"]],
)
def test_schedule_commands_show_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "bms admin " + " ".join(command) in result.stdout


def test_progress_shows_only_on_a_terminal_and_never_with_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert Steps(as_json=False).progress is not None
    assert Steps(as_json=True).progress is None
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    with Steps(as_json=False) as quiet:
        assert list(quiet.each("rows", [1, 2])) == [1, 2]
        assert quiet.progress is None
