"""CheckoutScreen: the price of a hold, a coupon, snacks from the theater's menu, loyalty
points, the payment method (or a split: part cash or wallet, the rest by card), and paying.

Pushed over the SeatScreen once seats are held; the hold's countdown runs here too. A
declined payment leaves the hold in place to try another way; a hold that is gone sends the
buyer back to the seats. Paying retries with the same Idempotency-Key, so it never charges
twice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from uuid import UUID

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static

from bmscli.client import ApiError, ServerUnreachable
from bmscli.tui import bindings
from bmscli.tui.money import DECIMALS, format_money
from bmscli.tui.screens.base import BoxOfficeScreen
from bmscli.tui.screens.ticket import TicketScreen
from bmscli.tui.widgets.countdown import Countdown
from server.contracts.api import HoldOut, ShowOut
from server.contracts.checkout import (
    BookingRequest,
    CardIn,
    PaymentPart,
    QuoteOut,
    QuoteRequest,
    SnackChoice,
)
from server.contracts.enums import PaymentMethod, Role

SPLIT_CASH = "cash+card"
SPLIT_WALLET = "wallet+card"
METHODS = {
    PaymentMethod.CARD.value: "Card",
    PaymentMethod.UPI.value: "UPI",
    PaymentMethod.WALLET.value: "Wallet",
    PaymentMethod.CASH.value: "Cash",
    SPLIT_CASH: "Cash + card",
    SPLIT_WALLET: "Wallet + card",
}
CASH_ONLY = frozenset({PaymentMethod.CASH.value, SPLIT_CASH})  # at the counter
WALLET_METHODS = frozenset({PaymentMethod.WALLET.value, SPLIT_WALLET})
# A split pays a typed part this way and the rest by card.
SPLITS = {SPLIT_CASH: PaymentMethod.CASH.value, SPLIT_WALLET: PaymentMethod.WALLET.value}
# Which inputs each method needs; the others are hidden.
FIELDS = {
    PaymentMethod.CARD.value: ("card-number", "card-details"),
    PaymentMethod.UPI.value: ("upi-id",),
    PaymentMethod.WALLET.value: (),
    PaymentMethod.CASH.value: ("tendered",),
    SPLIT_CASH: ("part-amount", "tendered", "card-number", "card-details"),
    SPLIT_WALLET: ("part-amount", "card-number", "card-details"),
}
ALL_FIELDS = tuple({name for names in FIELDS.values() for name in names})
HOLD_GONE = 409
DECLINED = 402


class CheckoutScreen(BoxOfficeScreen):
    BINDINGS = bindings.CHECKOUT

    def __init__(self, show: ShowOut, hold: HoldOut, quote: QuoteOut | None = None) -> None:
        super().__init__()
        self.show = show
        self.hold = hold
        self.quote = quote
        self._payment_key = str(uuid.uuid4())
        self.snacks: dict[UUID, int] = {}  # menu item -> quantity
        # The coupon and points as typed when the price on screen was quoted: Pay compares
        # them with the fields, so nothing typed is left out of the charge unseen.
        self._quoted_extras: tuple[str | None, int] = (None, 0)

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="checkout-top"):
            yield Static(Text(self.show.title, style="bold"), id="checkout-title")
            yield Countdown(self.hold.expires_at, self.office.clock, id="checkout-countdown")
        with Horizontal(id="checkout"):
            price = VerticalScroll(Static(id="price"), id="price-box")
            price.border_title = "Price"
            yield price
            with VerticalScroll(id="payment"):
                with Horizontal(classes="row"):
                    yield Input(placeholder="Coupon code", id="coupon")
                    yield Button("Apply", id="apply", compact=not self.office.LARGE_CONTROLS)
                yield Select[UUID]([], prompt="Add a snack (f6: none)", id="snack")
                yield Input(placeholder="Loyalty points to use", id="points", restrict=r"[0-9]*")
                yield Select(self._methods(), allow_blank=False, id="method")
                yield Input(id="part-amount", restrict=r"[0-9.]*")
                yield Input(placeholder="Cash received", id="tendered", restrict=r"[0-9.]*")
                yield Input(placeholder="Card number", id="card-number", max_length=23)
                with Horizontal(classes="row", id="card-details"):
                    yield Input(placeholder="MM/YY", id="card-expiry", max_length=5)
                    yield Input(placeholder="CVV", id="card-cvv", password=True, max_length=4)
                yield Input(placeholder="name@bank", id="upi-id")
                yield Button("Pay", variant="success", id="pay")

    def _methods(self) -> list[tuple[str, str]]:
        clerk = self.office.user is not None and self.office.user.role == Role.CLERK
        guest = self.office.BUYERS_ARE_GUESTS
        chosen = [
            m
            for m in METHODS
            if (m not in CASH_ONLY or clerk) and not (m in WALLET_METHODS and guest)
        ]
        if clerk:  # cash first at the counter
            chosen.sort(key=lambda method: method not in CASH_ONLY)
        return [(METHODS[method], method) for method in chosen]

    def on_mount(self) -> None:
        self._show_fields()
        self._focus_first_field()
        self.query_one("#points").display = False  # until the buyer is known to have some
        self.query_one("#snack").display = False  # until the menu has something
        if self.quote is None:
            self.reload()
            self.load_extras()
        else:
            self.show_quote(self.quote)

    # -- the price ------------------------------------------------------------------------

    @work(exclusive=True, group="extras")
    async def load_extras(self) -> None:
        """The theater's snack menu, and the buyer's loyalty points when they have any."""
        office = self.office
        menu = await office.request(office.api.snack_menu(self.show.theater_id))
        if menu:
            self.query_one("#snack", Select).set_options(
                (f"{item.name}  {format_money(item.price_minor, item.currency)}", item.item_id)
                for item in menu
            )
            self.query_one("#snack").display = True
        me = await office.request(office.api.me())
        if me is not None and me.loyalty_points > 0:
            points = self.query_one("#points", Input)
            points.placeholder = f"Points to use ({me.loyalty_points} to spend)"
            points.display = True

    @work(exclusive=True, group="quote")
    async def reload(self) -> None:
        await self._requote()

    def _typed_extras(self) -> tuple[str | None, int]:
        """The coupon code and the points to use as typed, which the price may not include
        yet (typed but not applied)."""
        coupon = self.query_one("#coupon", Input).value.strip() or None
        return coupon, int(self.query_one("#points", Input).value or 0)

    async def _requote(self) -> bool:
        """Price the hold with what is typed and chosen now; False if the server refused."""
        coupon, points = self._typed_extras()
        snacks = [SnackChoice(item_id=item, quantity=n) for item, n in self.snacks.items()]
        request = QuoteRequest(coupon_code=coupon, loyalty_points=points, snacks=snacks)
        quote = await self.office.request(self.office.api.quote(self.hold.hold_id, request))
        if quote is None:
            return False
        self._quoted_extras = coupon, points
        self.show_quote(quote)
        return True

    def show_quote(self, quote: QuoteOut) -> None:
        self.quote = quote
        self.query_one("#price", Static).update(_breakdown(quote))
        total = format_money(quote.amounts.total_minor, quote.amounts.currency)
        self.query_one("#pay", Button).label = f"Pay {total}"

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted, "#coupon")
    @on(Input.Submitted, "#points")
    def apply_coupon(self) -> None:
        self.reload()

    @on(Select.Changed, "#snack")
    def add_snack(self, event: Select.Changed) -> None:
        if isinstance(event.value, UUID):
            self.snacks[event.value] = self.snacks.get(event.value, 0) + 1
            event.select.clear()  # ready to add another
            self.reload()

    def action_no_snacks(self) -> None:
        if self.snacks:
            self.snacks.clear()
            self.reload()

    @on(Select.Changed, "#method")
    def _show_fields(self) -> None:
        method = str(self.query_one("#method", Select).value)
        wanted = FIELDS[method]
        for name in ALL_FIELDS:
            self.query_one(f"#{name}").display = name in wanted
        if method in SPLITS:
            part = self.query_one("#part-amount", Input)
            part.placeholder = f"{METHODS[SPLITS[method]]} part (card pays the rest)"

    def _focus_first_field(self) -> None:
        fields = FIELDS[str(self.query_one("#method", Select).value)]
        target = self.query_one(f"#{fields[0]}") if fields else self.query_one("#pay")
        if isinstance(target, Horizontal):
            target = target.query_one(Input)
        target.focus()

    # -- paying ---------------------------------------------------------------------------

    @on(Button.Pressed, "#pay")
    def action_pay(self) -> None:
        if self.quote is None:
            self.notify("Wait for the price first.", severity="warning")
            return
        if self._typed_extras() != self._quoted_extras:
            self.apply_before_paying()  # a busy clerk types a coupon and goes straight to Pay
            return
        try:
            parts = self._payment_parts(self.quote)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.pay(parts)

    @work(exclusive=True, group="quote")
    async def apply_before_paying(self) -> None:
        """Price what was typed but not applied, and charge nothing yet: the customer hears
        the new total (or why the coupon was refused) before paying."""
        if await self._requote():
            assert self.quote is not None
            total = format_money(self.quote.amounts.total_minor, self.quote.amounts.currency)
            self.notify(
                f"The coupon and points typed are now in the price: {total}. Pay again to charge it.",
                title="Price updated, not paid yet",
                severity="warning",
                timeout=10,
            )
        elif self.office.offline is None:  # refused, and the server said why
            self.notify(
                "Nothing was charged: apply or clear the coupon (and points) first.",
                title="Not paid",
                severity="error",
                timeout=10,
            )

    def _payment_parts(self, quote: QuoteOut) -> list[PaymentPart]:
        method = str(self.query_one("#method", Select).value)
        if method not in SPLITS:
            return [self._payment_part(method, quote)]
        first = SPLITS[method]
        total, currency = quote.amounts.total_minor, quote.amounts.currency
        amount = _minor(self._value("part-amount", f"the {first} part"), currency)
        if not 0 < amount < total:
            raise ValueError(
                f"The {first} part must be more than nothing and less than the total, "
                f"{format_money(total, currency)}; the card pays the rest."
            )
        part = self._payment_part(first, quote)
        part.amount_minor = amount
        card = PaymentPart(
            method=PaymentMethod.CARD, amount_minor=total - amount, card=self._card()
        )
        return [part, card]

    def _payment_part(self, method: str, quote: QuoteOut) -> PaymentPart:
        if method == PaymentMethod.CARD:
            return PaymentPart(method=method, card=self._card())
        if method == PaymentMethod.UPI:
            return PaymentPart(method=method, upi_id=self._value("upi-id", "the UPI id"))
        if method == PaymentMethod.CASH:
            tendered = _minor(self._value("tendered", "the cash received"), quote.amounts.currency)
            return PaymentPart(method=method, tendered_minor=tendered)
        return PaymentPart(method=method)

    def _card(self) -> CardIn:
        number = self._value("card-number", "the card number").replace(" ", "")
        month, _, year = self._value("card-expiry", "the expiry (MM/YY)").partition("/")
        if not (month.isdigit() and year.isdigit()):
            raise ValueError("Type the card's expiry as MM/YY, e.g. 08/29.")
        cvv = self._value("card-cvv", "the CVV")
        return CardIn(number=number, exp_month=int(month), exp_year=2000 + int(year), cvv=cvv)

    def _value(self, input_id: str, what: str) -> str:
        value = self.query_one(f"#{input_id}", Input).value.strip()
        if not value:
            raise ValueError(f"Type {what} first.")
        return value

    @work(exclusive=True, group="pay")
    async def pay(self, parts: list[PaymentPart]) -> None:
        office = self.office
        quote = self.quote
        assert quote is not None
        snacks = [
            SnackChoice(item_id=line.item_id, quantity=line.quantity) for line in quote.snacks
        ]
        request = BookingRequest(
            hold_id=self.hold.hold_id,
            coupon_code=quote.coupon_code,
            loyalty_points=quote.loyalty_points_used,
            snacks=snacks,
            payments=parts,
        )
        pay_button = self.query_one("#pay", Button)
        pay_button.loading = True
        try:
            booking = await office.api.book(request, idempotency_key=self._payment_key)
        except ServerUnreachable:
            office.connection_lost()  # paying again reuses the key: never charged twice
            return
        except ApiError as exc:
            self._payment_refused(exc)
            return
        finally:
            pay_button.loading = False
        office.connection_ok()
        office.active_hold = None  # it became the booking
        self.app.switch_screen(TicketScreen(booking))

    def _payment_refused(self, exc: ApiError) -> None:
        self._payment_key = str(uuid.uuid4())  # a refused payment may be tried another way
        if exc.status == HOLD_GONE:
            self.office.active_hold = None
            self.notify(
                exc.detail, title="The seats are no longer held", severity="error", timeout=12
            )
            self.dismiss()
        elif exc.status == DECLINED:
            self.notify(exc.detail, title="Payment declined", severity="error", timeout=12)
        else:
            self.notify(exc.detail, title=exc.title, severity="error", timeout=10)

    @on(Countdown.Expired)
    def hold_expired(self) -> None:
        self.dismiss()  # the seat screen below says what happened


def _minor(amount: str, currency: str) -> int:
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(
            f"{amount!r} is not an amount of money; type e.g. 500 or 500.50."
        ) from None
    return int(value * 10 ** DECIMALS.get(currency.upper(), 2))


def _breakdown(quote: QuoteOut) -> Table:
    amounts, currency = quote.amounts, quote.amounts.currency

    def money(minor: int) -> str:
        return format_money(minor, currency)

    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column()
    table.add_column(justify="right")
    for seat in quote.seats:
        table.add_row(f"Seat {seat.label}  {seat.type}", money(seat.price_minor))
    for snack in quote.snacks:
        table.add_row(f"{snack.quantity} × {snack.name}", money(snack.amount_minor))
    table.add_row(Text("Convenience fee", style="dim"), money(amounts.convenience_fee_minor))
    table.add_row(Text(f"Tax {quote.tax_rate_bp / 100:g} %", style="dim"), money(amounts.tax_minor))
    if amounts.discount_minor:
        label = f"Coupon {quote.coupon_code}" if quote.coupon_code else "Discount"
        table.add_row(
            Text(label, style="green"), Text(f"−{money(amounts.discount_minor)}", style="green")
        )
    if amounts.loyalty_minor:
        table.add_row("Loyalty points", f"−{money(amounts.loyalty_minor)}")
    if quote.loyalty_points_earned:
        table.add_row(Text(f"Earns {quote.loyalty_points_earned} points", style="dim"), "")
    table.add_row(Text("Total", style="bold"), Text(money(amounts.total_minor), style="bold"))
    return table
