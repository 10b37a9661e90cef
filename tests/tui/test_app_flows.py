"""The box office and the kiosk driven like a person would, with Textual's Pilot, against a
real ``bms serve`` on the demo data (one server for the whole module)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from textual import events
from textual.command import CommandList
from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, OptionList, Select, Tabs

from bmscli.client import ApiClient, ServerUnreachable
from bmscli.tui.app import BoxOfficeApp
from bmscli.tui.kiosk import KioskApp
from bmscli.tui.screens.browse import BrowseScreen
from bmscli.tui.screens.checkout import CheckoutScreen
from bmscli.tui.screens.help import HelpScreen
from bmscli.tui.screens.kiosk import WelcomeScreen
from bmscli.tui.screens.login import LoginScreen
from bmscli.tui.screens.movie import MovieScreen
from bmscli.tui.screens.prompt import Prompt
from bmscli.tui.screens.seats import SeatScreen
from bmscli.tui.screens.showtimes import ShowtimesScreen
from bmscli.tui.screens.ticket import TicketScreen
from bmscli.tui.widgets.banner import ConnectionBanner
from bmscli.tui.widgets.countdown import Countdown
from bmscli.tui.widgets.movie_list import MovieList
from bmscli.tui.widgets.seat_map import SeatMap
from bmscli.tui.widgets.show_list import ShowList
from server.contracts.api import HoldOut, ShowOut
from server.contracts.enums import SeatStatus
from tests.conftest import ROOT, Backend, ServerProcess, free_port, server_env, wait_ready
from tests.tui.demo_server import SERVER_ENV

SIZE = (80, 24)  # the smallest terminal the box office promises to work in
POWAI = "Lakeside Multiplex Powai"  # clerk@demo.bms and kiosk@demo.bms sell here


async def until(pilot: Pilot[None], condition: Callable[[], object], seconds: float = 15) -> None:
    """Let the app run until ``condition()`` holds (network answers take a moment). A widget
    the condition looks for that is not mounted yet (a screen just pushed composes its
    children a moment later) counts as not yet.

    It sleeps between looks rather than ``pilot.pause()``: a pause waits for every widget of
    the current screen to take a callback, and a screen the app pops meanwhile (an idle kiosk
    starting over) never does, which stalled a run for Pilot's 30 s and failed it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not _holds(condition):
        if loop.time() > deadline:
            raise AssertionError(f"still not true after {seconds} s: {condition}")
        await asyncio.sleep(0.05)


def _holds(condition: Callable[[], object]) -> bool:
    try:
        return bool(condition())
    except NoMatches:
        return False


def tomorrow_in_mumbai() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Kolkata")).date() + timedelta(days=1)


async def powai_shows_tomorrow(api: ApiClient) -> list[ShowOut]:
    shows = await api.shows(city="Mumbai", date=tomorrow_in_mumbai())
    return sorted(
        (show for show in shows if show.theater_name == POWAI), key=lambda show: show.starts_at
    )


async def sign_in_as_clerk(pilot: Pilot[None]) -> BrowseScreen:
    return await sign_in_as(pilot, "clerk@demo.bms")


async def sign_in_as(pilot: Pilot[None], email: str) -> BrowseScreen:
    """Pick a demo account at login and wait for the movies."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, LoginScreen))
    demo_list = app.screen.query_one("#demo-list", OptionList)
    await until(pilot, lambda: demo_list.option_count > 0)
    demo_list.focus()
    demo_list.highlighted = demo_list.get_option_index(email)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    await until(pilot, lambda: screen.query_one(MovieList).row_count > 0)
    return screen


def listed_titles(screen: BrowseScreen) -> list[str]:
    table = screen.query_one(MovieList)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def open_seats(pilot: Pilot[None], show: ShowOut) -> SeatScreen:
    """Straight to a show's seats, as the command palette does."""
    await pilot.app.push_screen(SeatScreen(show))
    screen = pilot.app.screen
    assert isinstance(screen, SeatScreen)
    await until(pilot, lambda: screen.seatmap is not None)
    return screen


