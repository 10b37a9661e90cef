"""Best available on the shipped layouts and on small drawn rows, checked against an oracle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.inventory.best_available import (
    Candidate,
    best_available,
    candidates_from_layout,
)
from server.layouts import load_shipped_layouts, parse_layout

LAYOUTS = load_shipped_layouts()
CANDIDATES = {name: candidates_from_layout(layout) for name, layout in LAYOUTS.items()}
ACCESSIBLE_TYPES = {"wheelchair", "companion"}


def drawn(rows: str) -> list[Candidate]:
    """Candidates for a small layout drawn inline, e.g. "A | RRRR |"."""
    return candidates_from_layout(parse_layout("layout: T\nscreen: top\n" + rows))


def keys(seats: list[Candidate]) -> set[str]:
    return {s.key for s in seats}


def free_except(seats: list[Candidate], *taken: str) -> set[str]:
    return keys(seats) - set(taken)


# ---- an independent oracle: every valid block and how many seats it strands ----------------


def oracle_blocks(
    seats: list[Candidate], free: set[str], count: int, seat_type: str | None, accessible: bool
) -> Iterator[tuple[list[Candidate], int]]:
    at = {(s.section, s.row, s.x): s for s in seats}
    for first in seats:
        block = [at.get((first.section, first.row, first.x + i)) for i in range(count)]
        if None in block:
            continue
        chosen = [s for s in block if s is not None]
        if is_valid(chosen, free, seat_type, accessible):
            yield chosen, strands(at, chosen, free)


def is_valid(block: list[Candidate], free: set[str], seat_type: str | None, accessible: bool):
    names = keys(block)
    if any(s.key not in free for s in block):
        return False
    if any(s.seat_type == "couple" and s.pair not in names for s in block):
        return False
    ordinary = [s for s in block if s.seat_type not in ACCESSIBLE_TYPES]
    if seat_type is not None and any(s.seat_type != seat_type for s in ordinary):
        return False
    if accessible:
        return any(s.seat_type == "wheelchair" for s in block)
    return len(ordinary) == len(block) and len({s.seat_type for s in block}) == 1


def preference(at: dict, block: list[Candidate], free: set[str]) -> tuple[int, int]:
    extra_wheelchairs = max(0, sum(s.seat_type == "wheelchair" for s in block) - 1)
    return extra_wheelchairs, strands(at, block, free)


def strands(at: dict, block: list[Candidate], free: set[str]) -> int:
    first, last = block[0], block[-1]
    total = 0
    for near_x, far_x in ((first.x - 1, first.x - 2), (last.x + 1, last.x + 2)):
        near = at.get((first.section, first.row, near_x))
        far = at.get((first.section, first.row, far_x))
        if near and near.key in free and near.seat_type in ("regular", "premium", "recliner"):
            total += not (far and far.key in free)
    return total


# ---- shipped layouts, full house free -----------------------------------------------------


def test_full_house_gets_the_centre_of_the_sweet_spot_row() -> None:
    seats = CANDIDATES["imax-grand"]
    assert best_available(seats, keys(seats), 4) == ["J16", "J17", "J18", "J19"]
    assert best_available(seats, keys(seats), 1) == ["J17"]


def test_standard_150_avoids_leaving_a_single_seat_by_the_aisle() -> None:
    seats = CANDIDATES["standard-150"]
    # F6+F7 is as central as F7+F8 but would leave F5 alone against the aisle.
    assert best_available(seats, keys(seats), 2) == ["F7", "F8"]


def test_results_are_deterministic() -> None:
    for name, seats in CANDIDATES.items():
        free = {s.key for i, s in enumerate(seats) if i % 3}
        first = best_available(seats, free, 3, screen_rows=LAYOUTS[name].height)
        assert first == best_available(seats, set(free), 3, screen_rows=LAYOUTS[name].height)
        assert first == best_available(list(seats), frozenset(free), 3)  # type: ignore[arg-type]


def test_screen_rows_moves_the_ideal_point() -> None:
    seats = CANDIDATES["standard-150"]
    near = best_available(seats, keys(seats), 2)
    far = best_available(seats, keys(seats), 2, screen_rows=30)
    assert near is not None and far is not None
    assert LAYOUTS["standard-150"].seat(far[0]).y > LAYOUTS["standard-150"].seat(near[0]).y


# ---- small drawn rows ---------------------------------------------------------------------


def test_centre_block_that_would_strand_a_seat_is_passed_over() -> None:
    seats = drawn("A | RRRRRRRRR |\n")
    # A4-A6 is dead centre but would leave A3 alone between the taken A2 and the block.
    assert best_available(seats, free_except(seats, "A2"), 3) == ["A3", "A4", "A5"]


def test_stranding_block_is_the_fallback_rather_than_nothing() -> None:
    seats = drawn("A | RRR |\n")
    assert best_available(seats, keys(seats), 2) == ["A1", "A2"]


def test_blocks_never_cross_an_aisle() -> None:
    seats = drawn("A | RR.RR |\n")
    assert best_available(seats, keys(seats), 3) is None
    assert best_available(seats, keys(seats), 2) == ["A1", "A2"]


def test_taken_seats_split_a_row() -> None:
    seats = drawn("A | RRRRR |\nB | RR |\n")
    assert best_available(seats, free_except(seats, "A3"), 3) is None


def test_couple_seats_are_sold_in_whole_pairs() -> None:
    seats = drawn("A | CCCC |\n")
    # A2+A3 is the centre but would split both pairs.
    assert best_available(seats, keys(seats), 2) == ["A1", "A2"]
    assert best_available(seats, keys(seats), 4) == ["A1", "A2", "A3", "A4"]
    assert best_available(seats, keys(seats), 3) is None
    assert best_available(seats, free_except(seats, "A2"), 2) == ["A3", "A4"]
    assert best_available(seats, free_except(seats, "A2", "A3"), 1) is None


def test_couples_on_the_date_night_screen() -> None:
    seats = CANDIDATES["couples-date-night"]
    layout = LAYOUTS["couples-date-night"]
    pair = best_available(seats, keys(seats), 2, seat_type="couple")
    assert pair is not None and layout.seat(pair[0]).pair == pair[1]
    # Each love seat stands alone between tables: no two pairs side by side.
    assert best_available(seats, keys(seats), 4, seat_type="couple") is None
    regular = best_available(seats, keys(seats), 2, seat_type="regular")
    assert regular is not None and {layout.seat(k).seat_type for k in regular} == {"regular"}


def test_a_block_has_one_seat_type() -> None:
    seats = drawn("A | RRPP |\n")
    assert best_available(seats, keys(seats), 4) is None
    assert best_available(seats, keys(seats), 2, seat_type="premium") == ["A3", "A4"]


def test_wheelchair_and_companion_seats_need_an_accessible_request() -> None:
    seats = CANDIDATES["standard-150"]
    only_accessible = {s.key for s in seats if s.seat_type in ACCESSIBLE_TYPES}
    assert best_available(seats, only_accessible, 1) is None
    assert best_available(seats, only_accessible, 2, seat_type="wheelchair") is None
    pair = best_available(seats, only_accessible, 2, accessible=True)
    assert pair is not None
    types = sorted(LAYOUTS["standard-150"].seat(k).seat_type for k in pair)
    assert types == ["companion", "wheelchair"]
    assert best_available(seats, keys(seats) - only_accessible, 1, accessible=True) is None


def test_accessible_request_prefers_one_wheelchair_space_and_companions() -> None:
    seats = drawn("A | RcWWcR |\n")
    # A3+A4 is central but would use up both wheelchair spaces.
    assert best_available(seats, keys(seats), 2, accessible=True) == ["A2", "A3"]
    assert best_available(seats, keys(seats), 1, accessible=True) == ["A3"]
    assert best_available(seats, keys(seats), 3, accessible=True) == ["A1", "A2", "A3"]
    # A larger party may add ordinary seats beside the wheelchair space.
    seats = drawn("A | WcR.RR |\n")
    assert best_available(seats, keys(seats), 3, accessible=True) == ["A1", "A2", "A3"]


def test_seat_type_filter() -> None:
    imax = CANDIDATES["imax-grand"]
    premium = best_available(imax, keys(imax), 6, seat_type="premium")
    assert premium is not None
    assert {LAYOUTS["imax-grand"].seat(k).seat_type for k in premium} == {"premium"}
    assert best_available(imax, keys(imax), 2, seat_type="recliner") is None
    lounge = CANDIDATES["recliner-lounge-40"]
    assert best_available(lounge, keys(lounge), 4, seat_type="recliner") is not None


def test_none_when_impossible() -> None:
    seats = CANDIDATES["standard-150"]
    assert best_available(seats, keys(seats), 0) is None
    assert best_available(seats, keys(seats), 12) is None  # widest block is 11 seats
    assert best_available(seats, set(), 1) is None
    assert best_available([], {"A1"}, 1) is None
    two_left = {"A1", "J5"}
    assert best_available(seats, two_left, 2) is None
    assert best_available(seats, two_left, 1) == ["J5"]


# ---- property: agrees with the oracle on random houses ------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(CANDIDATES)),
    taken_ratio=st.floats(0, 0.95),
    seed=st.integers(0, 2**16),
    count=st.integers(1, 8),
    seat_type=st.sampled_from([None, "regular", "premium", "recliner", "couple"]),
    accessible=st.booleans(),
)
def test_agrees_with_the_oracle(
    name: str,
    taken_ratio: float,
    seed: int,
    count: int,
    seat_type: str | None,
    accessible: bool,
) -> None:
    seats = CANDIDATES[name]
    # A cheap deterministic scatter so Hypothesis can shrink on the seed.
    free = {
        s.key for i, s in enumerate(seats) if ((i * 2654435761 + seed) % 1000) / 1000 >= taken_ratio
    }
    result = best_available(seats, free, count, seat_type=seat_type, accessible=accessible)
    options = list(oracle_blocks(seats, free, count, seat_type, accessible))
    if result is None:
        assert options == []
        return
    by_key = {s.key: s for s in seats}
    block = [by_key[k] for k in result]
    assert len(result) == count and is_valid(block, free, seat_type, accessible)
    assert len({(s.section, s.row) for s in block}) == 1
    assert [s.x for s in block] == list(range(block[0].x, block[0].x + count))
    # Nothing the oracle found is better on the hard preferences: one wheelchair space, then
    # no stranded seat.
    at = {(s.section, s.row, s.x): s for s in seats}
    assert preference(at, block, free) == min(preference(at, b, free) for b, _ in options)
    assert best_available(seats, free, count, seat_type=seat_type, accessible=accessible) == result


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_candidates_mirror_the_layout(name: str) -> None:
    layout = LAYOUTS[name]
    for candidate, spec in zip(CANDIDATES[name], layout.seats, strict=True):
        assert (candidate.key, candidate.x, candidate.y, candidate.pair) == (
            spec.label,
            spec.x,
            spec.y,
            spec.pair,
        )
        assert candidate.seat_type == spec.seat_type.value
