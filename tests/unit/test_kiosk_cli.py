"""``bms kiosk``'s own words send staff to admin commands that exist."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from admin.main import app as admin_app
from bmscli.main import app as bms_app
from bmscli.tui.kiosk import _NO_TOKEN

ADMIN_COMMAND = re.compile(r"bms admin ([a-z-]+) ([a-z-]+)")


def test_the_kiosk_names_the_real_token_command() -> None:
    runner = CliRunner()
    help_text = runner.invoke(bms_app, ["kiosk", "--help"], env={"COLUMNS": "300"}).output
    named = ADMIN_COMMAND.findall(help_text) + ADMIN_COMMAND.findall(_NO_TOKEN)
    assert named == [("token", "create"), ("token", "create")]
    for group, command in set(named):
        assert runner.invoke(admin_app, [group, command, "--help"]).exit_code == 0