async def at_checkout(pilot: Pilot[None], show: ShowOut) -> CheckoutScreen:
    """One seat of the show held, and its price on the checkout screen."""
    await open_seats(pilot, show)
    await pilot.press("space", "p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CheckoutScreen))
    checkout = pilot.app.screen
    assert isinstance(checkout, CheckoutScreen)
    await until(pilot, lambda: checkout.quote is not None)
    return checkout


def text_of(widget: Widget) -> str:
    return " ".join(strip.text for strip in widget.render_lines(widget.region.reset_offset))


def notified(app: BoxOfficeApp, words: str) -> bool:
    return any(words in f"{n.title} {n.message}" for n in app._notifications)


def statuses(seatmap_seats: list, seat_ids: object) -> set[str]:
    wanted = set(seat_ids)  # type: ignore[call-overload]
    return {seat.status for seat in seatmap_seats if seat.seat_id in wanted}


# -- the box office ----------------------------------------------------------------------------


async def test_login_lists_the_demo_accounts_and_a_clerk_lands_in_their_city(
    demo: ServerProcess, api: ApiClient
) -> None:
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoginScreen))
        demo_list = app.screen.query_one("#demo-list", OptionList)
        await until(pilot, lambda: demo_list.option_count > 0)
        assert demo_list.get_option("clerk@demo.bms") is not None
        assert demo_list.get_option("kiosk@demo.bms") is not None

        app.screen.query_one("#email", Input).value = "clerk@demo.bms"
        app.screen.query_one("#password", Input).value = "wrong"
        app.screen.query_one("#password", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: any("password" in n.message for n in app._notifications))
        assert isinstance(app.screen, LoginScreen)

        screen = await sign_in_as_clerk(pilot)
        assert app.city is not None and app.city.name == "Mumbai"
        now_showing = await api.movies(city="Mumbai", status="now_showing", sort="popularity")
        assert listed_titles(screen) == [movie.title for movie in now_showing]


async def test_search_as_you_type_with_autocomplete_filters_and_coming_soon(
    demo: ServerProcess, api: ApiClient
) -> None:
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await sign_in_as_clerk(pilot)
        title = listed_titles(screen)[0]
        await pilot.press("slash", *title[:4].lower())
        search = screen.query_one("#search", Input)
        await until(pilot, lambda: search._suggestion.casefold() == title.casefold())
        await until(pilot, lambda: listed_titles(screen)[:1] == [title])
        await pilot.press("right")  # accept the suggestion
        assert search.value == title

        search.value = ""
        await until(pilot, lambda: len(listed_titles(screen)) > 1)
        screen.query_one("#language").value = "Marathi"  # type: ignore[attr-defined]
        marathi = await api.movies(city="Mumbai", status="now_showing", language="Marathi")
        await until(pilot, lambda: listed_titles(screen) == [m.title for m in marathi])

        await pilot.press("escape")  # leave the search box
        screen.query_one(MovieList).focus()
        await pilot.press("u")
        upcoming = await api.movies(city="Mumbai", status="upcoming", language="Marathi")
        await until(pilot, lambda: listed_titles(screen) == [m.title for m in upcoming])


async def test_movie_details_then_showtimes_by_theater_with_occupancy(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[0]
    movie = await api.movie(show.movie_id)
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await sign_in_as_clerk(pilot)
        screen.query_one("#search", Input).value = movie.title
        await until(pilot, lambda: listed_titles(screen)[:1] == [movie.title])
        screen.query_one(MovieList).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MovieScreen))
        details = app.screen
        await until(pilot, lambda: details.reviews is not None)  # type: ignore[attr-defined]
        assert movie.synopsis[:40] in text_of(details.query_one("#movie-synopsis"))

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ShowtimesScreen))
        showtimes = app.screen
        assert isinstance(showtimes, ShowtimesScreen)
        await until(pilot, lambda: showtimes.shows is not None)
        await pilot.press("right_square_bracket")  # tomorrow: today's shows may be over
        await until(pilot, lambda: showtimes.day == tomorrow_in_mumbai())
        await until(
            pilot, lambda: bool(showtimes.shows) and showtimes.shows[0].show_id == show.show_id
        )
        assert {s.theater_name for s in showtimes.shows or []} == {POWAI}  # the clerk's theater
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SeatScreen))
        assert app.screen.show.show_id == show.show_id  # type: ignore[attr-defined]


async def test_after_a_day_without_shows_the_list_takes_the_focus_back(
    demo: ServerProcess, api: ApiClient
) -> None:
    """Hiding the list of a day without shows hands the focus to the day tabs; enter must
    still pick a show once shows are listed again (today in the evening, then tomorrow)."""
    show = (await powai_shows_tomorrow(api))[0]
    movie = await api.movie(show.movie_id)
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        await app.push_screen(ShowtimesScreen(movie, day=tomorrow_in_mumbai()))
        showtimes = app.screen
        assert isinstance(showtimes, ShowtimesScreen)
        show_list = showtimes.query_one(ShowList)
        await until(pilot, lambda: bool(showtimes.shows) and show_list.has_focus)
        showtimes.show_shows([])  # a day without shows, as the worker lists it
        await until(pilot, lambda: isinstance(app.focused, Tabs))
        showtimes.reload()
        await until(pilot, lambda: bool(showtimes.shows))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SeatScreen))
        assert app.screen.show.show_id == show.show_id  # type: ignore[attr-defined]


