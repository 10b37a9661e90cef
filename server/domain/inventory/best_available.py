"""Best available: choose the best block of free seats for a party, as a box office clerk would.

Pure and synchronous (stdlib only) so it can be called inside a request or a test with no I/O.
The rules, in order of importance:

1. A block is `count` seats side by side in one row of one section: consecutive grid columns,
   so it never crosses an aisle or a gap, and every seat in it is free.
2. Couple seats are sold only as whole pairs: a block never holds half a pair.
3. Wheelchair spaces and companion seats are offered only when `accessible=True`; such a
   block must include a wheelchair space, may add companions and, if the party is larger,
   ordinary seats beside them.  Otherwise every seat in a block has the same type, the
   `seat_type` asked for when one is given.
4. An accessible party gets exactly one wheelchair space when possible: the others stay
   free for other guests, who have far fewer places to go than anyone else.
5. Prefer blocks that leave no single free seat stranded between the block and a taken seat,
   the row's end or an aisle: such a seat is very hard to sell.  When every possible block
   strands a seat, the best stranding block is still returned: selling the party seats beats
   refusing them, and the house can live with the odd single.  Then, for an accessible party,
   prefer companion seats over ordinary ones.
6. Among what is left, the block closest to the ideal point wins: the horizontal centre of
   its row, and 60% of the way from the screen to the back (`IDEAL_DEPTH`), where picture
   and sound are best.  One row of depth counts as `ROW_WEIGHT` seats of sideways distance.
7. Ties go to the row that comes first in `seats`, then the leftmost block: deterministic.

`None` means no block satisfies rules 1-3.  The caller may then offer seats split over rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.layouts.model import Layout

WHEELCHAIR = "wheelchair"
COMPANION = "companion"
COUPLE = "couple"
ACCESSIBLE_TYPES = frozenset({WHEELCHAIR, COMPANION})
# Only these are "stranded" when left alone: wheelchair spaces are single by nature and a
# couple seat is never sold on its own anyway.
STRANDABLE_TYPES = frozenset({"regular", "premium", "recliner"})
IDEAL_DEPTH = 0.6
ROW_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A seat as best-available sees it.  `pair` is the key of a couple seat's partner."""

    key: str
    row: str
    section: str
    number: int
    x: int
    y: int
    seat_type: str
    accessible: bool
    pair: str | None


@dataclass(frozen=True, slots=True)
class _Request:
    count: int
    free: set[str] | frozenset[str]
    seat_type: str | None
    accessible: bool
    ideal_y: float


@dataclass(frozen=True, slots=True)
class _Run:
    """Seats that touch, left to right: a row between aisles.  `centre_x` is the row's centre."""

    seats: list[Candidate]
    centre_x: float
    order: int


def best_available(
    seats: Sequence[Candidate],
    free: set[str],
    count: int,
    *,
    seat_type: str | None = None,
    accessible: bool = False,
    screen_rows: int | None = None,
) -> list[str] | None:
    """Keys of the best block of `count` free seats, left to right, or None (see module doc).

    `screen_rows` is the depth of the auditorium in grid lines (a layout's `height`); by
    default it is taken from the deepest seat given.
    """
    if count < 1 or count > len(free) or not seats:
        return None
    depth = screen_rows if screen_rows and screen_rows > 0 else max(s.y for s in seats) + 1
    request = _Request(count, free, seat_type, accessible, IDEAL_DEPTH * (depth - 1))
    best: tuple[tuple, list[Candidate]] | None = None
    for run in _runs(seats):
        for score, block in _blocks(run, request):
            if best is None or score < best[0]:
                best = (score, block)
    return None if best is None else [seat.key for seat in best[1]]


def _runs(seats: Sequence[Candidate]) -> list[_Run]:
    rows: dict[tuple[str, str], list[Candidate]] = {}
    for seat in seats:
        rows.setdefault((seat.section, seat.row), []).append(seat)
    runs: list[_Run] = []
    for row in rows.values():
        row.sort(key=lambda s: s.x)
        centre = (row[0].x + row[-1].x) / 2
        current = [row[0]]
        for prev, seat in pairwise(row):
            if seat.x != prev.x + 1:
                runs.append(_Run(current, centre, len(runs)))
                current = []
            current.append(seat)
        runs.append(_Run(current, centre, len(runs)))
    return runs


def _allowed(seat: Candidate, request: _Request) -> bool:
    if seat.seat_type in ACCESSIBLE_TYPES:
        return request.accessible
    return request.seat_type is None or seat.seat_type == request.seat_type


def _blocks(run: _Run, request: _Request) -> Iterator[tuple[tuple, list[Candidate]]]:
    seats, count = run.seats, request.count
    # Prefix sums of unusable seats make "is this window all usable?" one subtraction.
    unusable = [0, *accumulate(not (s.key in request.free and _allowed(s, request)) for s in seats)]
    for start in range(len(seats) - count + 1):
        if unusable[start + count] != unusable[start]:
            continue
        block = seats[start : start + count]
        if _valid(block, request.accessible):
            yield _score(run, start, block, request), block


def _valid(block: list[Candidate], accessible: bool) -> bool:
    keys = {seat.key for seat in block}
    if any(s.seat_type == COUPLE and s.pair is not None and s.pair not in keys for s in block):
        return False
    if accessible:
        return any(s.seat_type == WHEELCHAIR for s in block)
    return len({s.seat_type for s in block}) == 1


def _score(run: _Run, start: int, block: list[Candidate], request: _Request) -> tuple:
    wheelchairs = sum(s.seat_type == WHEELCHAIR for s in block)
    ordinary = sum(s.seat_type not in ACCESSIBLE_TYPES for s in block) if request.accessible else 0
    centre_x = (block[0].x + block[-1].x) / 2
    distance = ROW_WEIGHT * abs(block[0].y - request.ideal_y) + abs(centre_x - run.centre_x)
    return (
        max(0, wheelchairs - 1),
        _stranded(run.seats, start, request.count, request.free),
        ordinary,
        distance,
        run.order,
        start,
    )


def _stranded(seats: list[Candidate], start: int, count: int, free: set[str] | frozenset) -> int:
    """How many lone free seats the block would leave at its two ends (0, 1 or 2)."""
    stranded = 0
    for near, far in ((start - 1, start - 2), (start + count, start + count + 1)):
        if not 0 <= near < len(seats):
            continue
        neighbour = seats[near]
        if neighbour.key in free and neighbour.seat_type in STRANDABLE_TYPES:
            far_free = 0 <= far < len(seats) and seats[far].key in free
            stranded += not far_free
    return stranded


def candidates_from_layout(layout: Layout) -> list[Candidate]:
    """Candidates for every seat of a parsed layout, keyed by seat label."""
    return [
        Candidate(
            key=s.label,
            row=s.row,
            section=s.section,
            number=s.number,
            x=s.x,
            y=s.y,
            seat_type=str(s.seat_type),
            accessible=s.accessible,
            pair=s.pair,
        )
        for s in layout.seats
    ]
