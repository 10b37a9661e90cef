"""The `.layout` format: shipped layouts, exact error positions, fuzzing and round trips."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.layouts import (
    SHIPPED_LAYOUTS_DIR,
    Layout,
    LayoutError,
    LayoutIssue,
    SeatType,
    format_layout,
    load_layout,
    load_shipped_layouts,
    parse_layout,
    render_text,
)
from server.layouts.parser import SEAT_CODES

SHIPPED = load_shipped_layouts()

HEADER = "layout: Test\nscreen: top\n"


def issues_of(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="t.layout")
    return [(i.line, i.column, i.message) for i in caught.value.issues]


def only_issue(text: str) -> tuple[int, int, str]:
    found = issues_of(text)
    assert len(found) == 1, found
    return found[0]


# ---- shipped layouts ----------------------------------------------------------------------


def test_all_five_layouts_ship_and_parse() -> None:
    assert set(SHIPPED) == {
        "imax-grand",
        "standard-150",
        "recliner-lounge-40",
        "couples-date-night",
        "balcony-classic",
    }


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_layout_has_wheelchair_spaces_with_companions(name: str) -> None:
    layout = SHIPPED[name]
    counts = layout.counts_by_type()
    assert counts[SeatType.WHEELCHAIR] >= 2
    assert counts[SeatType.COMPANION] >= 2
    for seat in layout.seats:
        if seat.seat_type is SeatType.COMPANION:
            space = layout.seat(seat.pair or "")
            assert space.seat_type is SeatType.WHEELCHAIR
            assert (space.section, space.row, abs(space.x - seat.x)) == (seat.section, seat.row, 1)
        assert seat.accessible == (seat.seat_type is SeatType.WHEELCHAIR)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_layout_labels_are_unique_and_fit_the_grid(name: str) -> None:
    layout = SHIPPED[name]
    assert len({s.label for s in layout.seats}) == len(layout.seats)
    assert len({(s.x, s.y) for s in layout.seats}) == len(layout.seats)
    assert all(0 <= s.x < layout.width and 0 <= s.y < layout.height for s in layout.seats)
    assert min(s.x for s in layout.seats) == 0


def test_imax_grand_is_large_with_two_aisles_and_premium_sweet_spot() -> None:
    layout = SHIPPED["imax-grand"]
    assert 400 <= len(layout.seats) <= 460
    row_j = sorted((s for s in layout.seats if s.row == "J"), key=lambda s: s.x)
    aisles = sum(b.x - a.x > 1 for a, b in pairwise(row_j))
    assert aisles == 2
    premium_ys = {s.y for s in layout.seats if s.seat_type is SeatType.PREMIUM}
    assert min(premium_ys) > layout.height // 2 and max(premium_ys) < layout.height - 1


def test_standard_150_counts() -> None:
    counts = SHIPPED["standard-150"].counts_by_type()
    assert sum(counts.values()) == 150
    assert counts[SeatType.PREMIUM] == 30
    assert {s.row for s in SHIPPED["standard-150"].seats if s.seat_type == "premium"} == {"G", "H"}


def test_recliner_lounge_has_forty_recliners() -> None:
    assert SHIPPED["recliner-lounge-40"].counts_by_type()[SeatType.RECLINER] == 40


def test_couples_come_in_adjacent_pairs() -> None:
    layout = SHIPPED["couples-date-night"]
    couples = [s for s in layout.seats if s.seat_type is SeatType.COUPLE]
    assert couples and layout.counts_by_type()[SeatType.REGULAR] > 0
    for seat in couples:
        partner = layout.seat(seat.pair or "")
        assert partner.pair == seat.label
        assert (partner.row, abs(partner.x - seat.x)) == (seat.row, 1)


def test_balcony_classic_has_prefixed_balcony_numbered_right_to_left() -> None:
    layout = SHIPPED["balcony-classic"]
    assert layout.sections == ("Balcony", "Stalls")
    assert layout.screen_side == "bottom"
    front_balcony = layout.seat("BA1")
    assert (front_balcony.section, front_balcony.row, front_balcony.number) == ("Balcony", "A", 1)
    assert front_balcony.x > layout.seat("BA2").x  # right to left
    # Screen at the bottom: stalls row A is nearest the screen, the balcony furthest away.
    assert layout.seat("A1").y == 0
    assert min(s.y for s in layout.seats if s.section == "Balcony") > layout.seat("N1").y


def test_seat_lookup_and_counts() -> None:
    layout = SHIPPED["standard-150"]
    assert layout.seat("A1").row == "A"
    with pytest.raises(KeyError):
        layout.seat("Z99")
    assert list(layout.counts_by_type()) == [
        SeatType.REGULAR,
        SeatType.PREMIUM,
        SeatType.WHEELCHAIR,
        SeatType.COMPANION,
    ]


def test_shipped_dir_is_the_repo_layouts_folder() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert repo / "layouts" == SHIPPED_LAYOUTS_DIR


# ---- the format ---------------------------------------------------------------------------


def test_numbering_defaults_left_to_right_and_skips_gaps() -> None:
    layout = parse_layout(HEADER + "A | RR..RRR |\n")
    assert [(s.label, s.x) for s in layout.seats] == [
        ("A1", 0),
        ("A2", 1),
        ("A3", 4),
        ("A4", 5),
        ("A5", 6),
    ]


def test_numbering_overrides_per_row_and_per_section() -> None:
    text = HEADER + "A | RRR | rtl\nB | RRR | start=7 B\nsection: Back prefix=K rtl\nA | RR |\n"
    layout = parse_layout(text)
    assert [s.label for s in layout.seats] == ["A3", "A2", "A1", "B7", "B8", "B9", "KA2", "KA1"]
    assert layout.sections == ("Stalls", "Back")


def test_gaps_spaces_indentation_and_comments() -> None:
    text = "# comment\nlayout: Small # trailing comment\nscreen: BOTTOM\n\n  A |  R R |\n  |  |\nB|RRR\n"
    layout = parse_layout(text)
    assert layout.name == "Small" and layout.screen_side == "bottom"
    assert (layout.width, layout.height) == (5, 3)
    # Screen at the bottom: the last line drawn is nearest the screen.
    assert [(s.label, s.x, s.y) for s in layout.seats] == [
        ("A1", 2, 2),
        ("A2", 4, 2),
        ("B1", 0, 0),
        ("B2", 1, 0),
        ("B3", 2, 0),
    ]


def test_couple_and_companion_pairs() -> None:
    layout = parse_layout(HEADER + "A | CCCC.cWc.WcW |\n")
    pairs = {s.label: s.pair for s in layout.seats}
    assert pairs == {
        "A1": "A2",
        "A2": "A1",
        "A3": "A4",
        "A4": "A3",
        "A5": "A6",
        "A6": None,
        "A7": "A6",
        "A8": None,
        "A9": "A8",  # beside two wheelchair spaces: it goes with the left one
        "A10": None,
    }


def test_load_layout_reports_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.layout"
    path.write_text(HEADER + "A | RXR |\n", encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    assert str(caught.value) == (
        f"{path}:3:6: unknown seat code 'X'; use one of R P L C W c or '.' for a gap"
    )


def test_load_layout_rejects_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.layout"
    path.write_bytes(b"layout: Caf\xe9\nscreen: top\n")
    with pytest.raises(LayoutError) as caught:
        load_layout(path)
    assert [(i.line, i.column) for i in caught.value.issues] == [(1, 12)]


def test_issue_and_error_strings() -> None:
    issue = LayoutIssue("x.layout", 3, 7, "bad")
    assert str(issue) == "x.layout:3:7: bad"
    assert str(LayoutError([issue, issue])) == "x.layout:3:7: bad\nx.layout:3:7: bad"
    assert isinstance(LayoutError([issue]), ValueError)


# ---- errors, with exact positions ---------------------------------------------------------


def test_error_unknown_seat_code() -> None:
    assert only_issue(HEADER + "A | RRXR |\n") == (
        3,
        7,
        "unknown seat code 'X'; use one of R P L C W c or '.' for a gap",
    )


def test_error_unpaired_couple_seat() -> None:
    line, column, message = only_issue(HEADER + "A | CC.C |\n")
    assert (line, column) == (3, 8)
    assert message.startswith("unpaired couple seat in row 'A'")


def test_error_couple_pair_split_by_a_gap() -> None:
    assert [(line, col) for line, col, _ in issues_of(HEADER + "A | C.C |\n")] == [(3, 5), (3, 7)]


def test_error_companion_not_beside_a_wheelchair_space() -> None:
    line, column, message = only_issue(HEADER + "A | W.cR |\n")
    assert (line, column) == (3, 7)
    assert "not beside a wheelchair space" in message


def test_error_duplicate_row_in_section() -> None:
    assert only_issue(HEADER + "A | RR |\n  A | RR |\n") == (
        4,
        3,
        "duplicate row 'A' in section 'Stalls' (first on line 3); give each row its own label",
    )


def test_same_row_label_in_two_sections_needs_a_prefix() -> None:
    text = HEADER + "A | RR |\nsection: Balcony\nA | RRR |\n"
    line, column, message = only_issue(text)
    assert (line, column) == (5, 5)
    assert message.startswith("seat label 'A1' is also used at line 3, column 5 (and 1 more")
    assert parse_layout(text.replace("Balcony", "Balcony prefix=B")).seat("BA3").section == (
        "Balcony"
    )


def test_error_missing_headers_and_empty_layout() -> None:
    assert issues_of("# nothing here\n") == [
        (1, 1, "missing 'layout:' header; add a line like 'layout: Screen 1'"),
        (1, 1, "missing 'screen:' header; add a line like 'screen: top'"),
        (1, 1, "layout has no seats; add rows like 'A | RRRR |'"),
    ]
    assert only_issue("screen: top\nA | R |\n")[2].startswith("missing 'layout:'")


def test_error_bad_screen_side() -> None:
    assert only_issue("layout: X\nscreen:  left\nA | R |\n") == (
        2,
        10,
        "screen side 'left' is not 'top' or 'bottom'",
    )


def test_error_unknown_header_and_duplicate_header() -> None:
    assert issues_of(HEADER + "colour: red\n layout: Again\nA | R |\n") == [
        (3, 1, "unknown header 'colour'; use 'layout:', 'screen:' or 'section:'"),
        (4, 2, "duplicate 'layout:' header (first on line 1); keep one"),
    ]


def test_error_line_that_is_neither_header_nor_row() -> None:
    assert only_issue(HEADER + "   RRRR\nA | R |\n")[:2] == (3, 4)


def test_error_bad_row_label_and_options() -> None:
    assert [(line, col) for line, col, _ in issues_of(HEADER + "A-1 | R |\n")] == [(3, 1)]
    found = issues_of(HEADER + "A | RR | start=0 sideways rtl ltr\n")
    assert [(line, col) for line, col, _ in found] == [(3, 16), (3, 18), (3, 31)]
    assert found[0][2] == "start number '0' must be a whole number from 1 to 9999"
    assert found[1][2].startswith("unknown option 'sideways'; use 'rtl' or 'ltr'")


def test_error_tab_in_seat_map() -> None:
    assert only_issue(HEADER + "A | R\tR |\n")[:2] == (3, 6)


def test_error_seats_on_a_cross_aisle_and_rows_without_seats() -> None:
    assert issues_of(HEADER + "A | R |\n  | ..R |\nB | ... |\n") == [
        (
            4,
            7,
            "seats need a row label before the '|'; "
            "a line with no label is a cross aisle and holds only gaps",
        ),
        (5, 3, "row 'B' has no seats; draw seats after the '|' or remove it"),
    ]


def test_error_sections() -> None:
    text = HEADER + "section:\nA | R |\nsection: Upper prefix=b-1\nB | R |\nsection: Upper\n"
    assert [(line, col) for line, col, _ in issues_of(text)] == [(3, 9), (5, 23), (7, 1), (7, 10)]


def test_many_errors_are_reported_in_one_pass_in_file_order() -> None:
    text = "layout: X\nscreen: diagonal\nA | RQR |\nB | C |\nA | cR |\n"
    found = issues_of(text)
    assert [(line, col) for line, col, _ in found] == [(2, 9), (3, 6), (4, 5), (5, 1)]
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="x.layout")
    assert str(caught.value).count("\n") == 3
    assert str(caught.value).startswith("x.layout:2:9: screen side 'diagonal'")


# ---- rendering ----------------------------------------------------------------------------


def test_render_text_draws_screen_labels_and_statuses() -> None:
    layout = parse_layout(HEADER + "A | WcR.PL |\nB | CC..RR |\n")
    drawing = render_text(layout, {"A3": "BOOKED", "B4": "held", "A1": "AVAILABLE"})
    assert drawing.splitlines()[:5] == [
        "Test (9 seats)",
        "",
        "  SCREEN",
        "A WcX PL A",
        "B CC  RH B",
    ]
    assert "W wheelchair" in drawing and "X booked" in drawing and "H held" in drawing


def test_render_text_with_sections_and_screen_at_the_bottom() -> None:
    drawing = render_text(SHIPPED["balcony-classic"])
    lines = drawing.splitlines()
    assert lines.index("  -- Balcony --") < lines.index("  -- Stalls --")
    screen_line = next(i for i, line in enumerate(lines) if "SCREEN" in line)
    assert lines[screen_line - 1].startswith("A ")  # stalls row A just above the screen
    assert lines[screen_line - 1].endswith(" A")


# ---- fuzzing and round trips --------------------------------------------------------------

FRAGMENTS = [
    "layout: ",
    "screen: ",
    "section: ",
    "top",
    "bottom",
    "prefix=",
    "start=",
    "rtl",
    "ltr",
    "A",
    "B",
    "|",
    " ",
    ".",
    "R",
    "P",
    "L",
    "C",
    "W",
    "c",
    "#",
    "\n",
    "\t",
    "\r",
    ":",
    "=",
    "0",
    "9",
    "\ufeff",
    "é",
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_gives_a_layout_or_a_layout_error(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join))
def test_format_shaped_text_gives_a_layout_or_a_layout_error(text: str) -> None:
    _parse_or_error(HEADER + text)
    _parse_or_error(text)


def _parse_or_error(text: str) -> None:
    try:
        layout = parse_layout(text)
    except LayoutError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.line >= 1 and issue.column >= 1 and issue.message
    else:
        assert isinstance(layout, Layout) and layout.seats
        render_text(layout)


# Concatenating these never breaks a couple pair or strands a companion seat.
SEAT_CHUNKS = ["R", "P", "L", ".", " ", "CC", "Wc", "cW", "cWc", "RR", ".."]


@st.composite
def layout_texts(draw: st.DrawFn) -> tuple[str, Counter[str]]:
    """A valid layout text and how many of each seat code it holds."""
    lines = [f"layout: {draw(st.sampled_from(['Screen 1', 'IMAX', 'a|b']))}"]
    lines.append(f"screen: {draw(st.sampled_from(['top', 'bottom']))}")
    codes: Counter[str] = Counter()
    for k in range(draw(st.integers(1, 3))):
        # Letter-only row labels and distinct prefixes keep every seat label unique.
        prefix = f" prefix=Z{k}" if k else ""
        lines.append(f"section: Part {k}{prefix}{draw(st.sampled_from(['', ' rtl', ' ltr']))}")
        labels = draw(
            st.lists(
                st.sampled_from(["A", "B", "C", "AA", "Q"]), min_size=1, max_size=5, unique=True
            )
        )
        for label in labels:
            area = "".join(draw(st.lists(st.sampled_from(SEAT_CHUNKS), max_size=12))) + "R"
            indent = " " * draw(st.integers(0, 3))
            options = draw(st.sampled_from(["", " rtl", " start=5", f" ltr {label}"]))
            lines.append(f"{label} |{indent}{area} |{options}")
            codes.update(ch for ch in area if ch not in ". ")
            if draw(st.booleans()):
                lines.append("  |  |")
    return "\n".join(lines) + "\n", codes


@settings(max_examples=200)
@given(layout_texts())
def test_generated_layouts_parse_and_round_trip(case: tuple[str, Counter[str]]) -> None:
    text, codes = case
    layout = parse_layout(text)
    assert len(layout.seats) == sum(codes.values())
    assert layout.counts_by_type() == {
        t: n for t in SeatType if (n := sum(codes[c] for c in codes if SEAT_CODES[c] == t))
    }
    assert parse_layout(format_layout(layout)) == layout
    drawing = render_text(layout)
    assert drawing.count("SCREEN") == 1


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_layouts_round_trip_through_format_layout(name: str) -> None:
    layout = SHIPPED[name]
    assert parse_layout(format_layout(layout)) == layout


def test_docs_examples_stay_true() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "layouts.md").read_text("utf-8")
    example, drawing, broken, errors = re.findall(r"```text\n(.*?)```", doc, re.S)[:4]
    assert render_text(parse_layout(example)) == drawing
    with pytest.raises(LayoutError) as caught:
        parse_layout(broken, source="screen-2.layout")
    assert str(caught.value) + "\n" == errors
