"""What every box-office screen shares: header, connection banner, footer, and a reload
when the server comes back after an outage."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header

from bmscli.tui.widgets.banner import ConnectionBanner

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp


class ServerBack(Message):
    """The server answers again after an outage: reload whatever could not be loaded."""


class BoxOfficeScreen(Screen[None]):
    """Subclasses yield their content from ``compose_body``, and fetch their data in
    ``reload`` (from their own ``on_mount``: Textual runs every class's handler)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConnectionBanner()
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    @property
    def office(self) -> BoxOfficeApp:
        return cast("BoxOfficeApp", self.app)

    def on_server_back(self, _: ServerBack) -> None:
        self.reload()

    def reload(self) -> None:
        """Fetch what the screen shows; called again when the server is back."""

    def action_back(self) -> None:
        self.dismiss()
