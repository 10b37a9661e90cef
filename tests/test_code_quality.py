"""The code-quality gates run with the suite, so CI enforces them: ruff (lint and format),
mypy on server/, and the import-linter contracts (clients speak HTTP; contracts stay plain)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

GATES = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy": [sys.executable, "-m", "mypy"],
    "import contracts": [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
    ],
}


@pytest.mark.parametrize("gate", GATES)
def test_gate_passes(gate: str) -> None:
    result = subprocess.run(GATES[gate], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{gate} failed:\n{result.stdout}\n{result.stderr}"
