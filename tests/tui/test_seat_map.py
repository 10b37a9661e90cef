"""SeatMap and Legend driven like a person would: keys and clicks through Textual's Pilot,
live changes through apply_event, and snapshots of how the map looks."""

from __future__ import annotations

from uuid import UUID

import textual.constants
from rich.color import Color, ColorSystem
from rich.segment import Segments
from rich.style import Style
from rich.text import Text
from textual.geometry import Offset
from textual.pilot import Pilot

from bmscli.tui.messages import CursorMoved, SeatTakenByOther, SelectionChanged, SelectionRefused
from bmscli.tui.money import format_money
from bmscli.tui.widgets import Legend, SeatMap
from bmscli.tui.widgets.seat_map import SELECTED, STATUS_LOOKS, TYPE_LOOKS
from server.contracts.api import SeatChange, SeatEvent
from server.contracts.enums import SeatStatus
from tests.tui.conftest import SHOW_ID, SeatMapApp, seat_id, seatmap_from_layout

STANDARD = "standard-150"
IMAX = "imax-grand"
# Standard 150: "A | RRRR..RRRRRRRRRRR |" ... "K | cWRR..RRRRRRRRRWc |", rows A-H and J-K.
# The cursor starts at the centre of the middle row: F7, the third seat after the aisle.


def std(label: str) -> UUID:
    return seat_id(STANDARD, label)


def event(*changes: tuple[str, str, int]) -> SeatEvent:
    """A live event on the standard layout: (label, new status, new version) per seat."""
    seats = [
        SeatChange(seat_id=std(label), status=status, version=version)
        for label, status, version in changes
    ]
    return SeatEvent(show_id=SHOW_ID, sequence=2, seats=seats)


def cursor_label(app: SeatMapApp) -> str:
    seat = app.query_one(SeatMap).seat_at_cursor
    assert seat is not None
    return seat.label


def visible_lines(seat_map: SeatMap) -> list[str]:
    return [seat_map.render_line(y).text for y in range(seat_map.scrollable_content_region.height)]


def drawn_at(seat_map: SeatMap, row: str, nth: int) -> Offset:
    """Where the nth seat from the left of a row is drawn, read off the rendered lines and
    relative to the widget (border included), as Pilot.click wants it."""
    for y, text in enumerate(visible_lines(seat_map)):
        if text.split()[:1] == [row]:
            glyph_columns = [x for x, char in enumerate(text) if char not in " []"][1:-1]
            return Offset(*seat_map.gutter.top_left) + Offset(glyph_columns[nth - 1], y)
    raise AssertionError(f"row {row} is not on screen")


async def test_cursor_starts_mid_map_and_arrows_skip_the_aisle() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        assert cursor_label(app) == "F7"
        await pilot.press("left", "left")
        assert cursor_label(app) == "F5"
        await pilot.press("left")  # across the two-column aisle
        assert cursor_label(app) == "F4"
        await pilot.press("right")
        assert cursor_label(app) == "F5"
        await pilot.press("up", "up", "up", "up", "up", "up")  # stops at the front row
        assert cursor_label(app) == "A5"
        await pilot.press("down")
        assert cursor_label(app) == "B5"
        moves = app.of_type(CursorMoved)
        assert [m.seat.label for m in moves][-2:] == ["A5", "B5"]


async def test_hjkl_move_like_the_arrows() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("h", "h", "h")
        assert cursor_label(app) == "F4"
        await pilot.press("l")
        assert cursor_label(app) == "F5"
        await pilot.press("j", "j", "j", "j", "j")  # G H J K, then no row further back
        assert cursor_label(app) == "K5"
        await pilot.press("k")
        assert cursor_label(app) == "J5"
        await pilot.press(*["l"] * 20)  # stops at the end of the row
        assert cursor_label(app) == "J15"


async def test_space_and_enter_toggle_the_seat_under_the_cursor() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.press("space", "right", "enter")
        assert seat_map.selected_ids == (std("F7"), std("F8"))
        changed = app.of_type(SelectionChanged)[-1]
        assert changed.seat_ids == (std("F7"), std("F8"))
        assert changed.total_minor == 50000
        await pilot.press("space")
        assert seat_map.selected_ids == (std("F7"),)
        assert app.of_type(SelectionChanged)[-1].total_minor == 25000
        seat_map.clear_selection()
        await pilot.pause()
        assert seat_map.selected_ids == ()
        assert app.of_type(SelectionChanged)[-1].seat_ids == ()


