"""The real ``bms kiosk`` process in a pseudo-terminal, read through a terminal emulator
(pyte), against a real server: a customer picks a movie, a show and two seats, pays by card
and sees the QR code, and the booking is on the server; the next customer holds two seats
and staff leave with the PIN, which releases that hold."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from bmscli.client import ApiClient
from server.contracts.api import ShowOut
from server.contracts.checkout import BookingOut
from server.contracts.enums import SeatStatus
from tests.conftest import Backend, ServerProcess
from tests.e2e.terminal import Terminal
from tests.tui.demo_server import start_demo_server
from tests.tui.test_app_flows import POWAI, tomorrow_in_mumbai

pytestmark = pytest.mark.slow

COLUMNS, LINES = 110, 34
PIN = "1357"
F10 = "\x1b[21~"


@pytest.fixture(scope="module")
def demo(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_demo_server(backend, tmp_path_factory.mktemp("kiosk-demo"))
    yield server
    server.stop()


async def powai_show_tomorrow(url: str) -> ShowOut:
    async with ApiClient(url) as api:
        shows = await api.shows(city="Mumbai", date=tomorrow_in_mumbai())
    return min((s for s in shows if s.theater_name == POWAI), key=lambda s: s.starts_at)


def hold_two_seats(kiosk: Terminal, show: ShowOut) -> None:
    """From the movie list: find the movie, its show tomorrow, the best two seats; hold."""
    kiosk.wait_for(" movies ")  # the list is loaded and has the focus
    kiosk.press("/", show.title)
    kiosk.wait_for("1 movie")
    kiosk.press("\r", "\r")  # to the list, and open the movie
    kiosk.wait_for("Showtimes")
    kiosk.press("s")
    kiosk.wait_for("· Today")
    kiosk.press("]")
    kiosk.wait_for("· Tomorrow")  # the list below is tomorrow's
    kiosk.wait_for(show.screen_name)
    kiosk.press("\r")
    kiosk.wait_for("SCREEN")
    assert show.title in kiosk.text
    kiosk.press("b")
    kiosk.wait_for("How many seats together?")
    kiosk.press("\r")  # two, the suggested number
    kiosk.wait_for("2 seats:")
    kiosk.press("p")


async def booking_on_server(url: str, code: str) -> BookingOut:
    async with ApiClient(url) as api:
        await api.login("clerk@demo.bms", "demo")  # staff of the kiosk's theater
        return await api.booking(code)


async def blocked_seats(url: str, show_id) -> int:
    async with ApiClient(url) as api:
        seatmap = await api.seatmap(show_id)
    return sum(seat.status == SeatStatus.BLOCKED for seat in seatmap.seats)


def test_a_customer_holds_two_seats_at_the_kiosk_and_staff_leave_with_the_pin(
    demo: ServerProcess,
) -> None:
    show = asyncio.run(powai_show_tomorrow(demo.url))
    env = {
        **os.environ,
        "BMS_SERVER_URL": demo.url,
        "BMS_KIOSK_PIN": PIN,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "TEXTUAL_ANIMATIONS": "none",
    }
    env.pop("BMS_KIOSK_TOKEN", None)  # the demo kiosk account signs the device in
    kiosk = Terminal(["-m", "bmscli.main", "kiosk"], env)
    try:
        kiosk.wait_for("Buy tickets")
        kiosk.wait_for(POWAI)
        kiosk.press("\r")
        kiosk.wait_for("Now showing")
        hold_two_seats(kiosk, show)
        kiosk.wait_for("Held for")
        assert asyncio.run(blocked_seats(demo.url, show.show_id)) == 2
        kiosk.wait_for("Pay ₹")  # checkout: a guest pays by card (the payment simulator)
        kiosk.press("4242424242424242", "\t", "12/30", "\t", "123", F10)
        kiosk.wait_for("Booking code")
        kiosk.wait_for("▄")  # the QR code, drawn in the terminal
        # The code, in the row below its label, shares its rows with the QR code: the frame
        # that draws the QR code redraws it, so the screen is read once it shows the code whole.
        code = kiosk.wait_for_match(r"Booking code.*\n.*?\b([A-Z2-9]{8})\b").group(1)
        kiosk.wait_for("Print ticket")
        booking = asyncio.run(booking_on_server(demo.url, code))
        assert booking.status == "CONFIRMED"
        assert booking.channel == "kiosk"  # the guest session was started by the device
        assert len(booking.seats) == 2 and booking.show_id == show.show_id

        kiosk.press("\x1b")  # done: back to the start for the next customer
        kiosk.wait_for("Buy tickets")
        kiosk.press("\r")
        kiosk.wait_for("Now showing")
        hold_two_seats(kiosk, show)
        kiosk.wait_for("Pay ₹")
        assert asyncio.run(blocked_seats(demo.url, show.show_id)) == 2

        kiosk.press("\x11")  # ctrl+q: no quitting for customers, only the PIN prompt
        kiosk.wait_for("Staff PIN")
        kiosk.press("0000", "\r")
        kiosk.wait_for("Wrong PIN")
        assert kiosk.child.isalive()
        kiosk.press("\x18")  # ctrl+x
        kiosk.wait_for("Staff PIN")
        kiosk.press(PIN, "\r")
        assert kiosk.wait_exit() == 0
    finally:
        if kiosk.child.isalive():
            kiosk.child.terminate(force=True)
    assert asyncio.run(blocked_seats(demo.url, show.show_id)) == 0  # leaving released the hold
