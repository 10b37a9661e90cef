"""The README's first command, run as a newcomer would: a fresh data directory, no database
or Redis configured, and the server must come up ready with the demo data loaded."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, wait_ready

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "the README starts with a shell block"
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_readme_starts_with_exactly_two_commands() -> None:
    assert readme_commands() == ["python3 dev.py demo", "python3 dev.py test"]
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec python3 dev.py test")


def test_readme_demo_command_serves_demo_data(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BMS_")}
    env.update(BMS_DATA_DIR=str(tmp_path / "data"), BMS_PORT=str(port))
    log_path = tmp_path / "demo.log"
    command = readme_commands()[0].split()
    command[0] = sys.executable  # the same Python, whatever "python3" means here
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log_path, timeout=180)
        meta = httpx.get(f"{url}/api/v1/meta").json()
        assert meta["demo"] is True
        assert any(a["email"] == "admin@demo.bms" for a in meta["demo_accounts"])
        assert httpx.get(f"{url}/api/v1/cities").json()
        log = log_path.read_text()
        assert "database (embedded)" in log and "redis (embedded)" in log
        assert f"listening on http://127.0.0.1:{port}" in log
    finally:
        process.terminate()
        process.wait(30)
    postmaster = tmp_path / "data" / "postgres" / "postmaster.pid"
    assert not postmaster.exists(), "the embedded PostgreSQL stops with the server"
