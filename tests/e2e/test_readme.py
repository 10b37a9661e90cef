"""The README's first command, run as a newcomer would: a fresh data directory, no server,
database or Redis configured, in a real terminal. The box office must open on its embedded
backend with the demo data loaded (the login screen lists the demo accounts), and quitting
must stop the embedded servers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.terminal import Terminal

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "the README starts with a shell block"
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_readme_starts_with_exactly_two_commands() -> None:
    assert readme_commands() == ["python3 dev.py tui", "python3 dev.py test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec python3 dev.py test")


def test_readme_first_command_opens_the_box_office_with_demo_data(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMS_")}
    env.update(
        BMS_DATA_DIR=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        TERM="xterm-256color",
    )
    program, *args = readme_commands()[0].split()
    assert program == "python3"  # run with this very interpreter, whatever python3 is here
    terminal = Terminal(args, env)
    try:
        terminal.wait_for("admin@demo.bms", seconds=180)
        terminal.wait_for("clerk@demo.bms", seconds=30)  # the list may still be drawing
    finally:
        terminal.press("\x11")  # ctrl+q
        terminal.wait_exit(60)
    log = (tmp_path / "state" / "bms" / "embedded-server.log").read_text()
    assert "database (embedded)" in log and "redis (embedded)" in log
    assert "demo data loaded" in log
    postmaster = tmp_path / "data" / "postgres" / "postmaster.pid"
    assert not postmaster.exists(), "the embedded PostgreSQL stops with the box office"
