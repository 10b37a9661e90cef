#!/usr/bin/env python3
"""Bootstrap and run bms from a fresh clone with nothing but Python 3.11+.

    python3 dev.py tui       # the box office (TUI) on the embedded backend, with demo data
    python3 dev.py test      # the whole test suite
    python3 dev.py demo      # just the server, on the embedded backend, with demo data
    python3 dev.py ARGS...   # anything else runs inside the project environment (uv run ARGS)

It finds `uv` on PATH or installs a pinned copy into `.tools/` (a private venv), then lets uv
create `.venv` from the committed `uv.lock`. Nothing is installed outside the checkout except
uv's download cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"

SHORTCUTS = {
    "tui": ["bms", "tui"],
    "demo": ["bms", "demo"],
    "test": ["pytest"],
}


def find_uv() -> str:
    """Return a uv executable, installing a pinned one into .tools/ when none is on PATH."""
    on_path = shutil.which("uv")
    if on_path:
        return on_path
    bindir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bindir / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        print(f"dev.py: installing uv {UV_VERSION} into {TOOLS} (first run only)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        pip = [str(bindir / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, f"uv=={UV_VERSION}"], check=True)
    return str(uv)


def test_processes(shortcut: str) -> list[str]:
    """The whole suite runs in two processes, each with its own embedded PostgreSQL and
    Valkey (a test file runs whole in one of them, so module fixtures are made once): while
    one waits on a server it started, the other runs. Against external servers
    (BMS_TEST_DATABASE_URL / BMS_TEST_REDIS_URLS) both would share one database: one process."""
    external = os.environ.get("BMS_TEST_DATABASE_URL") or os.environ.get("BMS_TEST_REDIS_URLS")
    if shortcut != "test" or external:
        return []
    return ["--numprocesses", "2", "--dist", "loadfile"]


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    command = SHORTCUTS.get(argv[0], [argv[0]]) + test_processes(argv[0]) + argv[1:]
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must explain itself on old Pythons
        print("dev.py: bms needs Python 3.11 or newer", file=sys.stderr)
        return 2
    uv = find_uv()
    env = dict(os.environ)
    # Build .venv with the interpreter running this script, so no Python download is needed.
    env.setdefault("UV_PYTHON", sys.executable)
    os.chdir(ROOT)
    # Become uv (no wrapper process left behind): signals such as Ctrl-C or a service
    # manager's SIGTERM reach uv, which forwards them to bms.
    os.execve(uv, [uv, "run", "--frozen", "--", *command], env)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
