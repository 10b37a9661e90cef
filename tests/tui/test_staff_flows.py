"""A clerk's bookings desk and the waiting list, driven with Textual's Pilot against a real
``bms serve`` on the demo data: find a booking by phone, see the refund quote, keep the
booking or cancel a seat; jump to a booking from the command palette; put the customer at the
counter on the waiting list of a sold-out show (a customer still joins for themselves), and
book the seats offered to a waiting customer from the bookings desk."""

from __future__ import annotations

from uuid import UUID

from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, SelectionList, Static

from bmscli.client import ApiClient
from bmscli.tui.app import BoxOfficeApp
from bmscli.tui.screens.bookings import BookingsScreen, lookup_terms
from bmscli.tui.screens.browse import BrowseScreen
from bmscli.tui.screens.checkout import CheckoutScreen
from bmscli.tui.screens.prompt import Prompt
from bmscli.tui.screens.refund_quote import RefundQuoteScreen
from bmscli.tui.screens.ticket import TicketScreen
from bmscli.tui.screens.waitlist_customer import WaitlistCustomerScreen
from server.contracts.api import ShowOut
from server.contracts.checkout import (
    BookingOut,
    BookingRequest,
    CardIn,
    Contact,
    CustomerContact,
    PaymentPart,
)
from server.contracts.enums import SeatStatus
from tests.conftest import ServerProcess
from tests.polling import eventually
from tests.tui.test_app_flows import (
    SIZE,
    notified,
    open_seats,
    powai_shows_tomorrow,
    sign_in_as,
    sign_in_as_clerk,
    text_of,
    until,
)

PHONE = "+91 98200 55555"
MAX_SEATS_PER_HOLD = 10


async def guest_books(demo: ServerProcess, show: ShowOut, seats: int, phone: str) -> BookingOut:
    """A customer buys seats online as a guest, leaving a phone number."""
    async with ApiClient(demo.url) as guest:
        await guest.guest("Asha")
        seatmap = await guest.seatmap(show.show_id)
        free = [
            s.seat_id
            for s in seatmap.seats
            if s.status == SeatStatus.AVAILABLE and s.type == "regular"
        ]
        hold = await guest.hold(show.show_id, free[:seats])
        card = CardIn(number="4242424242424242", exp_month=12, exp_year=2030, cvv="123")
        request = BookingRequest(
            hold_id=hold.hold_id,
            payments=[PaymentPart(method="card", card=card)],
            contact=Contact(phone=phone),
        )
        return await guest.book(request, idempotency_key=str(hold.hold_id))


async def look_up_at_the_desk(pilot: Pilot[None], typed: str) -> BookingsScreen:
    """F2, type what the customer says and press enter: the bookings desk, searching."""
    app = pilot.app
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, BookingsScreen))
    desk = app.screen
    assert isinstance(desk, BookingsScreen)
    desk.query_one("#lookup", Input).value = typed
    await pilot.press("enter")
    return desk


def test_what_the_clerk_types_is_a_code_a_phone_or_an_email() -> None:
    assert lookup_terms(" k7q2m9xd ") == {"code": "k7q2m9xd"}
    assert lookup_terms("+91 98200-12345") == {"phone": "+91 98200-12345"}
    assert lookup_terms("asha@example.in") == {"email": "asha@example.in"}
    assert lookup_terms("12345") == {"code": "12345"}  # too short to be a phone number