async def test_booked_held_and_unavailable_seats_cannot_be_chosen() -> None:
    statuses = {
        "F6": SeatStatus.BOOKED,
        "F7": SeatStatus.BLOCKED,
        "F8": SeatStatus.UNAVAILABLE,
    }
    app = SeatMapApp(seatmap_from_layout(STANDARD, statuses))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("left", "space", "right", "space", "right", "space")
        assert app.query_one(SeatMap).selected_ids == ()
        assert not app.of_type(SelectionChanged)
        reasons = [message.reason for message in app.of_type(SelectionRefused)]
        assert reasons == [
            "Seat F6 is already booked; choose another seat.",
            "Seat F7 is being held by someone else; choose another, or wait for it to come back.",
            "Seat F8 is not for sale for this show; choose another seat.",
        ]


async def test_wheelchair_and_companion_seats_need_accessible_seating() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "K", 2))  # K2, a wheelchair space
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "K", 1))  # K1, its companion
        assert seat_map.selected_ids == ()
        refused = app.of_type(SelectionRefused)
        assert [m.seat.label for m in refused] == ["K2", "K1"]
        assert "wheelchair space" in refused[0].reason
        assert "companion seat" in refused[1].reason
        seat_map.select_ids([std("K1"), std("K2"), std("K3")])
        assert seat_map.selected_ids == (std("K3"),)

    app = SeatMapApp(seatmap_from_layout(STANDARD), allow_accessible=True)
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "K", 2))
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "K", 1))
        assert seat_map.selected_ids == (std("K2"), std("K1"))


async def test_clicking_a_seat_moves_the_cursor_there_and_toggles_it() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "C", 12))
        assert cursor_label(app) == "C12"
        assert seat_map.selected_ids == (std("C12"),)
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "C", 12))
        assert seat_map.selected_ids == ()
        aisle = drawn_at(seat_map, "C", 4) + Offset(3, 0)
        await pilot.click(SeatMap, offset=aisle)
        assert cursor_label(app) == "C12"
        assert seat_map.selected_ids == ()


async def test_couple_seats_are_chosen_and_let_go_in_pairs() -> None:
    app = SeatMapApp(seatmap_from_layout("couples-date-night", {"F1": SeatStatus.BOOKED}))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "E", 2))
        labels = [seat_map.seat(i).label for i in seat_map.selected_ids]
        assert labels == ["E2", "E1"]
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "E", 1))
        assert seat_map.selected_ids == ()
        await pilot.click(SeatMap, offset=drawn_at(seat_map, "F", 2))  # F1, its partner, is sold
        assert seat_map.selected_ids == ()
        [refused] = app.of_type(SelectionRefused)
        assert refused.reason == (
            "Couple seats are sold in pairs, and this one's partner is taken. "
            "Seat F1 is already booked; choose another seat."
        )


async def test_live_changes_recolour_seats_and_release_a_choice_someone_else_took() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.press("space", "right", "space")  # F7 and F8
        seat_map.apply_event(event(("B3", SeatStatus.BOOKED, 1)))  # not newer: ignored
        assert seat_map.seat(std("B3")).status == SeatStatus.AVAILABLE
        seat_map.apply_event(event(("B3", SeatStatus.BOOKED, 2), ("F7", SeatStatus.BLOCKED, 2)))
        await pilot.pause()
        assert seat_map.seat(std("B3")).status == SeatStatus.BOOKED
        b3 = drawn_at(seat_map, "B", 3) - Offset(*seat_map.gutter.top_left)
        cell = seat_map.render_line(b3.y).crop(b3.x, b3.x + 1)
        assert cell.text == "✕"
        [segment] = list(cell)
        booked = seat_map.get_component_rich_style("seat-map--booked")
        assert segment.style is not None and segment.style.color == booked.color
        assert seat_map.selected_ids == (std("F8"),)
        taken = app.of_type(SeatTakenByOther)
        assert [(m.seat_id, m.label) for m in taken] == [(std("F7"), "F7")]
        assert app.of_type(SelectionChanged)[-1].seat_ids == (std("F8"),)


