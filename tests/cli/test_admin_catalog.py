"""`bms admin theater|screen|layout|movie` in-process (Typer's CliRunner) against a real
`bms serve`: tables on stdout, JSON with --json, one-line errors, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from admin.commands.bulk import convert_rows, read_records
from admin.main import app
from admin.output import CliError
from server.contracts.admin import MovieRow
from server.contracts.enums import Role
from tests.cli.test_admin_accounts import StartServer
from tests.factories import LAYOUTS, make_user, make_world

runner = CliRunner()
TINY = "layout: Tiny\nscreen: top\nA | RRRR |\nB | PPPP |\n"


@pytest.fixture
def server_url(server_factory: StartServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A real server the commands talk to, with a private config dir (tokens come per call)."""
    url = server_factory().url
    monkeypatch.setenv("BMS_SERVER_URL", url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    return url


def run(*args: str, token: str) -> object:
    return runner.invoke(app, list(args), env={"BMS_TOKEN": token})


def data(result) -> object:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_theaters_screens_and_layouts(
    server_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    world = await make_world(session, starts_at=datetime.now(UTC) + timedelta(days=2))
    _, root = await make_user(session, role=Role.PLATFORM_ADMIN)
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])

    created = data(run(
        "theater", "create", "--name", "Harbour Screens", "--city", "Testville",
        "--address", "2 Quay Road", "--lat", "19.0", "--lon", "72.8", "--facility", "parking",
        "--refund", "48:100", "--refund", "3:40", "--json", token=root,
    ))  # fmt: skip
    assert created["cancellation_policy"]["tiers"][1] == {
        "min_hours_before": 3,
        "refund_percent": 40,
    }
    refused = run("theater", "create", "--name", "X", "--city", "Testville", "--address", "a",
                  "--lat", "1", "--lon", "1", token=manager)  # fmt: skip
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: 403 Forbidden: This needs one of the roles")

    listed = run("theater", "list", token=manager)
    assert "Test Cinema" in listed.stdout and "Harbour Screens" not in listed.stdout
    updated = data(run("theater", "update", "Test Cinema", "--hold-minutes", "14",
                       "--fee-refundable", "--json", token=manager))  # fmt: skip
    assert updated["hold_minutes"] == 14
    assert updated["cancellation_policy"]["convenience_fee_refundable"] is True
    assert len(updated["cancellation_policy"]["tiers"]) == 3  # the tiers stayed
    shown = run("theater", "show", "Test Cinema", token=manager)
    assert "Hold minutes        14" in shown.stdout
    bad = run("theater", "update", "Test Cinema", "--refund", "soon", token=manager)
    assert bad.exit_code == 2

    tiny = tmp_path / "tiny.layout"
    tiny.write_text(TINY)
    screen = data(run("screen", "create", "--theater", "Test Cinema", "--name", "Studio",
                      "--layout", str(tiny), "--format", "2D", "--json", token=manager))  # fmt: skip
    assert screen["seats_by_type"] == {"regular": 4, "premium": 4}
    broken = tmp_path / "broken.layout"
    broken.write_text("layout: B\nscreen: top\nA | RXR |\n")
    located = run("screen", "create", "--theater", "Test Cinema", "--name", "B",
                  "--layout", str(broken), "--format", "2D", token=manager)  # fmt: skip
    assert located.exit_code == 1
    assert f"{broken}:3:6: unknown seat code 'X'" in located.stderr
    renamed = data(run("screen", "update", screen["screen_id"], "--name", "Studio One",
                       "--json", token=manager))  # fmt: skip
    assert renamed["name"] == "Studio One"
    screens = run("screen", "list", "--theater", "Test Cinema", token=manager)
    assert "Studio One" in screens.stdout and "Screen 1" in screens.stdout

    drawn = run("layout", "show", screen["screen_id"], token=manager)
    assert drawn.exit_code == 0 and drawn.stdout.startswith("Tiny (8 seats)")
    bigger = tmp_path / "bigger.layout"
    bigger.write_text(TINY.replace("A | RRRR |", "A | RRRRRR |").replace("B | PPPP |", "B | PP |"))
    preview = data(run("layout", "import", str(bigger), "--screen", screen["screen_id"],
                       "--dry-run", "--json", token=manager))  # fmt: skip
    assert (preview["added"], preview["retired"], preview["applied"]) == (
        ["A5", "A6"], ["B3", "B4"], False
    )  # fmt: skip
    applied = run("layout", "import", str(bigger), "--screen", screen["screen_id"], token=manager)
    assert applied.exit_code == 0, applied.output
    assert "Retired       B3, B4" in applied.stdout
    assert "now has layout 'Tiny'" in applied.stderr

    standard = (LAYOUTS / "standard-150.layout").read_text()
    shorter = tmp_path / "shorter.layout"
    shorter.write_text(standard.replace("K | cWRR..RRRRRRRRRWc |", ""))
    hold = run("layout", "import", str(shorter), "--screen", str(world.screen_id),
               "--dry-run", token=manager)  # fmt: skip
    assert hold.exit_code == 0, hold.output  # unsold: retiring row K is fine
    assert "K1, K10" in hold.stdout


