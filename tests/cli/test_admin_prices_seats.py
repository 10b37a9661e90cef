"""`bms admin price …` and `bms admin seats …` in-process (CliRunner) against a real server."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from admin.main import app
from server.contracts.enums import Role
from tests.cli.test_admin_accounts import StartServer
from tests.factories import World, auth, make_user, make_world
from tests.integration.test_admin_api import sell

runner = CliRunner()


@dataclass
class Setup:
    world: World
    server_url: str


@pytest.fixture
async def setup(
    server_factory: StartServer,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Setup:
    """Two shows in two days, a real server, and the commands acting as the theater's admin."""
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=2), shows=2)
    _, token = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    server = server_factory()
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", token)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    return Setup(world, server.url)


async def test_prices_and_rules(setup: Setup) -> None:
    world = setup.world
    screen = str(world.screen_id)

    preview = runner.invoke(
        app, ["price", "set", "--screen", screen, "--price", "premium=450", "--dry-run"]
    )
    assert preview.exit_code == 0, preview.output
    assert preview.stdout.count("premium 40000 → 45000") == 2
    assert "2 of 2 matching shows would change" in preview.stderr
    applied = runner.invoke(
        app, ["price", "set", "--theater", "Test Cinema", "--price", "premium=450", "--json"]
    )
    report = json.loads(applied.stdout)
    assert (report["applied"], report["shows_changed"]) == (True, 2)
    malformed = runner.invoke(app, ["price", "set", "--screen", screen, "--price", "premium"])
    assert malformed.exit_code == 2

    rules = [
        ["--name", "busy", "--occupancy", "70", "--adjust", "15", "--ceiling", "premium=500"],
        ["--name", "weekend", "--weekday", "sat,sun", "--adjust", "10"],
        ["--name", "late", "--time", "22:00-02:00", "--adjust", "-20", "--seat-type", "regular"],
        ["--name", "early bird", "--days-before", "30-", "--adjust", "-5", "--priority", "5"],
    ]
    added = []
    for options in rules:
        result = runner.invoke(
            app, ["price", "rule", "add", "--theater", "Test Cinema", *options, "--json"]
        )
        assert result.exit_code == 0, result.output
        added.append(json.loads(result.stdout))
    assert added[0]["bounds"] == {"premium": {"floor_minor": None, "ceiling_minor": 50000}}
    assert added[3]["condition"] == {"kind": "days_before", "min_days": 30}
    table = runner.invoke(app, ["price", "rule", "list"])
    assert "occupancy at least 70 %" in table.stdout and "starting 22:00–02:00" in table.stdout
    both = runner.invoke(app, ["price", "rule", "add", "--theater", "Test Cinema", "--name",
                               "x", "--adjust", "1", "--occupancy", "5", "--weekday", "mon"])  # fmt: skip
    assert both.exit_code == 2

    shown = runner.invoke(app, ["price", "show", str(world.show_id)])
    assert shown.exit_code == 0, shown.output
    assert "rules applied:" in shown.stdout and "premium" in shown.stdout
    removed = runner.invoke(
        app, ["price", "rule", "remove", added[0]["rule_id"], str(uuid.uuid4())]
    )
    assert removed.exit_code == 3
    assert f"removed price rule {added[0]['rule_id']}" in removed.stderr
    assert "404 Not found: There is no price rule" in removed.stderr


async def test_seat_repairs_report_per_show_and_exit_3_when_partly_refused(
    setup: Setup, session: AsyncSession
) -> None:
    world = setup.world
    buyer, buyer_token = await make_user(session)
    first, second = world.show_ids
    async with httpx.AsyncClient(base_url=setup.server_url) as http:
        held = await http.post(
            f"/api/v1/shows/{first}/holds",
            json={"seat_ids": [str(world.seats["C3"])]},
            headers=auth(buyer_token),
        )
        assert held.status_code == 201, held.text
    await sell(session, second, [world.seats["C4"]], buyer.id)
    block = ["seats", "block", "--screen", str(world.screen_id), "--seat", "C3,C4"]

    partly = runner.invoke(app, [*block, "--reason", "loose bolts"])
    assert partly.exit_code == 3, partly.output
    assert "held by a buyer" in partly.stdout and "add --move-customers" in partly.stdout
    assert "2 seat changes over 2 shows; 2 refused" in partly.stderr

    moved = runner.invoke(app, [*block, "--show", str(second), "--move-customers", "--json"])
    assert moved.exit_code == 0, moved.output
    [show] = json.loads(moved.stdout)["shows"]
    [move] = show["moved"]
    assert move["from_seat"] == "C4" and move["to_seat"] != "C4"
    assert show["changed"] == ["C4"]

    unblocked = runner.invoke(app, ["seats", "unblock", "--screen", str(world.screen_id),
                                    "--seat", "C3", "--seat", "C4", "--json"])  # fmt: skip
    report = json.loads(unblocked.stdout)
    assert unblocked.exit_code == 0 and report["changed"] == 3
    unknown = runner.invoke(app, ["seats", "block", "--screen", str(world.screen_id),
                                  "--seat", "Z99"])  # fmt: skip
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("error: 422 Invalid request: This screen has no seat Z99")


@pytest.mark.parametrize(
    "command",
    [["price", "set"], ["price", "show"], ["price", "rule", "add"], ["price", "rule", "list"],
     ["price", "rule", "remove"], ["seats", "block"], ["seats", "unblock"]],
)  # fmt: skip
def test_price_and_seat_commands_show_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "bms admin " + " ".join(command) in result.stdout
