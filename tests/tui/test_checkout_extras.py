"""Checkout beyond one payment, driven with Pilot against a real ``bms serve`` on the demo
data: snacks from the theater's menu, a split of cash and card at the counter (a declined
card first), and a customer spending loyalty points."""

from __future__ import annotations

from textual.widgets import Input, Select

from bmscli.client import ApiClient
from bmscli.tui.app import BoxOfficeApp
from bmscli.tui.screens.checkout import SPLIT_CASH, CheckoutScreen
from bmscli.tui.screens.prompt import Prompt
from bmscli.tui.screens.ticket import TicketScreen
from server.contracts.checkout import BookingRequest, CardIn, PaymentPart
from server.contracts.enums import SeatStatus
from tests.conftest import ServerProcess
from tests.tui.test_app_flows import (
    SIZE,
    at_checkout,
    notified,
    open_seats,
    powai_shows_tomorrow,
    sign_in_as,
    sign_in_as_clerk,
    until,
)

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def type_card(checkout: CheckoutScreen, number: str) -> None:
    checkout.query_one("#card-number", Input).value = number
    checkout.query_one("#card-expiry", Input).value = "12/30"
    checkout.query_one("#card-cvv", Input).value = "123"


async def test_clerk_adds_snacks_and_splits_cash_and_card_after_a_decline(
    demo: ServerProcess, api: ApiClient
) -> None:
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        checkout = await at_checkout(pilot, (await powai_shows_tomorrow(api))[7])
        snack = checkout.query_one("#snack", Select)
        await until(pilot, lambda: snack.display and len(snack._options) > 1)
        before = checkout.quote
        assert before is not None and before.amounts.snacks_minor == 0
        popcorn = snack._options[1][1]
        snack.value = popcorn
        await until(pilot, lambda: checkout.quote is not before)
        snack.value = popcorn  # a second one
        await until(pilot, lambda: checkout.quote and checkout.quote.snacks[0].quantity == 2)
        quote = checkout.quote
        assert quote is not None
        assert quote.amounts.snacks_minor == 2 * quote.snacks[0].unit_price_minor > 0
        total = quote.amounts.total_minor

        checkout.query_one("#method", Select).value = SPLIT_CASH
        await pilot.pause()
        assert (
            checkout.query_one("#tendered").display and checkout.query_one("#card-number").display
        )
        checkout.query_one("#part-amount", Input).value = str(total // 100 + 1)  # > total
        checkout.query_one("#tendered", Input).value = "1000"
        type_card(checkout, GOOD_CARD)
        await pilot.press("f10")
        await until(pilot, lambda: notified(app, "less than the total"))

        cash = 20000
        checkout.query_one("#part-amount", Input).value = str(cash // 100)
        type_card(checkout, DECLINED_CARD)
        await pilot.press("f10")
        await until(pilot, lambda: notified(app, "Payment declined"))
        assert app.screen is checkout and app.active_hold is not None

        type_card(checkout, GOOD_CARD)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        code = app.screen.booking.code  # type: ignore[attr-defined]

    await api.login("clerk@demo.bms", "demo")
    booking = await api.booking(code)
    assert booking.status == "CONFIRMED"
    assert sorted((p.method, p.amount_minor) for p in booking.payments) == sorted(
        [("cash", cash), ("card", total - cash)]
    )
    assert booking.change_minor == 100000 - cash
    assert [(line.name, line.quantity) for line in booking.snacks] == [(quote.snacks[0].name, 2)]


async def test_a_customer_with_points_spends_them_at_checkout(
    demo: ServerProcess, api: ApiClient
) -> None:
    shows = await powai_shows_tomorrow(api)
    await api.login("alice@demo.bms", "demo")
    seatmap = await api.seatmap(shows[8].show_id)
    # Any seat on general sale: which screen shows[8] plays on changes with the date (some
    # days it is the Recliner Lounge, which has no "regular" seats).
    seat = next(
        s
        for s in seatmap.seats
        if s.status == SeatStatus.AVAILABLE and not s.accessible and s.pair is None
    )
    hold = await api.hold(shows[8].show_id, [seat.seat_id])
    card = CardIn(number="4242424242424242", exp_month=12, exp_year=2030, cvv="123")
    request = BookingRequest(hold_id=hold.hold_id, payments=[PaymentPart(method="card", card=card)])
    await api.book(request, idempotency_key=str(hold.hold_id))
    points = (await api.me()).loyalty_points
    assert points > 0

    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as(pilot, "alice@demo.bms")
        checkout = await at_checkout(pilot, shows[9])
        field = checkout.query_one("#points", Input)
        await until(pilot, lambda: field.display)
        assert f"{points} to spend" in field.placeholder
        before = checkout.quote
        field.value = str(points)
        field.focus()
        await pilot.press("enter")
        await until(pilot, lambda: checkout.quote is not before)
        quote = checkout.quote
        assert quote is not None
        assert quote.loyalty_points_used == points and quote.amounts.loyalty_minor == points

        checkout.query_one("#method", Select).value = "card"
        await pilot.pause()
        type_card(checkout, GOOD_CARD)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
    assert (await api.me()).loyalty_points == quote.loyalty_points_earned


async def test_a_coupon_typed_but_not_applied_is_priced_before_anything_is_charged(
    demo: ServerProcess, api: ApiClient
) -> None:
    """A busy clerk types the coupon and goes straight to Pay: the first press prices it and
    charges nothing; a refused coupon says why and is not paid around."""
    shows = await powai_shows_tomorrow(api)
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as(pilot, "alice@demo.bms")
        screen = await open_seats(pilot, shows[10])
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, Prompt))
        await pilot.press("backspace", "3", "enter", "p")
        await until(pilot, lambda: isinstance(app.screen, CheckoutScreen))
        checkout = app.screen
        assert isinstance(checkout, CheckoutScreen)
        await until(pilot, lambda: checkout.quote is not None)
        full = checkout.quote
        assert full is not None and full.amounts.discount_minor == 0

        checkout.query_one("#coupon", Input).value = "FLAT100"
        checkout.query_one("#method", Select).value = "card"
        await pilot.pause()
        type_card(checkout, GOOD_CARD)
        await pilot.press("f10")
        await until(pilot, lambda: notified(app, "Pay again to charge it"))
        quote = checkout.quote
        assert quote is not None and quote.amounts.discount_minor == 10000
        assert app.screen is checkout and screen.hold is not None  # nothing charged yet
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        assert ticket.booking.amounts.total_minor == full.amounts.total_minor - 10000
        await until(pilot, lambda: ticket.art is not None)  # its worker done before exiting

    # At the counter a per-customer coupon is refused: the clerk hears why, nothing is paid.
    app = BoxOfficeApp(demo.url)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_as_clerk(pilot)
        checkout = await at_checkout(pilot, shows[11])
        checkout.query_one("#coupon", Input).value = "FLAT100"
        total = checkout.quote.amounts.total_minor  # type: ignore[union-attr]
        checkout.query_one("#tendered", Input).value = str(total // 100 + 1)
        await pilot.press("f10")
        await until(pilot, lambda: notified(app, "apply or clear the coupon"))
        assert notified(app, "walk-up sale")
        assert app.screen is checkout and app.active_hold is not None
        checkout.query_one("#coupon", Input).value = ""
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen))
        await until(pilot, lambda: app.screen.art is not None)  # type: ignore[attr-defined]