async def test_with_a_location_showtimes_list_the_nearest_theaters_first(
    demo: ServerProcess, api: ApiClient
) -> None:
    bandra = (19.0656, 72.8228)
    shows = await api.shows(city="Mumbai", date=tomorrow_in_mumbai())
    theaters_of: dict[object, set[str]] = {}
    for show in shows:
        theaters_of.setdefault(show.movie_id, set()).add(show.theater_name)
    movie_id = max(theaters_of, key=lambda movie: len(theaters_of[movie]))
    assert len(theaters_of[movie_id]) > 1
    nearest_first = [
        t.theater_id
        for t in await api.theaters("Mumbai", *bandra)
        if t.name in theaters_of[movie_id]
    ]
    movie = await api.movie(movie_id)  # type: ignore[arg-type]

    app = BoxOfficeApp(demo.url, city="Mumbai", location=bandra)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as(pilot, "alice@demo.bms")  # a customer: every theater's shows
        await app.push_screen(ShowtimesScreen(movie, day=tomorrow_in_mumbai()))
        showtimes = app.screen
        assert isinstance(showtimes, ShowtimesScreen)
        await until(pilot, lambda: bool(showtimes.shows))
        order = list(dict.fromkeys(show.theater_id for show in showtimes.shows or []))
        assert order == nearest_first
        assert "Bandra Bay Cinemas  0.0 km" in text_of(showtimes.query_one(ShowList))


async def test_best_available_hold_with_countdown_then_back_releases(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[1]
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await open_seats(pilot, show)
        seat_map = screen.query_one(SeatMap)
        for party in ("0", "40", "99"):  # refused in the clerk's words, not the API's
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, Prompt))
            await pilot.press("backspace", *party, "enter")
            await until(pilot, lambda: notified(app, "from 1 to 10"))
            assert not notified(app, "Invalid request") and not seat_map.selected_ids
            app.clear_notifications()
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        await pilot.press("backspace", "3", "enter")
        await until(pilot, lambda: len(seat_map.selected_ids) == 3)
        best = await api.best_available(show.show_id, 3)
        assert set(seat_map.selected_ids) == set(best.seat_ids)

        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
        assert screen.hold is not None and app.active_hold is not None
        await pilot.press("escape")  # back to the seats: still held
        assert app.screen is screen and app.active_hold is not None
        countdown = screen.query_one(Countdown)
        assert countdown.expires_at == app.active_hold.expires_at
        assert "Held for" in text_of(countdown)
        held = await api.seatmap(show.show_id)
        assert statuses(held.seats, best.seat_ids) == {SeatStatus.BLOCKED}
        await pilot.press("space")  # held seats are fixed
        assert len(seat_map.selected_ids) == 3

        await pilot.press("escape")
        await until(
            pilot, lambda: app.active_hold is None and not isinstance(app.screen, SeatScreen)
        )
        freed = await api.seatmap(show.show_id)
        assert statuses(freed.seats, best.seat_ids) == {SeatStatus.AVAILABLE}


