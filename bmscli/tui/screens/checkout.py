"""CheckoutScreen: the price of a hold, a coupon, the payment method, and paying.

Pushed over the SeatScreen once seats are held; the hold's countdown runs here too. A
declined payment leaves the hold in place to try another way; a hold that is gone sends the
buyer back to the seats. Paying retries with the same Idempotency-Key, so it never charges
twice.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
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
)
from server.contracts.enums import PaymentMethod, Role

METHODS = {
    PaymentMethod.CARD.value: "Card",
    PaymentMethod.UPI.value: "UPI",
    PaymentMethod.WALLET.value: "Wallet",
    PaymentMethod.CASH.value: "Cash",
}
# Which inputs each method needs; the others are hidden.
FIELDS = {
    PaymentMethod.CARD.value: ("card-number", "card-details"),
    PaymentMethod.UPI.value: ("upi-id",),
    PaymentMethod.WALLET.value: (),
    PaymentMethod.CASH.value: ("tendered",),
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

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="checkout-top"):
            yield Static(Text(self.show.title, style="bold"), id="checkout-title")
            yield Countdown(self.hold.expires_at, self.office.clock, id="checkout-countdown")
        with Horizontal(id="checkout"):
            price = VerticalScroll(Static(id="price"), id="price-box")
            price.border_title = "Price"
            yield price
            with Vertical(id="payment"):
                with Horizontal(classes="row"):
                    yield Input(placeholder="Coupon code", id="coupon")
                    yield Button("Apply", id="apply", compact=not self.office.LARGE_CONTROLS)
                yield Select(self._methods(), allow_blank=False, id="method")
                yield Input(placeholder="Card number", id="card-number", max_length=23)
                with Horizontal(classes="row", id="card-details"):
                    yield Input(placeholder="MM/YY", id="card-expiry", max_length=5)
                    yield Input(placeholder="CVV", id="card-cvv", password=True, max_length=4)
                yield Input(placeholder="name@bank", id="upi-id")
                yield Input(placeholder="Cash received", id="tendered", restrict=r"[0-9.]*")
                yield Button("Pay", variant="success", id="pay")

    def _methods(self) -> list[tuple[str, str]]:
        clerk = self.office.user is not None and self.office.user.role == Role.CLERK
        chosen = [m for m in METHODS if m != PaymentMethod.CASH or clerk]
        if clerk:  # cash first at the counter
            chosen.sort(key=lambda method: method != PaymentMethod.CASH)
        return [(METHODS[method], method) for method in chosen]

    def on_mount(self) -> None:
        self._show_fields()
        self._focus_first_field()
        if self.quote is None:
            self.reload()
        else:
            self.show_quote(self.quote)

    # -- the price ------------------------------------------------------------------------

    @work(exclusive=True, group="quote")
    async def reload(self) -> None:
        coupon = self.query_one("#coupon", Input).value.strip() or None
        request = QuoteRequest(coupon_code=coupon)
        quote = await self.office.request(self.office.api.quote(self.hold.hold_id, request))
        if quote is not None:
            self.show_quote(quote)

    def show_quote(self, quote: QuoteOut) -> None:
        self.quote = quote
        self.query_one("#price", Static).update(_breakdown(quote))
        total = format_money(quote.amounts.total_minor, quote.amounts.currency)
        self.query_one("#pay", Button).label = f"Pay {total}"

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted, "#coupon")
    def apply_coupon(self) -> None:
        self.reload()

    @on(Select.Changed, "#method")
    def _show_fields(self) -> None:
        wanted = FIELDS[str(self.query_one("#method", Select).value)]
        for name in ALL_FIELDS:
            self.query_one(f"#{name}").display = name in wanted

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
        try:
            part = self._payment_part(self.quote)
        except ValueError as exc:
            self.notify(str(exc), severity="error")
            return
        self.pay(part)

    def _payment_part(self, quote: QuoteOut) -> PaymentPart:
        method = str(self.query_one("#method", Select).value)
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
    async def pay(self, part: PaymentPart) -> None:
        office = self.office
        assert self.quote is not None
        request = BookingRequest(
            hold_id=self.hold.hold_id, coupon_code=self.quote.coupon_code, payments=[part]
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
    table.add_row(Text("Total", style="bold"), Text(money(amounts.total_minor), style="bold"))
    return table
