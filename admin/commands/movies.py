"""movie add | update | list | import: the movie catalog (writes are for platform admins)."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import (
    DryRun,
    by_row,
    convert_rows,
    failed_rows,
    problem_table,
    read_records,
)
from admin.output import (
    EXIT_ERROR,
    EXIT_USAGE,
    AdminTyper,
    CliError,
    Column,
    JsonFlag,
    examples,
    fail,
    info,
    listing,
    print_json,
    record,
    success,
)
from server.contracts import admin as contracts
from server.contracts import api

app = AdminTyper(
    help="Movies: add, update, list, import many from CSV or JSON.", no_args_is_help=True
)

MOVIES = "/api/v1/admin/movies"

MOVIE_COLUMNS: list[Column[api.MovieOut]] = [
    ("ID", lambda m: m.movie_id),
    ("Title", lambda m: m.title),
    ("Released", lambda m: m.release_date),
    ("Minutes", lambda m: m.duration_minutes),
    ("Cert", lambda m: m.certification),
    ("Languages", lambda m: m.languages),
    ("Genres", lambda m: m.genres),
]

Languages = Annotated[
    list[str] | None, typer.Option("--language", help="A language it plays in; repeatable.")
]
Genres = Annotated[list[str] | None, typer.Option("--genre", help="A genre; repeatable.")]


def show_movie(movie: api.MovieOut, as_json: bool) -> None:
    record([(name, get(movie)) for name, get in MOVIE_COLUMNS], as_json=as_json, data=movie)


@app.command(
    "add",
    epilog=examples(
        "bms admin movie add --title 'Paper Moons' --language Hindi --language English "
        "--duration 131 --certification UA --release-date 2026-12-04 --genre Drama"
    ),
)
def add(
    title: Annotated[str, typer.Option(help="The title as shown to customers.")],
    duration: Annotated[int, typer.Option(help="Running time in minutes.")],
    certification: Annotated[str, typer.Option(help="The certificate, e.g. U, UA, A.")],
    release_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    language: Languages = None,
    genre: Genres = None,
    synopsis: Annotated[str, typer.Option(help="A short synopsis.")] = "",
    poster_url: Annotated[str | None, typer.Option(help="https:// address of the poster.")] = None,
    trailer_url: Annotated[
        str | None, typer.Option(help="https:// address of the trailer.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a movie (platform admins). Shows are scheduled in one of its languages."""
    body = contracts.MovieCreate(
        title=title,
        languages=language or [],
        duration_minutes=duration,
        certification=certification,
        release_date=_date(release_date, "--release-date"),
        genres=genre or [],
        synopsis=synopsis,
        poster_url=poster_url,
        trailer_url=trailer_url,
    )
    with connect() as client:
        show_movie(client.post(MOVIES, api.MovieOut, body), as_json)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date; write YYYY-MM-DD", param_hint=option
        ) from None


@app.command(
    "update",
    epilog=examples(
        "bms admin movie update MOVIE_ID --duration 135",
        "bms admin movie update MOVIE_ID --language Hindi --language Tamil",
    ),
)
def update(
    movie: Annotated[uuid.UUID, typer.Argument(help="The movie's id (see movie list).")],
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    duration: Annotated[int | None, typer.Option(help="Running time in minutes.")] = None,
    certification: Annotated[str | None, typer.Option(help="The certificate.")] = None,
    release_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    language: Languages = None,
    genre: Genres = None,
    synopsis: Annotated[str | None, typer.Option(help="A short synopsis.")] = None,
    poster_url: Annotated[str | None, typer.Option(help="https:// address.")] = None,
    trailer_url: Annotated[str | None, typer.Option(help="https:// address.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a movie (platform admins); options left out stay. --language and --genre
    replace the whole list. A new running time applies to shows scheduled afterwards."""
    body = contracts.MovieUpdate(
        title=title,
        duration_minutes=duration,
        certification=certification,
        release_date=_date(release_date, "--release-date") if release_date else None,
        languages=language,
        genres=genre,
        synopsis=synopsis,
        poster_url=poster_url,
        trailer_url=trailer_url,
    )
    if body == contracts.MovieUpdate():
        raise CliError("nothing to change; give at least one option", EXIT_USAGE)
    with connect() as client:
        show_movie(client.patch(f"{MOVIES}/{movie}", api.MovieOut, body), as_json)


@app.command(
    "list", epilog=examples("bms admin movie list", "bms admin movie list --search monsoon")
)
def list_movies(
    search: Annotated[str | None, typer.Option(help="Title, cast name or genre.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List movies (every one, or those matching --search), most popular first."""
    with connect() as client:
        movies = client.get("/api/v1/movies", list[api.MovieOut], q=search)
    listing(movies, MOVIE_COLUMNS, as_json=as_json, empty="no movies match")


@app.command(
    "import",
    epilog=examples(
        "bms admin movie import movies.csv --dry-run", "bms admin movie import movies.json"
    ),
)
def import_movies(
    file: Annotated[Path, typer.Argument(help="A .csv or .json file, one movie per row.")],
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Add or update many movies, all or nothing (platform admins).

    Columns: title, languages and genres (comma-separated in CSV), duration_minutes,
    certification, release_date (YYYY-MM-DD), synopsis, poster_url, trailer_url; JSON rows
    may add cast and crew. A row with the title and release date of an existing movie updates
    it. Every problem is reported by row and column; exits 1 when there is any.
    """
    rows, local = convert_rows(read_records(file), contracts.MovieRow)
    if not rows and not local:
        raise CliError(f"{file} has no rows")
    body = contracts.MovieImport(movies=rows, dry_run=dry_run or bool(local))
    with connect() as client:
        report = client.post(f"{MOVIES}/import", contracts.MovieImportOut, body)
    report.problems = by_row([*local, *report.problems])
    report.rows += len({p.row for p in local})
    if as_json:
        print_json(report)
    elif report.problems:
        problem_table(report.problems)
    if report.problems:
        fail(
            f"{failed_rows(report.problems)} of {report.rows} rows have problems; nothing was written"
        )
        raise typer.Exit(EXIT_ERROR)
    if report.applied:
        success(f"{report.created} movies added, {report.updated} updated")
        if not as_json:
            listing(report.movies, MOVIE_COLUMNS, as_json=False, empty="")
    else:
        info(f"dry run: {report.created} would be added, {report.updated} updated")
