"""The kiosk's start screen: what a customer walking up sees, and where idle kiosks return."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from bmscli.tui.screens.base import BoxOfficeScreen


class WelcomeScreen(BoxOfficeScreen):
    BINDINGS = [Binding("enter,space", "start", "Buy tickets")]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static("Welcome to the movies", id="welcome-title")
            yield Static("", id="welcome-theater")
            yield Button("Buy tickets", variant="primary", id="start")
            yield Static("Touch the button or press Enter to start", id="welcome-hint")

    def on_mount(self) -> None:
        self.query_one("#start").focus()
        self.reload()

    def reload(self) -> None:
        names = [t.name for t in self.office.theaters if t.theater_id in self.office.sells_at]
        self.query_one("#welcome-theater", Static).update(" · ".join(names))

    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        self.office.start_customer()
