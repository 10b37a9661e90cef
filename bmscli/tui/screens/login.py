"""LoginScreen: e-mail and password; on a demo server, the demo accounts to pick from."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from bmscli.tui.screens.base import BoxOfficeScreen
from server.contracts.catalog import DemoAccount, MetaOut


class LoginScreen(BoxOfficeScreen):
    def __init__(self, meta: MetaOut | None = None) -> None:
        """``meta``: the server's self-description when already known (else fetched)."""
        super().__init__()
        self.meta = meta
        self._accounts: dict[str, DemoAccount] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="login"):
            with Vertical(id="login-form"):
                yield Static("Sign in to the box office", classes="title")
                yield Input(placeholder="e-mail", id="email")
                yield Input(placeholder="password", password=True, id="password")
                yield Button("Sign in", variant="primary", id="sign-in")
                yield Static("", id="login-status")
            with Vertical(id="demo-accounts"):
                yield Static("Demo accounts · password [b]demo[/b]", classes="title")
                yield OptionList(id="demo-list")

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()
        if self.meta is None:
            self.reload()
        else:
            self.show_meta(self.meta)

    @work(exclusive=True, group="meta")
    async def reload(self) -> None:
        meta = await self.office.request(self.office.api.meta())
        if meta is not None:
            self.show_meta(meta)

    def show_meta(self, meta: MetaOut) -> None:
        """Offer the demo accounts, if the server runs on demo data."""
        self.meta = meta
        self.query_one("#demo-accounts").display = meta.demo
        self._accounts = {account.email: account for account in meta.demo_accounts}
        demo_list = self.query_one("#demo-list", OptionList)
        demo_list.clear_options()
        demo_list.add_options(
            Option(_account_line(account), id=account.email) for account in meta.demo_accounts
        )

    @on(OptionList.OptionSelected, "#demo-list")
    def use_demo_account(self, event: OptionList.OptionSelected) -> None:
        account = self._accounts[str(event.option.id)]
        self.query_one("#email", Input).value = account.email
        self.query_one("#password", Input).value = account.password
        self.action_sign_in()

    @on(Input.Submitted, "#email")
    def next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def action_sign_in(self) -> None:
        email = self.query_one("#email", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not email or not password:
            self._status("Type your e-mail and password, or pick a demo account.")
            return
        self._status("Signing in…")
        self.sign_in(email, password)

    @work(exclusive=True, group="sign-in")
    async def sign_in(self, email: str, password: str) -> None:
        token = await self.office.request(self.office.api.login(email, password))
        if token is None:
            self._status("")
            return
        self.office.signed_in(token)

    def _status(self, text: str) -> None:
        self.query_one("#login-status", Static).update(text)


def _account_line(account: DemoAccount) -> Text:
    return Text.assemble(
        (f"{account.email:<23}", "bold"),
        (f"{account.role.replace('_', ' '):<15}", "italic"),
        "\n",
        (account.note, "dim"),
    )