async def test_another_clients_hold_recolours_the_map_live(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[2]
    seatmap = await api.seatmap(show.show_id)
    taken = next(seat for seat in seatmap.seats if seat.label == "A3")
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await open_seats(pilot, show)
        seat_map = screen.query_one(SeatMap)
        assert seat_map.seat(taken.seat_id).status == SeatStatus.AVAILABLE

        await api.guest("someone at the kiosk")
        hold = await api.hold(show.show_id, [taken.seat_id])
        await until(pilot, lambda: seat_map.seat(taken.seat_id).status == SeatStatus.BLOCKED, 5)
        await api.release(hold.hold_id)
        await until(pilot, lambda: seat_map.seat(taken.seat_id).status == SeatStatus.AVAILABLE, 5)


async def test_an_expired_hold_tells_the_buyer_and_clears_the_choice(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[3]
    skew = timedelta()

    def clock() -> datetime:
        return datetime.now(UTC) + skew

    app = BoxOfficeApp(demo.url, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await open_seats(pilot, show)
        seat_map = screen.query_one(SeatMap)
        await pilot.press("space", "right", "space", "p")
        await until(pilot, lambda: screen.hold is not None)
        hold = screen.hold
        assert hold is not None
        assert isinstance(app.screen, CheckoutScreen)

        skew = timedelta(minutes=30)  # the countdown reads the app's clock
        await until(pilot, lambda: screen.hold is None)
        await until(pilot, lambda: app.screen is screen)  # checkout gave up too
        assert seat_map.selected_ids == ()
        assert any(n.title == "Hold expired" for n in app._notifications)
        assert not screen.query(Countdown)
    await api.login("clerk@demo.bms", "demo")
    await api.release(hold.hold_id)


async def test_checkout_declined_card_then_cash_with_change_gives_the_ticket(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[6]
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        checkout = await at_checkout(pilot, show)
        assert checkout.quote is not None
        total = checkout.quote.amounts.total_minor

        checkout.query_one("#method", Select).value = "card"
        await pilot.pause()
        checkout.query_one("#card-number", Input).value = "4000 0000 0000 0002"  # declines
        checkout.query_one("#card-expiry", Input).value = "12/30"
        checkout.query_one("#card-cvv", Input).value = "123"
        await pilot.press("f10")
        await until(pilot, lambda: any(n.title == "Payment declined" for n in app._notifications))
        assert app.screen is checkout and app.active_hold is not None

        checkout.query_one("#method", Select).value = "cash"
        await pilot.pause()
        checkout.query_one("#tendered", Input).value = str(total // 100 + 100)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        assert app.active_hold is None
        await until(pilot, lambda: ticket.art is not None)
        assert "▄" in (ticket.art or "")
        await api.login("clerk@demo.bms", "demo")
        booking = await api.booking(ticket.booking.code)
        assert booking.status == "CONFIRMED"
        assert booking.change_minor == total // 100 * 100 + 10000 - total
        await pilot.press("escape")  # done: back to the movies for the next customer
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))


async def test_palette_jumps_to_a_movie_and_help_lists_the_keys(demo: ServerProcess) -> None:
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        screen = await sign_in_as_clerk(pilot)
        title = listed_titles(screen)[0]
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*f"movie: {title}".lower())
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 0)
        assert str(commands.get_option_at_index(0).prompt).startswith("Movie:")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MovieScreen))
        assert app.screen.movie.title == title  # type: ignore[attr-defined]

        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = " ".join(text_of(section) for section in app.screen.query(".help-section"))
        for description in ("Best seats", "Hold & pay", "Release", "Seat left", "Day after", "Pay"):
            assert description in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, MovieScreen)


# -- outages -----------------------------------------------------------------------------------


