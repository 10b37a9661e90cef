"""BoxOfficeApp: ``bms tui``, the box office a clerk sells from all day.

The app owns what every screen shares: the API client, who is signed in, the chosen city, the
hold in progress (released when the app leaves it behind) and the connection state. Screens
do their network I/O in workers through ``request``, which turns a refusal into a
notification and an outage into the banner plus a reconnect loop with backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from textual import work
from textual.app import App, SystemCommand
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme

from bmscli.client import ApiClient, ApiError, ServerUnreachable
from bmscli.tui import bindings
from bmscli.tui.backend import EmbeddedServer
from bmscli.tui.commands import BoxOfficeCommands
from bmscli.tui.retry import Backoff
from bmscli.tui.screens.base import ServerBack
from bmscli.tui.screens.bookings import BookingsScreen
from bmscli.tui.screens.browse import BrowseScreen
from bmscli.tui.screens.help import HelpScreen
from bmscli.tui.screens.login import LoginScreen
from bmscli.tui.screens.starting import StartingScreen
from server.contracts.api import CityOut, HoldOut, TheaterOut, TokenOut
from server.contracts.enums import COUNTER_STAFF_ROLES

T = TypeVar("T")
STYLES = Path(__file__).resolve().parent / "styles"

BOX_OFFICE_THEME = Theme(
    name="bms",
    primary="#e3b341",
    secondary="#58a6ff",
    accent="#ff7b9c",
    warning="#ff8700",
    error="#f85149",
    success="#3fb950",
    foreground="#e6edf3",
    background="#0d1117",
    surface="#161b22",
    panel="#21262d",
    dark=True,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class BoxOfficeApp(App[None]):
    TITLE = "bms box office"
    CSS_PATH = [STYLES / "app.tcss"]
    BINDINGS = bindings.APP
    COMMANDS = App.COMMANDS | {BoxOfficeCommands}
    THEME = BOX_OFFICE_THEME

    LARGE_CONTROLS = False  # the kiosk's touch-friendly buttons
    # Every buyer a fresh guest (the kiosk): no wallet with money in it, so none is offered.
    BUYERS_ARE_GUESTS = False

    offline: reactive[str | None] = reactive(None)
    """Why the server cannot be reached (a sentence), or None while it answers."""

    def __init__(
        self,
        server_url: str | None = None,
        *,
        embedded: EmbeddedServer | None = None,
        city: str | None = None,
        location: tuple[float, float] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__()
        # Where the box office is (lat, lon): showtimes list the nearest theaters first.
        self.location = location
        self.server_url = server_url
        self.embedded = embedded
        self.preferred_city = city
        self.clock = clock
        self._api: ApiClient | None = None
        self.user: TokenOut | None = None
        self.cities: list[CityOut] = []
        self.theaters: list[TheaterOut] = []
        self.city: CityOut | None = None
        self.active_hold: HoldOut | None = None
        # The theaters whose shows this app sells (the staff member's or the kiosk's own);
        # empty means every theater.
        self.sells_at: frozenset[UUID] = frozenset()
        self._navigating = asyncio.Lock()

    # -- start-up and sign-in -------------------------------------------------------------

    async def on_mount(self) -> None:
        self.register_theme(self.THEME)
        self.theme = self.THEME.name
        if self.server_url is not None:
            self.connected(self.server_url)
        elif self.embedded is not None:
            await self.push_screen(StartingScreen(self.embedded))

    def connected(self, url: str) -> None:
        """The server answers at ``url``: open the front door."""
        self.server_url = url
        self._api = ApiClient(url)
        self.open_front_door()

    def open_front_door(self) -> None:
        self.show_base(LoginScreen())

    @work(group="navigate")
    async def show_base(self, screen: Screen[None] | None = None) -> None:
        """Go back to the app's first screen (above Textual's default one); with ``screen``,
        make that the first screen instead.

        An app worker, so the screens it removes can ask for it from their own workers. Two
        calls run one after the other, never the second cancelling the first: a pop cancelled
        halfway stays queued in Textual, which awaits it again at exit and fails there."""
        async with self._navigating:
            while len(self.screen_stack) > 2:
                await self.pop_screen()
            if screen is None:
                return
            if len(self.screen_stack) == 2:
                await self.switch_screen(screen)
            else:
                await self.push_screen(screen)

    def signed_in(self, token: TokenOut) -> None:
        self.user = token
        self.sells_at = frozenset(token.theater_ids)
        self.sub_title = f"{token.name} · {token.role.replace('_', ' ')}"
        self.refresh_bindings()
        self.show_base(BrowseScreen())

    @work(exclusive=True, group="front-door")
    async def sign_out(self) -> None:
        await self.release_active_hold()
        self.user = None
        self.api.token = None
        self.sub_title = ""
        self.city = None
        self.refresh_bindings()
        self.open_front_door()

    def finish_sale(self) -> None:
        """The ticket is out: back to the first screen for the next customer."""
        self.show_base()

    @property
    def api(self) -> ApiClient:
        assert self._api is not None, "the app talks to the server only once it is connected"
        return self._api

    # -- the city being sold for ----------------------------------------------------------

    def choose_home_city(self) -> CityOut | None:
        """The city of the theaters sold for, else ``--city``, else the first city."""
        names = [t.city for t in self.theaters if t.theater_id in self.sells_at]
        if self.preferred_city:
            names.insert(0, self.preferred_city)
        by_name = {city.name.casefold(): city for city in self.cities}
        for name in names:
            if (city := by_name.get(name.casefold())) is not None:
                return city
        return self.cities[0] if self.cities else None

    def local_today(self) -> date:
        zone = ZoneInfo(self.city.timezone) if self.city else UTC
        return self.clock().astimezone(zone).date()

    # -- talking to the server ------------------------------------------------------------

    async def request(self, call: Awaitable[T]) -> T | None:
        """Await one API call. A refusal becomes an error notification and None; no answer
        shows the banner, starts reconnecting and gives None."""
        try:
            result = await call
        except ServerUnreachable:
            self.connection_lost()
            return None
        except ApiError as exc:
            self.notify(exc.detail, title=exc.title, severity="error", timeout=8)
            return None
        self.connection_ok()
        return result

    def connection_lost(self) -> None:
        if self.offline is None:
            self.offline = f"The box office server at {self.server_url} is not answering."
            self._reconnect()

    def connection_ok(self) -> None:
        if self.offline is not None:
            self.offline = None
            self.notify("The server answers again.", title="Back online")
            for screen in self.screen_stack:
                screen.post_message(ServerBack())

    @work(exclusive=True, group="reconnect")
    async def _reconnect(self) -> None:
        backoff = Backoff()
        while self.offline is not None:
            await asyncio.sleep(backoff.next())
            try:
                await self.api.meta()
            except ServerUnreachable:
                continue
            except ApiError:
                pass  # it answered, if only to refuse: it is up
            self.connection_ok()

    # -- holds ----------------------------------------------------------------------------

    async def release_active_hold(self) -> None:
        """Let go of the hold in progress; if the server cannot be told, it expires anyway.

        ``active_hold`` turns None once the server has answered, so None means released."""
        hold = self.active_hold
        if hold is None:
            return
        try:
            await self.api.release(hold.hold_id)
        except (ApiError, ServerUnreachable):
            self.log.warning(f"could not release hold {hold.hold_id}; it will expire")
        finally:
            if self.active_hold is hold:
                self.active_hold = None

    @work(group="release")
    async def release_in_background(self) -> None:
        """Release the active hold without holding up the screen that let it go."""
        await self.release_active_hold()

    # -- actions --------------------------------------------------------------------------

    @property
    def serves_customers(self) -> bool:
        """Box-office staff serve customers at the counter: they find their bookings and put
        them on waiting lists. Customers and kiosks act for themselves."""
        return self.user is not None and self.user.role in COUNTER_STAFF_ROLES

    def action_bookings(self, query: str = "") -> None:
        if isinstance(self.screen, BookingsScreen):
            self.screen.query_one("#lookup").focus()
        else:
            self.push_screen(BookingsScreen(query))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bookings":
            return self.serves_customers
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(bindings.HELP_SECTIONS))

    async def action_quit(self) -> None:
        await self.leave()

    async def leave(self) -> None:
        """Exit the app, releasing the hold in progress first."""
        await self.release_active_hold()
        if self._api is not None:
            await self._api.aclose()
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.user is not None:
            yield SystemCommand("Sign out", "End this session and go back to login", self.sign_out)
        yield SystemCommand("Keys", "Every key this app knows", self.action_help)
