"""`bms admin layout validate|show`: precise errors, seat counts and a coloured drawing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.commands.layouts import GLYPH_STYLES, SEAT_STYLES, coloured
from admin.main import app
from server.layouts.model import SeatType
from server.layouts.parser import load_layout, parse_layout
from server.layouts.render import render_text

LAYOUTS = Path(__file__).resolve().parents[2] / "layouts"
SHIPPED = sorted(LAYOUTS.glob("*.layout"))

runner = CliRunner()

GOOD = "layout: Tiny\nscreen: top\nA | RRPP |\nB | WcCC |\n"
BAD = "layout: Broken\nscreen: top\nA | RRXR |\nB | RR | sideways\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"good": tmp_path / "good.layout", "bad": tmp_path / "bad.layout"}
    paths["good"].write_text(GOOD)
    paths["bad"].write_text(BAD)
    return paths


def test_validate_shipped_layouts_summarises_seats_by_type() -> None:
    result = runner.invoke(app, ["layout", "validate", *map(str, SHIPPED)])
    assert result.exit_code == 0, result.output
    for path in SHIPPED:
        layout = load_layout(path)
        row = next(line for line in result.stdout.splitlines() if path.name in line)
        assert layout.name in row
        assert str(len(layout.seats)) in row
    assert f"{len(SHIPPED)} layouts valid" in result.stderr


def test_validate_json_lists_counts_per_file(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["layout", "validate", str(files["good"]), "--json"])
    assert result.exit_code == 0, result.output
    [checked] = json.loads(result.stdout)
    assert checked == {
        "file": str(files["good"]),
        "valid": True,
        "name": "Tiny",
        "sections": ["Stalls"],
        "seats": 8,
        "seats_by_type": {"regular": 2, "premium": 2, "couple": 2, "wheelchair": 1, "companion": 1},
        "errors": [],
    }


def test_validate_reports_every_problem_as_file_line_column(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["layout", "validate", str(files["good"]), str(files["bad"])])
    assert result.exit_code == 1
    bad = files["bad"]
    assert result.stderr.splitlines()[:2] == [
        f"error: {bad}:3:7: unknown seat code 'X'; use one of R P L C W c or '.' for a gap",
        f"error: {bad}:4:10: unknown option 'sideways'; use 'rtl' or 'ltr', 'start=<number>' "
        "or the row label again",
    ]
    assert "1 of 2 layouts has problems (2 in all)" in result.stderr
    # The valid file is still summarised on stdout; the broken one is not.
    assert "Tiny" in result.stdout
    assert "bad.layout" not in result.stdout


def test_validate_json_carries_the_errors(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["layout", "validate", "--json", str(files["bad"])])
    assert result.exit_code == 1
    [checked] = json.loads(result.stdout)
    assert checked["valid"] is False
    assert [(e["line"], e["column"]) for e in checked["errors"]] == [(3, 7), (4, 10)]


def test_an_unreadable_file_is_one_more_located_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.layout"
    result = runner.invoke(app, ["layout", "validate", str(missing)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {missing}:1:1: cannot read the file (No such file or directory); check the path"
    )
    assert result.stdout == ""


def test_show_prints_the_drawing_without_colour_when_piped() -> None:
    path = LAYOUTS / "balcony-classic.layout"
    result = runner.invoke(app, ["layout", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == render_text(load_layout(path))
    assert "\x1b[" not in result.stdout


def test_show_refuses_a_broken_layout(files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["layout", "show", str(files["bad"])])
    assert result.exit_code == 1
    assert f"{files['bad']}:3:7: unknown seat code 'X'" in result.stderr
    assert result.stdout == ""


def test_colours_follow_seat_type_and_spare_row_labels() -> None:
    # Row labels that are also seat codes must not be coloured as seats.
    layout = parse_layout("layout: Labels\nscreen: top\nR | PP.R |\nC | CC.W |\n")
    drawing = coloured(layout)
    assert drawing.plain == render_text(layout)
    styled = {
        drawing.plain[span.start : span.end] + f"@{span.start}": str(span.style)
        for span in drawing.spans
    }
    lines = drawing.plain.splitlines(keepends=True)
    row_r = len("".join(lines[:3]))  # title, blank, screen, then row R
    assert lines[3].startswith("R PP R")
    assert f"R@{row_r}" not in styled  # the row label
    assert styled[f"P@{row_r + 2}"] == SEAT_STYLES[SeatType.PREMIUM]
    assert styled[f"R@{row_r + 5}"] == SEAT_STYLES[SeatType.REGULAR]
    legend_start = drawing.plain.rindex("\n", 0, len(drawing.plain) - 1) + 1
    assert styled[f"C@{drawing.plain.index('C couple', legend_start)}"] == GLYPH_STYLES["C"]


@pytest.mark.parametrize("command", ["validate", "show"])
def test_every_layout_command_has_an_example(command: str) -> None:
    result = runner.invoke(app, ["layout", command, "--help"])
    assert result.exit_code == 0
    assert "bms admin layout " + command in result.stdout
