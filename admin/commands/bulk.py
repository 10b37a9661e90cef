"""What the bulk commands share: reading CSV or JSON files into request rows, money and
seat-type options, row/column problem reports, and a progress display on terminals."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from admin.api import AdminApi, ApiError
from admin.output import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    EXIT_USAGE,
    CliError,
    Column,
    fail,
    listing,
    stderr,
    success,
)
from server.contracts.admin import RowProblem

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")

# CSV cells of these columns hold comma-separated lists ("Hindi, English").
LIST_COLUMNS = frozenset({"languages", "genres"})
_AT_PATH = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")
# A row's own check (a Struct's __post_init__) names the column it is about first.
_ABOUT_COLUMN = re.compile(r"([a-z_]+): (.+)", re.DOTALL)

PROBLEM_COLUMNS: list[Column[RowProblem]] = [
    ("Row", lambda p: p.row),
    ("Column", lambda p: p.column),
    ("Problem", lambda p: p.reason),
]


@dataclass
class Records:
    """A file's data rows as plain dicts, numbered as a person finds them: CSV rows as a
    spreadsheet numbers them (the header is row 1), JSON array items from 1."""

    rows: list[tuple[int, dict[str, Any]]]
    problems: list[RowProblem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # a CSV file's header


def read_records(path: Path) -> Records:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"cannot read {path} ({exc.strerror}); check the path") from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text; save it as UTF-8 and try again") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return _csv_records(text)
        except CliError as exc:
            raise CliError(f"{path}: {exc.message}") from None
    if suffix == ".json":
        return _json_records(path, text)
    raise CliError(f"{path}: use a .csv or .json file", EXIT_USAGE)


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    """CSV columns to request fields: "prices.premium" nests, list columns split on commas,
    empty cells are left out."""
    record: dict[str, Any] = {}
    for column, cell in flat.items():
        value = (cell or "").strip()
        if not value:
            continue
        if column in LIST_COLUMNS:
            record[column] = [part.strip() for part in value.split(",") if part.strip()]
        elif "." in column:
            outer, inner = column.split(".", 1)
            record.setdefault(outer, {})[inner] = value
        else:
            record[column] = value
    return record


def _csv_records(text: str) -> Records:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        headers = [h.strip() for h in reader.fieldnames or []]
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise CliError(f"line 1: column(s) {', '.join(twice)} appear twice in the header")
        reader.fieldnames = headers
        records = Records(rows=[], columns=headers)
        for index, flat in enumerate(reader, start=2):
            extra = flat.pop(None, None)  # type: ignore[call-overload]
            if extra:
                records.problems.append(
                    RowProblem(
                        row=index, column="-", reason=f"{len(extra)} cell(s) more than headers"
                    )
                )
                continue
            records.rows.append((index, _nested(flat)))
    except csv.Error as exc:
        raise CliError(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    return records


def _json_records(path: Path, text: str) -> Records:
    try:
        # Exact decimals, never floats: a price of 650.10 must stay 650.10.
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise CliError(f"{path}: the file must hold a JSON array of objects, one per row")
    records = Records(rows=[])
    for index, item in enumerate(data, start=1):
        if isinstance(item, dict):
            records.rows.append((index, item))
        else:
            records.problems.append(RowProblem(row=index, column="-", reason="not a JSON object"))
    return records


def convert_rows(
    records: Records,
    kind: type[S],
    each: Callable[[list[tuple[int, dict[str, Any]]]], Iterable[tuple[int, dict[str, Any]]]] = iter,
) -> tuple[list[S], list[RowProblem]]:
    """Each record as ``kind`` with its row number set; records that do not fit become
    problems naming the column (unknown columns included). ``each`` walks the records (a
    progress bar, say). An unknown CSV column stops everything: it is a typo in the header."""
    known = {f.encode_name for f in msgspec.structs.fields(kind)} - {"row"}
    stray = [c for c in records.columns if c.split(".")[0] not in known]
    if stray:
        prices = " (prices.<seat type> or prices_minor.<seat type> for prices)"
        raise CliError(
            f"unknown column(s) {', '.join(stray)}; the columns are {', '.join(sorted(known))}"
            + (prices if "prices" in known else "")
        )
    rows: list[S] = []
    problems = list(records.problems)
    for number, record in each(records.rows):
        unknown = sorted(set(record) - known)
        for column in unknown:
            problems.append(RowProblem(row=number, column=column, reason="unknown column"))
        if unknown:
            continue
        record = _numbers_as_text(record, kind)
        cells = _cell_problems(number, record, kind)
        if cells:
            problems += cells
            continue
        try:
            rows.append(msgspec.convert({**record, "row": number}, kind, strict=False))
        except msgspec.ValidationError as exc:
            # A row's own check names one problem a line.
            problems += [_problem(number, record, line) for line in str(exc).splitlines()]
    return rows, problems


def _cell_problems(number: int, record: dict[str, Any], kind: type[S]) -> list[RowProblem]:
    """Every cell of the record that does not fit its field, each read on its own (and each
    entry of a map, such as every price), plus every required field left out: msgspec stops
    at the first, and a person wants to fix the file once."""
    problems: list[RowProblem] = []
    for spec in msgspec.structs.fields(kind):
        name = spec.encode_name
        if name == "row":
            continue
        if name not in record:
            if spec.required:
                problems.append(RowProblem(row=number, column=name, reason="required, but empty"))
            continue
        value = record[name]
        cells = [(name, value, spec.type)]
        if typing.get_origin(spec.type) is dict and isinstance(value, dict):
            value_type = typing.get_args(spec.type)[1]
            cells = [(f"{name}.{key}", item, value_type) for key, item in value.items()]
        for column, cell, wanted in cells:
            try:
                msgspec.convert(cell, wanted, strict=False)
            except msgspec.ValidationError as exc:
                problems.append(_problem(number, {name: cell}, _at(column, str(exc))))
    return problems


def _numbers_as_text(record: dict[str, Any], kind: type[S]) -> dict[str, Any]:
    """JSON numbers where ``kind`` wants text (prices in major units: 450.00) as their exact
    text, so a JSON file may write prices as numbers."""

    def text(value: Any, wanted: Any) -> Any:
        number = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
        return str(value) if number and wanted is str else value

    fixed = dict(record)
    for spec in msgspec.structs.fields(kind):
        value = record.get(spec.encode_name)
        if typing.get_origin(spec.type) is dict and isinstance(value, dict):
            wanted = typing.get_args(spec.type)[1]
            fixed[spec.encode_name] = {k: text(v, wanted) for k, v in value.items()}
        elif value is not None:
            fixed[spec.encode_name] = text(value, spec.type)
    return fixed


def _at(column: str, message: str) -> str:
    """msgspec's message about a lone cell, pointed at the cell's column."""
    core, _, path = message.partition(" - at `$")
    return f"{core} - at `$.{column}{path}" if path else f"{core} - at `$.{column}`"


def _problem(number: int, record: dict[str, Any], message: str) -> RowProblem:
    """msgspec's complaint as the column a person edits and what is wrong with its value."""
    missing = _MISSING.search(message)
    if missing:
        return RowProblem(row=number, column=missing.group(1), reason="required, but empty")
    at = _AT_PATH.search(message)
    own = _ABOUT_COLUMN.fullmatch(message)
    if at is None and own is not None:
        return RowProblem(row=number, column=own.group(1), reason=own.group(2))
    path = at.group(1) if at else "-"
    column, value = _offending(record, path)
    core = message.split(" - at ")[0]
    # A JSON number is read as an exact Decimal: show it as it stands in the file.
    shown = str(value) if isinstance(value, Decimal) else repr(value)
    if core.startswith("Expected `int`"):
        reason = f"{shown} is not a whole number"
    elif "date" in core:
        reason = f"{shown} is not a date; write YYYY-MM-DD"
    else:
        reason = f"{core} (got {shown})"
    return RowProblem(row=number, column=column, reason=reason)


