"""WaitlistCustomerScreen: a clerk puts the customer at the counter on a sold-out show's
waiting list: how many seats, and the customer's name, e-mail and/or phone number, where the
offer is sent when seats free up.

The request runs in the screen's own worker, so a refusal (a mistyped e-mail, someone already
on the list) is shown here, on the field it is about, with everything typed kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from bmscli.client import ApiError, ServerUnreachable
from server.contracts.api import WaitlistEntryOut
from server.contracts.checkout import CustomerContact

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp

# The inputs in the order they are filled in; enter moves on, and on the last one sends.
FIELDS = ("wl-seats", "wl-name", "wl-email", "wl-phone")
# Where the server's ``field`` points, as inputs of this screen.
INPUT_FOR_FIELD = {
    "seats_wanted": "wl-seats",
    "customer": "wl-email",
    "customer.email": "wl-email",
    "customer.phone": "wl-phone",
}


class WaitlistCustomerScreen(ModalScreen[WaitlistEntryOut | None]):
    """Dismisses with the customer's entry once they are on the list, or None (escape)."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, show_id: UUID, *, seats: str = "2") -> None:
        super().__init__()
        self.show_id = show_id
        self.seats = seats

    def compose(self) -> ComposeResult:
        with Vertical(id="waitlist-customer"):
            yield Static("Sold out: waiting list for the customer", classes="title")
            with Horizontal(id="wl-seats-row"):
                yield Static("Seats wanted", id="wl-seats-label")
                yield Input(self.seats, restrict=r"[0-9]*", max_length=2, id="wl-seats")
            yield Input(placeholder="Customer's name", max_length=200, id="wl-name")
            yield Input(placeholder="E-mail", max_length=320, id="wl-email")
            yield Input(placeholder="Phone, e.g. +91 98200 12345", max_length=20, id="wl-phone")
            yield Static(
                "Give an e-mail or a phone number (or both): seats that free up are held for "
                "the customer, and they are told there.",
                id="wl-message",
            )
            with Horizontal(classes="actions"):
                yield Button("Add to the list", variant="primary", id="wl-add", compact=True)
                yield Button("Cancel", id="wl-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#wl-name", Input).focus()

    @property
    def office(self) -> BoxOfficeApp:
        return cast("BoxOfficeApp", self.app)

    def _value(self, input_id: str) -> str:
        return self.query_one(f"#{input_id}", Input).value.strip()

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        index = FIELDS.index(event.input.id or FIELDS[-1])
        if index + 1 < len(FIELDS):
            self.query_one(f"#{FIELDS[index + 1]}", Input).focus()
        else:
            self.action_add()

    @on(Button.Pressed, "#wl-add")
    def action_add(self) -> None:
        seats = int(self._value("wl-seats") or 0)
        if seats < 1:
            self._refused("Type how many seats the customer wants.", "wl-seats")
            return
        customer = CustomerContact(
            name=self._value("wl-name") or None,
            email=self._value("wl-email") or None,
            phone=self._value("wl-phone") or None,
        )
        if customer.email is None and customer.phone is None:
            self._refused("Type the customer's e-mail or phone number.", "wl-email")
            return
        self.join(seats, customer)

    @work(exclusive=True, group="waitlist-join")
    async def join(self, seats: int, customer: CustomerContact) -> None:
        office = self.office
        button = self.query_one("#wl-add", Button)
        button.loading = True
        try:
            entry = await office.api.join_waitlist(self.show_id, seats, customer=customer)
        except ServerUnreachable:
            office.connection_lost()
            self._refused("The server is not answering; try again once it is back.", None)
            return
        except ApiError as exc:
            self._refused(exc.detail, INPUT_FOR_FIELD.get(str(exc.body.get("field"))))
            return
        finally:
            button.loading = False
        office.connection_ok()
        self.dismiss(entry)

    def _refused(self, why: str, input_id: str | None) -> None:
        message = self.query_one("#wl-message", Static)
        message.update(why)
        message.add_class("-error")
        if input_id is not None:
            self.query_one(f"#{input_id}", Input).focus()

    @on(Button.Pressed, "#wl-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
