"""How every admin command speaks: data on stdout (a Rich table, or JSON with ``--json``),
messages on stderr, one-line errors and fixed exit codes.

Exit codes: 0 ok, 1 error, 2 usage error, 3 a bulk operation that partly failed.
A traceback is shown only when BMS_DEBUG=1.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

# Piped output is read by scripts and grep: wide enough that a table row never wraps.
PIPE_WIDTH = 250

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]

T = TypeVar("T")
Column = tuple[str, Callable[[T], object]]


class CliError(Exception):
    """A failure the user can act on: printed as one ``error:`` line, then exit."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def debug_enabled() -> bool:
    return os.environ.get("BMS_DEBUG", "") not in ("", "0")


def stdout() -> Console:
    # Built per call so tests that swap sys.stdout (CliRunner) are honoured.
    console = Console(file=sys.stdout)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def stderr() -> Console:
    return Console(file=sys.stderr, highlight=False)


def _say(prefix: str, style: str, message: str) -> None:
    # Text, not markup: messages may hold '[' from user input or server sentences.
    stderr().print(Text(prefix, style=style) + Text(message), soft_wrap=True)


def info(message: str) -> None:
    _say("", "", message)


def success(message: str) -> None:
    _say("✓ ", "bold green", message)


def warn(message: str) -> None:
    _say("warning: ", "bold yellow", message)


def fail(message: str) -> None:
    _say("error: ", "bold red", message)


def print_json(data: object) -> None:
    encoded = msgspec.json.format(msgspec.json.encode(data), indent=2)
    sys.stdout.write(encoded.decode() + "\n")


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return str(value)


def listing(rows: Sequence[T], columns: Sequence[Column[T]], *, as_json: bool, empty: str) -> None:
    """A list result: JSON array, or a table (and ``empty`` on stderr when there is nothing)."""
    if as_json:
        print_json(rows)
        return
    if not rows:
        info(empty)
        return
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for header, get in columns:
        numeric = isinstance(get(rows[0]), int)
        table.add_column(header, overflow="fold", justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(Text(cell(get(row))) for _, get in columns))
    stdout().print(table)


def record(fields: Sequence[tuple[str, object]], *, as_json: bool, data: object) -> None:
    """A single result: ``data`` as a JSON object, or ``fields`` as aligned name/value lines."""
    if as_json:
        print_json(data)
        return
    width = max((len(name) for name, _ in fields), default=0)
    console = stdout()
    for name, value in fields:
        console.print(Text(name.ljust(width + 2), style="bold") + Text(cell(value)), soft_wrap=True)


def examples(*command_lines: str) -> str:
    """A help epilog showing example command lines, one a line."""
    heading = "Example:" if len(command_lines) == 1 else "Examples:"
    # Typer prints the epilog as Rich markup: escape keeps "[...]" in a command line literal.
    return "\n".join([heading, *(f"  {escape(line)}" for line in command_lines)])


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a CliError or any unexpected exception into one stderr line and an exit code."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except CliError as exc:
            if debug_enabled():
                raise
            fail(exc.message)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if debug_enabled():
                raise
            fail(
                f"unexpected {type(exc).__name__}: {exc}; run again with BMS_DEBUG=1 to see "
                "where, and report it if it keeps happening"
            )
            raise typer.Exit(EXIT_ERROR) from None

    return run


class AdminTyper(typer.Typer):
    """A Typer app whose every command reports failures through :func:`guarded`."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            register(guarded(function))
            return function

        return decorator