async def test_clerk_finds_a_booking_by_phone_sees_the_quote_keeps_then_cancels_a_seat(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[2]
    booking = await guest_books(demo, show, 2, PHONE)
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await look_up_at_the_desk(pilot, "98200 55555")  # no country code
        found = screen.query_one("#found", DataTable)
        await until(pilot, lambda: found.row_count == 1 and screen.booking is not None)
        assert str(found.get_row_at(0)[0]) == booking.code
        details = text_of(screen.query_one("#booking-details"))
        assert booking.code in details and PHONE in details
        for seat in booking.seats:
            assert f"Seat {seat.label}" in details

        await pilot.press("x")  # no seat ticked: the whole booking
        await until(pilot, lambda: isinstance(app.screen, RefundQuoteScreen))
        quote = app.screen.quote  # type: ignore[attr-defined]
        assert quote.whole_booking and len(quote.seats) == 2 and quote.refund_minor > 0
        assert "Cancel the whole booking" in text_of(app.screen.query_one(".title"))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen)
        await api.login("clerk@demo.bms", "demo")
        assert (await api.booking(booking.code)).status == "CONFIRMED"

        kept, cancelled = booking.seats
        screen.query_one("#cancel-seats", SelectionList).select(cancelled.seat_id)
        screen.query_one("#refund-to").value = "wallet"  # type: ignore[attr-defined]
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, RefundQuoteScreen))
        quote = app.screen.quote  # type: ignore[attr-defined]
        assert [line.label for line in quote.seats] == [cancelled.label]
        assert not quote.whole_booking and quote.refund_to == "wallet"
        assert "to the bms wallet" in text_of(app.screen.query_one("#refund-lines"))
        await pilot.press("y")
        await until(pilot, lambda: notified(app, "partially cancelled"))
        await until(
            pilot, lambda: screen.booking is not None and screen.booking.amounts.refunded_minor > 0
        )

        after = await api.booking(booking.code)
        assert after.status == "PARTIALLY_CANCELLED"
        assert {s.label: s.status for s in after.seats} == {
            kept.label: "ACTIVE",
            cancelled.label: "CANCELLED",
        }
        assert after.amounts.refunded_minor == quote.refund_minor
        refunds = await api.refunds(booking.code)
        assert [r.destination for r in refunds] == ["wallet"]
        assert "Refunded" in text_of(screen.query_one("#booking-details"))
        await until(pilot, lambda: str(found.get_row_at(0)[3]) == kept.label)


async def test_palette_jumps_to_a_booking_and_customers_have_no_bookings_desk(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[3]
    booking = await guest_books(demo, show, 1, "+91 90000 11111")
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        await pilot.press(*booking.code.lower())
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count > 0)
        assert str(commands.get_option_at_index(0).prompt).startswith("Booking:")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BookingsScreen))
        screen = app.screen
        assert isinstance(screen, BookingsScreen)
        await until(pilot, lambda: screen.booking is not None)
        assert screen.booking is not None and screen.booking.code == booking.code

    customer = BoxOfficeApp(demo.url)
    async with customer.run_test(size=SIZE) as pilot:
        await sign_in_as(pilot, "alice@demo.bms")
        await pilot.press("f2")
        await pilot.pause(0.3)
        assert isinstance(customer.screen, BrowseScreen)
        assert not customer.serves_customers


async def sell_out(api: ApiClient, show: ShowOut) -> list[UUID]:
    """The clerk holds every free seat (staff may hold any number); returns the holds."""
    await api.login("clerk@demo.bms", "demo")
    seatmap = await api.seatmap(show.show_id)
    free = [seat for seat in seatmap.seats if seat.status == SeatStatus.AVAILABLE]
    holds = []
    for start in range(0, len(free), MAX_SEATS_PER_HOLD):
        chunk = free[start : start + MAX_SEATS_PER_HOLD]
        accessible = any(seat.accessible for seat in chunk)
        hold = await api.hold(show.show_id, [seat.seat_id for seat in chunk], accessible=accessible)
        holds.append(hold.hold_id)
    return holds