async def test_movies_add_update_list_and_import(
    server_url: str, session: AsyncSession, tmp_path: Path
) -> None:
    _, root = await make_user(session, role=Role.PLATFORM_ADMIN)
    movie = data(run("movie", "add", "--title", "Paper Moons", "--language", "Hindi",
                     "--duration", "131", "--certification", "UA", "--release-date",
                     "2026-12-04", "--genre", "Drama", "--json", token=root))  # fmt: skip
    changed = data(run("movie", "update", movie["movie_id"], "--language", "Hindi",
                       "--language", "English", "--json", token=root))  # fmt: skip
    assert changed["languages"] == ["Hindi", "English"]
    assert run("movie", "update", movie["movie_id"], token=root).exit_code == 2
    assert run("movie", "add", "--title", "X", "--duration", "9", "--certification", "U",
               "--release-date", "soon", token=root).exit_code == 2  # fmt: skip

    movies = tmp_path / "movies.csv"
    movies.write_text(
        "title,languages,genres,duration_minutes,certification,release_date\n"
        'Paper Moons,"Hindi, English",Drama,135,UA,2026-12-04\n'
        "Glass Rivers,English,,abc,A,2026-12-11\n"
        "Tin Stars,,,100,U,2026-12-18\n"
    )
    report = run("movie", "import", str(movies), "--json", token=root)
    assert report.exit_code == 1
    problems = json.loads(report.stdout)["problems"]
    assert [(p["row"], p["column"], p["reason"]) for p in problems] == [
        (3, "duration_minutes", "'abc' is not a whole number"),
        (4, "languages", "required, but empty"),
    ]
    assert "2 of 3 rows have problems; nothing was written" in report.stderr
    movies.write_text(
        movies.read_text().replace(",abc,", ",95,").replace("Tin Stars,,", "Tin Stars,English,")
    )
    imported = run("movie", "import", str(movies), token=root)
    assert imported.exit_code == 0, imported.output
    assert "2 movies added, 1 updated" in imported.stderr
    listed = data(run("movie", "list", "--search", "Paper Moons", "--json", token=root))
    assert listed[0]["duration_minutes"] == 135


@pytest.mark.parametrize(
    "command",
    [
        ["theater", "create"], ["theater", "list"], ["theater", "show"], ["theater", "update"],
        ["screen", "create"], ["screen", "list"], ["screen", "show"], ["screen", "update"],
        ["layout", "import"], ["layout", "show"],
        ["movie", "add"], ["movie", "update"], ["movie", "list"], ["movie", "import"],
    ],
)  # fmt: skip
def test_catalog_commands_show_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "bms admin " + " ".join(command) in result.stdout


def test_movie_import_lists_every_unreadable_cell_of_a_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "title,languages,genres,duration_minutes,certification,release_date\n"
        ",English,Drama,abc,UA,2027-02-30\n"
    )
    _, problems = convert_rows(read_records(bad), MovieRow)
    assert [(p.row, p.column) for p in problems] == [
        (2, "title"),
        (2, "duration_minutes"),
        (2, "release_date"),
    ]


def test_an_unknown_movie_column_names_the_movie_columns_only(tmp_path: Path) -> None:
    typo = tmp_path / "typo.csv"
    typo.write_text("title,foo\nx,y\n")
    with pytest.raises(CliError) as refused:
        convert_rows(read_records(typo), MovieRow)
    assert refused.value.message.startswith("unknown column(s) foo; the columns are cast,")
    assert "prices" not in refused.value.message