def _offending(record: dict[str, Any], path: str) -> tuple[str, Any]:
    """The column and value a path points at; for a map of numbers ("prices_minor[...]"),
    the first entry that is not a whole number."""
    if path.endswith("[...]"):
        outer = path.removesuffix("[...]")
        for key, value in (record.get(outer) or {}).items():
            try:
                msgspec.convert(value, int, strict=False)
            except msgspec.ValidationError:
                return f"{outer}.{key}", value
        return outer, record.get(outer)
    return path, record.get(re.split(r"[.\[]", path)[0])


def missing_columns(records: Records, kind: type[msgspec.Struct]) -> list[str]:
    """The required fields of ``kind`` that a CSV file's header lacks (JSON has no header)."""
    if not records.columns:
        return []
    required = [
        f.encode_name for f in msgspec.structs.fields(kind) if f.required and f.encode_name != "row"
    ]
    present = {column.split(".")[0] for column in records.columns}
    return [name for name in required if name not in present]


def by_row(problems: Iterable[RowProblem]) -> list[RowProblem]:
    return sorted(problems, key=lambda p: p.row)


def problem_table(problems: list[RowProblem]) -> None:
    listing(problems, PROBLEM_COLUMNS, as_json=False, empty="")


def failed_rows(problems: Iterable[RowProblem]) -> int:
    return len({p.row for p in problems})


# -- options --------------------------------------------------------------------------------

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check and show what would change; change nothing.")
]


def pairs(values: list[str] | None, option: str, example: str) -> dict[str, str]:
    """``["regular=250", "premium=400.50"]`` as a dict; a malformed item is a usage error."""
    found: dict[str, str] = {}
    for value in values or []:
        key, sep, amount = value.partition("=")
        if not sep or not key.strip() or not amount.strip():
            raise typer.BadParameter(
                f"{value!r} is not TYPE=AMOUNT, e.g. {example}", param_hint=option
            )
        found[key.strip().lower()] = amount.strip()
    return found


def delete_each(client: AdminApi, paths: dict[str, str], noun: str) -> None:
    """DELETE each path (keyed by the id people know it by), reporting each result; exits 1
    when none could be deleted, 3 when only some."""
    refused = 0
    for shown, path in paths.items():
        try:
            client.delete(path)
        except ApiError as exc:
            refused += 1
            fail(f"{shown}: {exc.message}")
        else:
            success(f"removed {noun} {shown}")
    if refused:
        raise typer.Exit(EXIT_ERROR if refused == len(paths) else EXIT_PARTIAL)


# -- progress -------------------------------------------------------------------------------


class Steps:
    """A progress display on stderr, shown only on a terminal (and never with --json)."""

    def __init__(self, *, as_json: bool) -> None:
        enabled = sys.stderr.isatty() and not as_json
        self.progress = (
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=stderr(),
                transient=True,
            )
            if enabled
            else None
        )

    def __enter__(self) -> Steps:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def each(self, description: str, items: list[T]) -> Iterator[T]:
        """The items, advancing a bar by one for each."""
        if self.progress is None:
            yield from items
            return
        task = self.progress.add_task(description, total=len(items))
        for item in items:
            yield item
            self.progress.advance(task)

    @contextmanager
    def waiting(self, description: str) -> Iterator[None]:
        """A pulsing bar while the server works on one long request."""
        task = self.progress.add_task(description, total=None) if self.progress else None
        try:
            yield
        finally:
            if self.progress is not None and task is not None:
                self.progress.update(task, total=1, completed=1)
