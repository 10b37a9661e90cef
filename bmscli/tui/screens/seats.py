"""SeatScreen: the live seat map of one show, where seats are chosen and held.

The map follows the show's WebSocket feed: another buyer's hold recolours a seat as it
happens. A dropped feed shows the banner and reconnects with backoff; every (re)connection
waits for the feed's hello and then refetches the map, so nothing is missed and the
buyer's choice survives. A hold counts down to the server's ``expires_at``; leaving the
screen releases it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from bmscli.client import ApiError, ServerUnreachable
from bmscli.tui import bindings
from bmscli.tui.format import local_time
from bmscli.tui.messages import CursorMoved, SeatTakenByOther, SelectionChanged, SelectionRefused
from bmscli.tui.money import format_money
from bmscli.tui.retry import Backoff
from bmscli.tui.screens.base import BoxOfficeScreen, ServerBack
from bmscli.tui.screens.checkout import CheckoutScreen
from bmscli.tui.screens.prompt import Prompt
from bmscli.tui.screens.waitlist_customer import WaitlistCustomerScreen
from bmscli.tui.widgets.countdown import Countdown
from bmscli.tui.widgets.legend import Legend
from bmscli.tui.widgets.seat_map import SeatMap
from server.contracts.api import HoldOut, SeatMapOut, ShowOut, WaitlistEntryOut
from server.contracts.enums import IDEMPOTENCY_IN_PROGRESS

DEFAULT_PARTY = "2"
CHOOSE_HINT = "Choose seats: arrows and space, or b for the best"
SOLD_OUT_HINT = Text("Sold out: press w to join the waiting list", style="bold")
CHOOSING_ACTIONS = frozenset({"best_available", "clear", "accessible"})
HELD_ACTIONS = frozenset({"release"})
HOLD_ATTEMPTS = 5  # while the first request with the key still runs: 0.5 + 1 + 2 + 4 s


class SeatScreen(BoxOfficeScreen):
    BINDINGS = bindings.SEATS

    def __init__(
        self,
        show: ShowOut,
        *,
        seatmap: SeatMapOut | None = None,
        hold: HoldOut | None = None,
        live: bool = True,
    ) -> None:
        """``live=False`` draws ``seatmap`` as given and never touches the network."""
        super().__init__()
        self.show = show
        self.seatmap = seatmap
        self.hold = hold
        self.live = live
        self._hold_key = str(uuid.uuid4())
        # Seats asked for in a hold the server has not answered (the answer may be lost
        # while the server made the hold): asked again, with the same key, once it is back.
        self._unanswered: tuple[UUID, ...] | None = None
        self._was_sold_out = False
        # Kept as attributes: live updates may still arrive while the screen is closing.
        self.seat_map = SeatMap(id="seat-map")
        self.legend = Legend(id="legend")
        self.cursor_info = Static(id="cursor-info")
        self.selection_info = Static(CHOOSE_HINT, id="selection-info")
        compact = not self.office.LARGE_CONTROLS
        self.buttons = {
            "best": Button("Best seats", id="best", compact=compact),
            "hold": Button("Hold & pay", variant="primary", id="hold", compact=compact),
            "pay": Button("Pay", variant="success", id="pay", compact=compact),
            "release": Button("Release", variant="error", id="release", compact=compact),
        }

    def compose_body(self) -> ComposeResult:
        yield Static(self._show_line(), id="show-line")
        yield self.seat_map
        yield self.legend
        with Horizontal(id="seat-bar"):
            yield self.cursor_info
            yield self.selection_info
            yield from self.buttons.values()

    def on_mount(self) -> None:
        self.seat_map.focus()
        if self.seatmap is not None:
            self.show_seatmap(self.seatmap)
        if self.hold is not None:
            self.seat_map.select_ids(self.hold.seat_ids)
            self._held(self.hold)
        self._update_buttons()
        if self.live:
            self.reload()

    # -- the live map ---------------------------------------------------------------------

    def on_server_back(self, event: ServerBack) -> None:
        super().on_server_back(event)
        if self._unanswered is not None:
            self.place_hold(self._unanswered)

    @work(exclusive=True, group="live")
    async def reload(self) -> None:
        """Follow the live feed for as long as the screen lives, reconnecting when dropped."""
        office, show_id = self.office, self.show.show_id
        backoff = Backoff()
        while True:
            try:
                hello = True
                async for event in office.api.live(show_id):
                    if hello:  # subscribed: a map fetched from now on misses nothing
                        hello = False
                        self.show_seatmap(await office.api.seatmap(show_id))
                        office.connection_ok()
                        backoff.reset()
                    else:
                        self.seat_map.apply_event(event)
                        self._seats_changed()
            except ServerUnreachable:
                office.connection_lost()
            except ApiError as exc:
                self.notify(exc.detail, title=exc.title, severity="error")
                return
            await asyncio.sleep(backoff.next())

    def show_seatmap(self, seatmap: SeatMapOut) -> None:
        self.seatmap = seatmap
        self.seat_map.load(seatmap)
        self.legend.load(seatmap)
        if self.sold_out and not self.seat_map.selected_ids:
            self.selection_info.update(SOLD_OUT_HINT)
        self._was_sold_out = self.sold_out
        self.refresh_bindings()

    def _seats_changed(self) -> None:
        """A live change may end (or cause) a sell-out: the hint and the waiting-list key
        follow it."""
        if self.sold_out == self._was_sold_out:
            return
        self._was_sold_out = self.sold_out
        if not self.seat_map.selected_ids and self.hold is None:
            self.selection_info.update(SOLD_OUT_HINT if self.sold_out else CHOOSE_HINT)
        self.refresh_bindings()

    @property
    def sold_out(self) -> bool:
        return self.seatmap is not None and self.seat_map.free_count == 0

    # -- choosing -------------------------------------------------------------------------

    @on(SelectionChanged)
    def selection_changed(self, event: SelectionChanged) -> None:
        self._hold_key = str(uuid.uuid4())  # a new choice is a new hold, not a retry
        info = self.selection_info
        if not event.seat_ids:
            info.update(SOLD_OUT_HINT if self.sold_out else CHOOSE_HINT)
        else:
            labels = " ".join(self.seat_map.seat(i).label for i in event.seat_ids)
            count = len(event.seat_ids)
            info.update(
                Text.assemble(
                    (f"{count} seat{'s' if count > 1 else ''}: ", "bold"),
                    labels,
                    "  ",
                    (format_money(event.total_minor, self._currency), "bold"),
                )
            )
        self._update_buttons()

    @on(CursorMoved)
    def cursor_moved(self, event: CursorMoved) -> None:
        seat = event.seat
        what = seat.type.capitalize()
        price = format_money(seat.price, self._currency)
        self.cursor_info.update(Text.assemble((seat.label, "bold"), f"  {what} {price}"))

    @on(SeatTakenByOther)
    def seat_taken(self, event: SeatTakenByOther) -> None:
        self.notify(
            f"Seat {event.label} was just taken by someone else; choose another.",
            severity="warning",
        )

    @on(SelectionRefused)
    def seat_refused(self, event: SelectionRefused) -> None:
        self.notify(event.reason, severity="warning")

    def _ask_party(self, question: str, then: Callable[[int], object]) -> None:
        """Ask how many seats; an answer the server would take goes to ``then``, any other
        is refused here in the clerk's words (not the API's)."""
        if self.seatmap is None:
            self.notify("Wait for the seat map first.", severity="warning")
            return
        most = self.seatmap.max_seats_per_hold

        def answered(answer: str | None) -> None:
            if answer is None:
                return  # cancelled
            if not 1 <= int(answer) <= most:
                self.notify(
                    f"Type a number of seats from 1 to {most}; "
                    f"one sale takes at most {most} seats together.",
                    severity="warning",
                )
                return
            then(int(answer))

        self.app.push_screen(Prompt(question, value=DEFAULT_PARTY, max_length=2), answered)

    @on(Button.Pressed, "#best")
    def action_best_available(self) -> None:
        self._ask_party("How many seats together?", self.find_best)

    @work(exclusive=True, group="best")
    async def find_best(self, count: int) -> None:
        accessible = self.seat_map.allow_accessible
        best = await self.office.request(
            self.office.api.best_available(self.show.show_id, count, accessible=accessible)
        )
        if best is None:
            return
        self.seat_map.select_ids(best.seat_ids)
        chosen = len(self.seat_map.selected_ids)
        if chosen < count:
            self.notify(
                f"Only {chosen} of {count} seats are free together; choose the rest by hand.",
                severity="warning",
            )

    def action_clear(self) -> None:
        self.seat_map.clear_selection()

    def action_accessible(self) -> None:
        seat_map = self.seat_map
        seat_map.allow_accessible = not seat_map.allow_accessible
        if seat_map.allow_accessible:
            self.notify("Accessible seating: wheelchair spaces and companion seats can be chosen.")
        else:
            self.notify("Wheelchair spaces and companion seats are kept for guests who need them.")

    # -- the waiting list -----------------------------------------------------------------

    def action_waitlist(self) -> None:
        if self.office.serves_customers:  # a clerk queues the customer at the counter
            screen = WaitlistCustomerScreen(self.show.show_id, seats=DEFAULT_PARTY)
            self.app.push_screen(screen, self._on_the_list)
        else:
            self._ask_party("Sold out. How many seats to wait for?", self.join_waitlist)

    @work(exclusive=True, group="waitlist")
    async def join_waitlist(self, count: int) -> None:
        office = self.office
        self._on_the_list(await office.request(office.api.join_waitlist(self.show.show_id, count)))

    def _on_the_list(self, entry: WaitlistEntryOut | None) -> None:
        if entry is None:
            return
        count = entry.seats_wanted
        seats = f"{count} seat{'s' if count > 1 else ''}"
        place = f"number {entry.position} in line" if entry.position else "in line"
        if self.office.serves_customers and entry.customer is not None:
            who = entry.customer.name or "The customer"
            line = f"Waiting list: {who}" + (f" #{entry.position}" if entry.position else "")
            message = (
                f"{who} is {place} for {seats}. When seats free up they are held for {who}, "
                "who is told by e-mail or SMS to book them before the hold runs out."
            )
        else:
            line = f"Waiting list: {place} for {seats}"
            message = (
                f"On the waiting list, {place} for {seats}. When seats free up they are held "
                "for the buyer, who is told to pay for them before the hold runs out."
            )
        self.selection_info.update(Text(line, style="bold", no_wrap=True, overflow="ellipsis"))
        self.notify(message, title="Waiting list", timeout=12)

    # -- holding --------------------------------------------------------------------------

    def action_proceed(self) -> None:
        if self.hold is None:
            self.action_hold()
        else:
            self.action_checkout()

    @on(Button.Pressed, "#hold")
    def action_hold(self) -> None:
        seat_ids = self.seat_map.selected_ids
        if not seat_ids:
            self.notify(
                "Choose seats first: move with the arrows and press space, or press b.",
                severity="warning",
            )
            return
        self.place_hold(seat_ids)

    @work(exclusive=True, group="hold")
    async def place_hold(self, seat_ids: tuple[UUID, ...]) -> None:
        office = self.office
        # Until the server answers, the live feed's "held" for these seats may be this very
        # hold: they stay chosen, and fixed, so the retry asks for the same hold.
        self.seat_map.mark_held_by_me(seat_ids)
        self.seat_map.disabled = True
        self._unanswered = seat_ids
        self.refresh_bindings()
        self.buttons["hold"].loading = True
        try:
            hold = await self._ask_for_hold(seat_ids)
        except ServerUnreachable:
            office.connection_lost()  # asked again when it is back (on_server_back)
            return
        except ApiError as exc:
            self._unanswered = None
            self.seat_map.mark_held_by_me(())
            self.seat_map.disabled = False
            self._update_buttons()
            self._hold_refused(exc)
            return
        finally:
            self.buttons["hold"].loading = False
        self._unanswered = None
        office.connection_ok()
        office.active_hold = hold
        self._held(hold)
        self.action_checkout()

    async def _ask_for_hold(self, seat_ids: tuple[UUID, ...]) -> HoldOut:
        """POST the hold with this choice's key: the server replays its answer to a retry,
        so a hold made while its answer was lost comes back instead of blocking the seats.
        A retry that overtakes the first request, still running, is asked to wait."""
        backoff = Backoff()
        attempts_left = HOLD_ATTEMPTS
        while True:
            try:
                return await self.office.api.hold(
                    self.show.show_id,
                    list(seat_ids),
                    accessible=self.seat_map.allow_accessible,
                    idempotency_key=self._hold_key,
                )
            except ApiError as exc:
                attempts_left -= 1
                if exc.body.get("reason") != IDEMPOTENCY_IN_PROGRESS or not attempts_left:
                    raise
            await asyncio.sleep(backoff.next())

    @on(Button.Pressed, "#pay")
    def action_checkout(self) -> None:
        if self.hold is not None:
            self.app.push_screen(CheckoutScreen(self.show, self.hold), self._back_from_checkout)

    def _back_from_checkout(self, _: None) -> None:
        if self.office.active_hold is None and self.hold is not None:
            self._let_go()  # the hold ran out or was lost while paying

    def _held(self, hold: HoldOut) -> None:
        self.hold = hold
        self.seat_map.mark_held_by_me(hold.seat_ids)
        self.seat_map.disabled = True  # the held seats are fixed until released
        countdown = Countdown(hold.expires_at, self.office.clock, id="countdown")
        self.query_one("#seat-bar").mount(countdown, after=self.selection_info)
        self._update_buttons()
        self.buttons["pay"].focus()

    def _hold_refused(self, exc: ApiError) -> None:
        taken = set(map(str, exc.body.get("unavailable", [])))
        if taken and self.seatmap is not None:
            labels = ", ".join(s.label for s in self.seatmap.seats if str(s.seat_id) in taken)
            self.notify(f"Just taken by someone else: {labels}. Choose again.", severity="error")
        elif exc.status == 429:
            wait = exc.body.get("estimated_wait_seconds")
            place = exc.body.get("position")
            self.notify(
                f"Many buyers are choosing seats for this show; you are number {place} in line "
                f"(about {wait} s). Try holding again in a moment.",
                title="Waiting room",
                severity="warning",
                timeout=10,
            )
        else:
            self.notify(exc.detail, title=exc.title, severity="error", timeout=8)

    @on(Countdown.Expired)
    def hold_expired(self) -> None:
        self.office.active_hold = None
        self._let_go()
        self.notify(
            "The hold ran out and the seats went back on sale. Choose seats again.",
            title="Hold expired",
            severity="warning",
            timeout=15,
        )

    @on(Button.Pressed, "#release")
    def action_release(self) -> None:
        self.release()

    @work(exclusive=True, group="hold")
    async def release(self) -> None:
        await self.office.release_active_hold()
        self._let_go()
        self.notify("Released; the seats are back on sale.")

    def _let_go(self) -> None:
        self.hold = None
        self.seat_map.mark_held_by_me(())
        self.seat_map.disabled = False
        self.seat_map.clear_selection()
        self.query("#countdown").remove()
        self._update_buttons()
        self.seat_map.focus()

    def action_back(self) -> None:
        self.workers.cancel_group(self, "live")  # no more seat changes for a closing map
        if self.hold is not None:
            self.office.release_in_background()
        self.dismiss()

    # -- helpers --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While seats are held they are fixed: only releasing (or leaving) is offered."""
        if action in HELD_ACTIONS:
            return self.hold is not None
        if action in CHOOSING_ACTIONS:
            return self.hold is None and self._unanswered is None
        if action == "waitlist":
            return self.hold is None and self.sold_out
        return True

    def _update_buttons(self) -> None:
        held = self.hold is not None
        chosen = bool(self.seat_map.selected_ids)
        self.buttons["best"].display = not held
        self.buttons["hold"].display = not held
        self.buttons["hold"].disabled = not chosen
        self.buttons["release"].display = held
        self.buttons["pay"].display = held
        self.refresh_bindings()

    @property
    def _currency(self) -> str:
        return self.seatmap.currency if self.seatmap else self.show.currency

    def _show_line(self) -> Text:
        show = self.show
        timezone = self.office.city.timezone if self.office.city else "UTC"
        starts = local_time(show.starts_at, timezone)
        return Text.assemble(
            (show.title, "bold"),
            " · ",
            (f"{starts:%a %d %b %H:%M}", "bold"),
            f" · {show.language} {show.format} · {show.theater_name}, {show.screen_name}",
            no_wrap=True,
            overflow="ellipsis",
        )