def serve_on(backend: Backend, data_dir: Path, port: int) -> ServerProcess:
    """``bms serve`` on a chosen port, so a restart comes back at the same address."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}-{len(list(data_dir.iterdir()))}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bmscli.main", "serve", "--port", str(port)],
        cwd=ROOT,
        env=server_env(backend, data_dir, **SERVER_ENV),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process, log_path)
    return ServerProcess(url=url, process=process, log_path=log_path)


async def test_a_server_restart_shows_the_banner_reconnects_and_keeps_the_choice(
    demo: ServerProcess, api: ApiClient, backend: Backend, tmp_path: Path
) -> None:
    show = (await powai_shows_tomorrow(api))[4]
    port = free_port()
    server = serve_on(backend, tmp_path, port)
    app = BoxOfficeApp(server.url)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await sign_in_as_clerk(pilot)
            screen = await open_seats(pilot, show)
            seat_map = screen.query_one(SeatMap)
            await pilot.press("space", "right", "space")
            chosen = seat_map.selected_ids
            assert len(chosen) == 2
            banner = screen.query_one(ConnectionBanner)
            assert not banner.display or not banner.has_class("-offline")

            await asyncio.to_thread(server.stop)
            await until(pilot, lambda: app.offline is not None)
            assert banner.has_class("-offline")
            assert "not answering" in text_of(banner)
            assert seat_map.selected_ids == chosen

            server = await asyncio.to_thread(serve_on, backend, tmp_path, port)
            await until(pilot, lambda: app.offline is None, 30)
            assert not banner.has_class("-offline")
            assert seat_map.selected_ids == chosen
            await pilot.press("p")  # and the choice can still be held
            await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
            await pilot.press("escape", "r")
            await until(pilot, lambda: screen.hold is None and app.active_hold is None)
    finally:
        server.stop()


async def test_a_hold_whose_answer_was_lost_comes_back_to_its_buyer(
    demo: ServerProcess, api: ApiClient
) -> None:
    """The server made the hold but its answer never arrived: the seats the live feed now
    shows held stay this buyer's choice, and once the server answers again the same
    Idempotency-Key fetches that very hold instead of the seats staying blocked."""
    show = (await powai_shows_tomorrow(api))[12]
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        asked: list[tuple[str | None, HoldOut]] = []
        hold_at_the_server = app.api.hold

        async def answer_lost_once(*args: Any, **kwargs: Any) -> HoldOut:
            hold = await hold_at_the_server(*args, **kwargs)
            asked.append((kwargs["idempotency_key"], hold))
            if len(asked) == 1:
                raise ServerUnreachable("the answer was lost on the way back")
            return hold

        app.api.hold = answer_lost_once  # type: ignore[method-assign]
        screen = await open_seats(pilot, show)
        seat_map = screen.query_one(SeatMap)
        await pilot.press("space", "right", "space")
        chosen = seat_map.selected_ids
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
        assert screen.hold is not None and seat_map.selected_ids == chosen
        (first_key, made), (retry_key, replayed) = asked
        assert retry_key == first_key and replayed.hold_id == made.hold_id
        assert screen.hold.hold_id == made.hold_id
        assert not any("someone else" in n.message for n in app._notifications)
        await pilot.press("escape", "r")
        await until(pilot, lambda: screen.hold is None and app.active_hold is None)
    freed = await api.seatmap(show.show_id)
    assert statuses(freed.seats, chosen) == {SeatStatus.AVAILABLE}


# -- the kiosk ---------------------------------------------------------------------------------


async def test_kiosk_sells_as_a_guest_and_an_idle_kiosk_starts_over(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[5]
    app = KioskApp(demo.url, pin="2468", idle_seconds=3600)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        assert app.sells_at and {t.name for t in app.theaters if t.theater_id in app.sells_at} == {
            POWAI
        }
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        assert app.user is not None and app.user.role == "customer"

        screen = await open_seats(pilot, show)
        await pilot.press("space", "p")
        await until(pilot, lambda: app.active_hold is not None)
        hold = app.active_hold
        assert hold is not None
        await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
        methods = [value for _, value in app.screen.query_one("#method", Select)._options]
        assert methods == ["card", "upi"]  # a guest's wallet is always empty

        app.idle_seconds = 0  # nobody has touched it for "a long time"
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        app.idle_seconds = 3600
        await until(pilot, lambda: app.active_hold is None)
        seats = await api.seatmap(show.show_id)
        assert statuses(seats.seats, hold.seat_ids) == {SeatStatus.AVAILABLE}
        assert app.user is None
        assert screen is not app.screen


async def test_the_next_kiosk_customer_starts_in_the_kiosks_own_city(demo: ServerProcess) -> None:
    app = KioskApp(demo.url, pin="2468", idle_seconds=3600)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        home = app.city
        assert home is not None and home.name == "Mumbai"
        for start_over in ("escape", "idle"):
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
            await until(pilot, lambda: app.screen.query_one(MovieList).row_count > 0)
            app.screen.query_one("#city", Select).value = "Bengaluru"
            await until(pilot, lambda: app.city is not None and app.city.name == "Bengaluru")
            if start_over == "escape":
                await pilot.press("escape")
            else:
                app.idle_seconds = 0
            await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
            app.idle_seconds = 3600
            assert app.city == home, start_over


async def test_a_title_typed_right_behind_the_search_key_lands_in_the_search_box(
    demo: ServerProcess,
) -> None:
    """A busy app reads every key typed meanwhile from the terminal at once. The title typed
    behind "/" must reach the search box, not the list "/" moves away from (where its letters
    are keys: "n"ow showing, "f"ilters...)."""
    title = "Long Shadow of the Ghats"
    app = KioskApp(demo.url, pin="2468", idle_seconds=3600)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        await until(pilot, lambda: screen.query_one(MovieList).row_count > 1)
        # Posted as the driver posts what it reads, with no pause for the app in between
        # (Pilot's press waits for the app to go idle after each key).
        for key, char in [("slash", "/"), *(("space" if c == " " else c, c) for c in title)]:
            app.post_message(events.Key(key, char))
        await until(pilot, lambda: listed_titles(screen) == [title])
        search = screen.query_one("#search", Input)
        assert search.value == title and search.has_focus
        assert screen.status == "now_showing"
        await pilot.press("slash")  # in the box, "/" is text
        assert search.value == f"{title}/"


async def test_kiosk_has_no_quit_key_and_leaves_only_with_the_staff_pin(
    demo: ServerProcess,
) -> None:
    app = KioskApp(demo.url, pin="2468", idle_seconds=3600)
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.press("ctrl+c")
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, WelcomeScreen)  # no palette either
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        await pilot.press(*"1111", "enter")
        await until(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        assert app.is_running
        await pilot.press("ctrl+x", *"2468", "enter")
        await until(pilot, lambda: not app.is_running)
