"""StartingScreen: shown while the embedded box-office server comes up."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static

from bmscli.tui.backend import BackendFailed, EmbeddedServer

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp


class StartingScreen(Screen[None]):
    """Starts the embedded server in a worker, then hands its address to the app."""

    BINDINGS = [("q", "app.quit", "Quit")]

    def __init__(self, server: EmbeddedServer) -> None:
        super().__init__()
        self.server = server

    def compose(self) -> ComposeResult:
        with Vertical(id="starting"):
            yield Static("[b]bms[/b]  ·  the cinema box office", id="starting-title")
            yield Static("Starting the box office…", id="starting-status")
            yield LoadingIndicator()
            yield Static(
                "The first run sets up a local database and loads the demo cinemas: about "
                f"five seconds.\nServer log: {self.server.log_path}",
                id="starting-note",
            )

    def on_mount(self) -> None:
        self.start_server()

    @work(exclusive=True)
    async def start_server(self) -> None:
        try:
            url = await self.server.start()
        except BackendFailed as exc:
            self.query_one(LoadingIndicator).display = False
            self.query_one("#starting-status", Static).update(f"[b red]{exc}[/]\nPress q to quit.")
            return
        cast("BoxOfficeApp", self.app).connected(url)
