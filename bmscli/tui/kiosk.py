"""KioskApp: ``bms kiosk``, the full-screen self-service kiosk in a cinema lobby.

The device signs in with its kiosk token (or, on demo data, as the demo kiosk account) and
sells only its own theater's shows. Each customer buys as a guest. Customers cannot leave
the app: there is no quit key and no command palette; staff press ctrl+x and type the PIN.
Left alone for ``idle_seconds`` the kiosk releases any hold and starts over.
"""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from textual import events, work
from textual.theme import Theme

from bmscli.client import ApiError, ServerUnreachable
from bmscli.tui import bindings
from bmscli.tui.app import STYLES, BoxOfficeApp
from bmscli.tui.retry import Backoff
from bmscli.tui.screens.browse import BrowseScreen
from bmscli.tui.screens.kiosk import WelcomeScreen
from bmscli.tui.screens.prompt import Prompt

DEMO_KIOSK_EMAIL = "kiosk@demo.bms"
DEMO_PASSWORD = "demo"  # every demo account's, listed by GET /api/v1/meta

KIOSK_THEME = Theme(
    name="bms-kiosk",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ff5fd7",
    warning="#ff8700",
    error="#ff3b3b",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#101010",
    panel="#303030",
    dark=True,
)


class KioskApp(BoxOfficeApp):
    TITLE = "bms kiosk"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "kiosk.tcss"]
    BINDINGS = [bindings.KIOSK_EXIT, bindings.START_OVER]
    ENABLE_COMMAND_PALETTE = False
    THEME = KIOSK_THEME
    LARGE_CONTROLS = True
    BUYERS_ARE_GUESTS = True

    def __init__(
        self,
        server_url: str | None = None,
        *,
        device_token: str | None = None,
        pin: str,
        idle_seconds: float,
        **options: object,
    ) -> None:
        super().__init__(server_url, **options)  # type: ignore[arg-type]
        self.device_token = device_token
        self.device_session: str | None = None
        self.pin = pin
        self.idle_seconds = idle_seconds
        self._last_touch = time.monotonic()

    def on_mount(self) -> None:
        self.add_class("high-contrast", "kiosk")
        self.set_interval(1.0, self._check_idle)

    # -- the device and its customers -----------------------------------------------------

    def open_front_door(self) -> None:
        self.sign_in_device()

    @work(exclusive=True, group="device")
    async def sign_in_device(self) -> None:
        """Sign the kiosk in, retrying with backoff until the server answers."""
        backoff = Backoff()
        while True:
            try:
                theater_ids = await self._device_theaters()
                self.cities, self.theaters = await self.api.cities(), await self.api.theaters()
                break
            except ServerUnreachable:
                self.connection_lost()
            except ApiError as exc:
                self.notify(
                    exc.detail, title="This kiosk cannot sign in", severity="error", timeout=60
                )
                return
            await asyncio.sleep(backoff.next())
        self.connection_ok()
        self.sells_at = frozenset(theater_ids)
        self.city = self.choose_home_city()
        self.show_base(WelcomeScreen())

    async def _device_theaters(self) -> list[UUID]:
        """Sign in as the device; its theaters are the ones it sells for."""
        api = self.api
        if self.device_token:
            api.token = self.device_token
            theaters = (await api.me()).theater_ids
        else:
            meta = await api.meta()
            if not any(account.email == DEMO_KIOSK_EMAIL for account in meta.demo_accounts):
                raise ApiError(401, "No kiosk token", _NO_TOKEN, {})
            theaters = (await api.login(DEMO_KIOSK_EMAIL, DEMO_PASSWORD)).theater_ids
        self.device_session = api.token
        return theaters

    def start_customer(self) -> None:
        if isinstance(self.screen, WelcomeScreen):  # a second tap while starting does nothing
            self.start_guest_session()

    @work(exclusive=True, group="customer")
    async def start_guest_session(self) -> None:
        # Each customer's guest session is started with the device's own session, so the
        # server records their purchases as kiosk sales.
        self.api.token = self.device_session
        token = await self.request(self.api.guest())
        if token is not None and isinstance(self.screen, WelcomeScreen):
            self.user = token
            await self.push_screen(BrowseScreen())

    def action_start_over(self) -> None:
        self.start_over()

    @work(exclusive=True, group="front-door")
    async def start_over(self) -> None:
        """Back to the welcome screen for the next customer, with any hold released."""
        await self.release_active_hold()
        self.user = None
        self.city = self.choose_home_city()  # the next customer starts at this kiosk's city
        self.show_base()

    def finish_sale(self) -> None:
        self.start_over()

    # -- idling ---------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_touch = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        idle = time.monotonic() - self._last_touch
        if idle >= self.idle_seconds and not isinstance(self.screen, WelcomeScreen):
            self._last_touch = time.monotonic()
            if not self._starting_over():
                self.start_over()

    def _starting_over(self) -> bool:
        """A start-over still releasing the hold (a slow server) is left to finish rather
        than cancelled by the next idle check and begun again."""
        return any(w.group == "front-door" and not w.is_finished for w in self.workers)

    # -- leaving: staff only ----------------------------------------------------------------

    async def action_quit(self) -> None:
        self.action_staff_exit()

    def action_help_quit(self) -> None:
        """Ctrl+C does nothing on a kiosk."""

    def action_staff_exit(self) -> None:
        if not isinstance(self.screen, Prompt):
            self.push_screen(Prompt("Staff PIN", secret=True, max_length=12), self._check_pin)

    async def _check_pin(self, pin: str | None) -> None:
        if pin == self.pin:
            await self.leave()
        elif pin is not None:
            self.notify("Wrong PIN.", severity="error")


_NO_TOKEN = (
    "Set BMS_KIOSK_TOKEN to this kiosk's device token (bms admin token create --kind kiosk); "
    "only a demo server lets a kiosk in without one."
)
