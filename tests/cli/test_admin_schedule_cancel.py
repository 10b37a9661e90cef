"""`bms admin schedule cancel` against a real server: one show, then a date range (dry run
first), with full refunds, and a re-run that refunds nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from admin.main import app
from server.contracts.enums import Role
from tests.factories import auth, make_user, make_world
from tests.integration.test_checkout import book, hold_seats, pay_by_card

runner = CliRunner()


async def test_cancel_one_show_then_a_range(
    server_factory, session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=3), shows=2)
    _, admin = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    _, buyer = await make_user(session)
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.url) as client:
        for show_id in world.show_ids:
            one_show = type(world)(**{**world.__dict__, "show_ids": [show_id]})
            hold_id = await hold_seats(client, auth(buyer), one_show, "F5", "F6")
            booked = await book(client, auth(buyer), hold_id, [pay_by_card()])
            assert booked.status_code == 201, booked.text
    monkeypatch.setenv("BMS_SERVER_URL", server.url)
    monkeypatch.setenv("BMS_TOKEN", admin)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    first = runner.invoke(
        app,
        ["schedule", "cancel", "--show", str(world.show_ids[0]), "--reason", "projector", "--json"],
    )
    assert first.exit_code == 0, first.output
    (report,) = msgspec.json.decode(first.stdout)
    assert report["bookings_refunded"] == 1 and report["refund_minor"] > 0

    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    later = (datetime.now(UTC) + timedelta(days=4)).date().isoformat()
    rng = ["--screen", str(world.screen_id), "--from", day, "--to", later, "--reason", "closed"]
    preview = runner.invoke(app, ["schedule", "cancel", *rng, "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "would cancel" in preview.stderr
    statuses = await session.scalars(
        text("SELECT status FROM shows WHERE id = :s"), {"s": world.show_ids[1]}
    )
    assert list(statuses) == ["SCHEDULED"]  # a dry run changes nothing

    applied = runner.invoke(app, ["schedule", "cancel", *rng, "--json"])
    assert applied.exit_code == 0, applied.output
    again = runner.invoke(app, ["schedule", "cancel", *rng, "--json"])
    assert again.exit_code == 0, again.output
    refunds = await session.scalar(text("SELECT count(*) FROM refunds"))
    assert refunds == 2  # one per booking, never a second time
    wrong = runner.invoke(app, ["schedule", "cancel", "--reason", "x"])
    assert wrong.exit_code == 2