async def test_seats_this_buyer_holds_stay_chosen_when_the_feed_reports_them_held() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.press("space")
        seat_map.mark_held_by_me(seat_map.selected_ids)
        seat_map.apply_event(event(("F7", SeatStatus.BLOCKED, 2)))
        await pilot.pause()
        assert seat_map.selected_ids == (std("F7"),)
        assert not app.of_type(SeatTakenByOther)


async def test_reloading_keeps_the_cursor_and_choices_still_free() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)) as pilot:
        seat_map = app.query_one(SeatMap)
        await pilot.press("up", "space", "right", "space")  # E7 and E8
        seat_map.load(seatmap_from_layout(STANDARD, {"E7": SeatStatus.BOOKED}))
        await pilot.pause()
        assert cursor_label(app) == "E8"
        assert seat_map.selected_ids == (std("E8"),)
        assert [m.label for m in app.of_type(SeatTakenByOther)] == ["E7"]


async def test_best_available_suggestion_is_selected_and_the_cursor_follows() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD, {"H9": SeatStatus.BOOKED}))
    async with app.run_test(size=(100, 30)):
        seat_map = app.query_one(SeatMap)
        seat_map.select_ids([std("H8"), std("H9"), std("H10")])
        assert seat_map.selected_ids == (std("H8"), std("H10"))
        assert cursor_label(app) == "H8"


async def test_the_view_scrolls_to_follow_the_cursor_on_a_big_map() -> None:
    app = SeatMapApp(seatmap_from_layout(IMAX))
    async with app.run_test(size=(80, 24)) as pilot:
        seat_map = app.query_one(SeatMap)

        async def cursor_on_screen() -> bool:
            await pilot.pause()
            return any("[" in line for line in visible_lines(seat_map))

        assert seat_map.max_scroll_x > 0
        await pilot.press(*["l"] * 25)
        assert cursor_label(app) == "H34"
        assert seat_map.scroll_offset.x == seat_map.max_scroll_x
        assert await cursor_on_screen()
        await pilot.press(*["h"] * 45)
        assert cursor_label(app) == "H1"
        assert seat_map.scroll_offset.x == 0
        assert await cursor_on_screen()

        await pilot.resize_terminal(80, 14)  # now too short for all fifteen rows as well
        await pilot.pause()
        assert seat_map.max_scroll_y > 0
        await pilot.press(*["j"] * 10)
        assert cursor_label(app) == "P2"  # straight back: row P starts one column further left
        assert seat_map.scroll_offset.y == seat_map.max_scroll_y
        assert await cursor_on_screen()
        await pilot.press(*["k"] * 20)
        assert cursor_label(app) == "A1"
        assert seat_map.scroll_offset.y == 0
        assert await cursor_on_screen()


async def test_legend_lists_the_types_on_this_map_with_prices_and_every_status() -> None:
    app = SeatMapApp(seatmap_from_layout(STANDARD))
    async with app.run_test(size=(100, 30)):
        legend = app.query_one(Legend)
        lines = legend.render_lines(legend.region.reset_offset)
        text = " ".join(" ".join(strip.text.split()) for strip in lines)
        for entry in (
            f"○ Regular {format_money(25000, 'INR')}",
            "◇ Premium ₹400.00",
            "⊕ Wheelchair space ₹250.00",
            "◎ Companion seat ₹250.00",
            "● Your seats",
            "░ Held by someone else",
            "✕ Booked",
            "· Not for sale",
        ):
            assert entry in text
        assert "Recliner" not in text


def test_format_money() -> None:
    assert format_money(25000, "INR") == "₹250.00"
    assert format_money(123456789, "inr") == "₹1,234,567.89"
    assert format_money(-505, "USD") == "-$5.05"
    assert format_money(1500, "JPY") == "¥1,500"
    assert format_money(1005, "CHF") == "CHF 10.05"


# -- 256 colours: what a terminal without true colour gets --------------------------------------