async def test_a_clerk_puts_the_customer_at_the_counter_on_the_waiting_list(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[4]
    await sell_out(api, show)

    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await open_seats(pilot, show)
        await until(pilot, lambda: screen.sold_out)
        assert "waiting list" in text_of(screen.selection_info)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WaitlistCustomerScreen))
        form = app.screen
        form.query_one("#wl-seats", Input).value = "3"
        form.query_one("#wl-name", Input).value = "Asha Rao"  # the name has the focus
        await pilot.press("enter")  # enter moves on to the e-mail, then the phone
        assert form.query_one("#wl-email", Input).has_focus
        form.query_one("#wl-email", Input).value = "asha@"
        await pilot.press("enter")
        form.query_one("#wl-phone", Input).value = "98200 66666"
        await pilot.press("enter")  # on the last field: send
        # The server's refusal stays on the form, on the field it is about.
        message = form.query_one("#wl-message", Static)
        await until(pilot, lambda: "is not an e-mail address" in str(message.content))
        assert app.screen is form and form.query_one("#wl-email", Input).has_focus
        form.query_one("#wl-email", Input).value = "asha@example.in"
        await pilot.click("#wl-add")
        await until(pilot, lambda: notified(app, "Asha Rao is number 1 in line for 3 seats"))
        assert app.screen is screen
        assert "Waiting list: Asha Rao #1" in text_of(screen.selection_info)

    [entry] = await api.find_waitlist(phone="+91 98200 66666")
    assert entry.customer is not None and entry.customer.email == "asha@example.in"
    assert (entry.seats_wanted, entry.position) == (3, 1)

    # A customer (as at a kiosk) still joins for themselves, with no customer to name.
    customer = BoxOfficeApp(demo.url)
    async with customer.run_test(size=SIZE) as pilot:
        await sign_in_as(pilot, "alice@demo.bms")
        screen = await open_seats(pilot, show)
        await until(pilot, lambda: screen.sold_out)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(customer.screen, Prompt))
        customer.screen.query_one(Input).value = "2"
        await pilot.press("enter")
        await until(pilot, lambda: notified(customer, "On the waiting list, number 2 in line"))


async def test_seats_freed_live_take_the_waiting_list_offer_away(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[6]
    holds = await sell_out(api, show)

    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        screen = await open_seats(pilot, show)
        await until(pilot, lambda: screen.sold_out)
        assert screen.check_action("waitlist", ()) is True
        await api.release(holds[0])  # nobody waits for this show: the seats stay free
        await until(pilot, lambda: not screen.sold_out)
        assert screen.check_action("waitlist", ()) is False
        assert "Choose seats" in text_of(screen.selection_info)


async def test_the_bookings_desk_books_seats_offered_to_a_waiting_customer(
    demo: ServerProcess, api: ApiClient
) -> None:
    show = (await powai_shows_tomorrow(api))[5]
    holds = await sell_out(api, show)
    meera = CustomerContact(name="Meera", phone="+91 90000 77777")
    await api.join_waitlist(show.show_id, 2, customer=meera)
    await api.release(holds[0])  # seats free up: the offer job holds two for Meera

    async def offered() -> bool:
        entries = await api.find_waitlist(phone="9000077777")
        return bool(entries) and entries[0].status == "OFFERED"

    await eventually(offered, "the offer to Meera")

    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        desk = await look_up_at_the_desk(pilot, "90000 77777")
        found = desk.query_one("#found", DataTable)
        await until(pilot, lambda: found.row_count == 1 and desk.entry is not None)
        assert "offered" in str(found.get_row_at(0)[4])
        details = text_of(desk.query_one("#booking-details"))
        assert "Meera" in details and "held for the customer until" in details

        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
        checkout = app.screen
        assert isinstance(checkout, CheckoutScreen)
        await until(pilot, lambda: checkout.quote is not None)
        assert checkout.quote is not None and len(checkout.quote.seats) == 2
        checkout.query_one("#method", Select).value = "cash"
        await pilot.pause()
        checkout.query_one("#tendered", Input).value = str(checkout.quote.amounts.total_minor)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)

    [booking] = await api.find_bookings(phone="90000 77777")  # hers, with her contact
    assert booking.code == ticket.booking.code and booking.contact_phone == meera.phone

    async def fulfilled() -> bool:
        return (await api.find_waitlist(phone=meera.phone or ""))[0].status == "FULFILLED"

    await eventually(fulfilled, "Meera's entry to be fulfilled")