async def drawn_in_256_colours(layout: str, statuses: dict[str, str]) -> dict[str, set[tuple]]:
    """Draw the map as the app writes it to a 256-colour terminal and read the escapes back:
    each glyph with the (foreground, background) colour numbers it was drawn in."""
    app = SeatMapApp(seatmap_from_layout(layout, statuses))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")  # one seat chosen
        seat_map = app.query_one(SeatMap)
        seat_map.blur()  # the cursor cell is drawn reversed while focused
        await pilot.pause()
        console = app.console
        assert console.color_system == "256"
        with console.capture() as capture:
            for strip in seat_map.render_lines(seat_map.region.reset_offset):
                console.print(Segments(strip), end="\n")
    escapes = capture.get()
    assert "38;2;" not in escapes and "48;2;" not in escapes  # no true-colour escapes at all
    drawn: dict[str, set[tuple]] = {}
    for segment in Text.from_ansi(escapes).render(console):
        style = segment.style or Style()
        colours = (
            style.color.number if style.color else None,
            style.bgcolor.number if style.bgcolor else None,
        )
        for char in segment.text.strip(" []"):
            drawn.setdefault(char, set()).add(colours)
    return drawn


async def test_every_seat_look_keeps_its_own_colour_in_a_256_colour_terminal(
    monkeypatch,
) -> None:
    """Textual maps the stylesheet's true colours to the nearest of 256 when COLORTERM says
    no more; two looks landing on one colour (or on the map's background) would leave only
    the glyph to tell them apart."""
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "256")
    statuses = {"A5": SeatStatus.BOOKED, "C9": SeatStatus.BLOCKED, "E2": SeatStatus.UNAVAILABLE}
    drawn: dict[str, set[tuple]] = {}
    for layout in (STANDARD, "couples-date-night", "recliner-lounge-40"):
        for glyph, colours in (await drawn_in_256_colours(layout, statuses)).items():
            drawn.setdefault(glyph, set()).update(colours)

    looks = [*TYPE_LOOKS.values(), SELECTED, *STATUS_LOOKS.values()]
    colour_of = {}
    for look in looks:
        assert look.glyph in drawn, f"{look.meaning} ({look.glyph}) was not drawn"
        (colour_of[look.meaning],) = drawn[look.glyph]  # one colour per look
    assert len(set(colour_of.values())) == len(looks), colour_of
    background = Color.parse("#10141b").downgrade(ColorSystem.EIGHT_BIT).number
    for meaning, (foreground, cell) in colour_of.items():
        assert foreground != (background if cell is None else cell), f"{meaning} is invisible"


# -- snapshots: pytest --snapshot-update to accept a deliberate change, then look at it ---------


def test_snapshot_fresh_map(snap_compare) -> None:
    assert snap_compare(SeatMapApp(seatmap_from_layout(STANDARD)), terminal_size=(100, 30))


def test_snapshot_selection_held_and_booked(snap_compare) -> None:
    statuses = {
        "A5": SeatStatus.BOOKED,
        "A6": SeatStatus.BOOKED,
        "A7": SeatStatus.BOOKED,
        "C9": SeatStatus.BLOCKED,
        "C10": SeatStatus.BLOCKED,
        "E2": SeatStatus.UNAVAILABLE,
        "J11": SeatStatus.BOOKED,
        "K8": SeatStatus.BLOCKED,
    }
    app = SeatMapApp(seatmap_from_layout(STANDARD, statuses))
    assert snap_compare(
        app, press=["down", "space", "right", "space", "right"], terminal_size=(100, 30)
    )


def test_snapshot_imax_scrolled_in_a_small_terminal(snap_compare) -> None:
    statuses = {f"K{n}": SeatStatus.BOOKED for n in range(12, 20)}
    app = SeatMapApp(seatmap_from_layout(IMAX, statuses))
    assert snap_compare(
        app, press=[*"llllllllllllllllllll", *"jjjjjj", "space"], terminal_size=(80, 24)
    )


def test_snapshot_kiosk_high_contrast(snap_compare) -> None:
    app = SeatMapApp(seatmap_from_layout("balcony-classic", {"BA5": SeatStatus.BOOKED}))

    def high_contrast(pilot: Pilot[None]) -> None:
        pilot.app.screen.add_class("high-contrast")

    assert snap_compare(app, run_before=high_contrast, press=["space"], terminal_size=(90, 36))
