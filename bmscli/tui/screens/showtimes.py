"""ShowtimesScreen: where and when a movie plays on a day, theater by theater, with how full
each show is."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Static, Tab, Tabs

from bmscli.tui import bindings
from bmscli.tui.format import day_name, duration
from bmscli.tui.screens.base import BoxOfficeScreen
from bmscli.tui.screens.seats import SeatScreen
from bmscli.tui.widgets.show_list import ShowList
from server.contracts.api import MovieOut, ShowOut

DAYS_SHOWN = 7


class ShowtimesScreen(BoxOfficeScreen):
    BINDINGS = bindings.SHOWTIMES

    def __init__(
        self, movie: MovieOut, *, day: date | None = None, shows: list[ShowOut] | None = None
    ) -> None:
        super().__init__()
        self.movie = movie
        self.day = day
        self.shows = shows
        # Kilometres to each theater from the app's location, when it has one.
        self.distances: dict[UUID, float] = {}

    def compose_body(self) -> ComposeResult:
        yield Static(id="showtimes-title")
        yield Tabs(id="days")
        yield ShowList(id="shows")
        yield Static(id="no-shows")

    async def on_mount(self) -> None:
        today = self.office.local_today()
        self.day = self.day or today
        days = [today + timedelta(days=n) for n in range(DAYS_SHOWN)]
        tabs = self.query_one(Tabs)
        with self.prevent(Tabs.TabActivated):
            for day in days:
                await tabs.add_tab(Tab(day_name(day, today), id=f"d{day.isoformat()}"))
            tabs.active = f"d{self.day.isoformat()}"
        if self.shows is None:
            self.reload()
        else:
            self.show_shows(self.shows)
        self.query_one(ShowList).focus()

    @work(exclusive=True)
    async def reload(self) -> None:
        office = self.office
        assert office.city is not None and self.day is not None
        if office.location is not None and not self.distances:
            lat, lon = office.location
            nearby = await office.request(office.api.theaters(office.city.name, lat, lon))
            self.distances = {
                t.theater_id: t.distance_km for t in nearby or [] if t.distance_km is not None
            }
        shows = await office.request(
            office.api.shows(city=office.city.name, date=self.day, movie_id=self.movie.movie_id)
        )
        if shows is not None:
            self.show_shows(shows)

    def show_shows(self, shows: list[ShowOut]) -> None:
        sells_at = self.office.sells_at
        shows = [s for s in shows if not sells_at or s.theater_id in sells_at]
        far = float("inf")  # theaters without a distance go last, by name
        shows.sort(
            key=lambda s: (self.distances.get(s.theater_id, far), s.theater_name, s.starts_at)
        )
        self.shows = shows
        assert self.day is not None
        day = day_name(self.day, self.office.local_today())
        self.query_one("#showtimes-title", Static).update(_title(self.movie, day))
        timezone = self.office.city.timezone if self.office.city else "UTC"
        show_list = self.query_one(ShowList)
        show_list.show(shows, timezone, self.distances)
        # A day without shows hides the list, which hands the focus to the day tabs, where
        # enter picks nothing: the list takes it back when it shows a day's shows again.
        hidden = not show_list.display
        show_list.display = bool(shows)
        if shows and hidden:
            show_list.focus()
        empty = self.query_one("#no-shows", Static)
        empty.display = not shows
        empty.update(Text(f"No shows of {self.movie.title} on this day; try another with [ and ]."))

    @on(Tabs.TabActivated, "#days")
    def day_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab.id:
            self.day = date.fromisoformat(event.tab.id.removeprefix("d"))
            self.query_one(ShowList).clear_options()  # never pick a show of the day before
            self.reload()

    def action_day(self, step: int) -> None:
        tabs = self.query_one(Tabs)
        if step > 0:
            tabs.action_next_tab()
        else:
            tabs.action_previous_tab()

    @on(ShowList.Chosen)
    def open_show(self, event: ShowList.Chosen) -> None:
        self.app.push_screen(SeatScreen(event.show))


def _title(movie: MovieOut, day: str) -> Text:
    """The movie and the day the list below is for."""
    return Text.assemble(
        (movie.title, "bold"),
        (f" · {day}", "bold"),
        (f"   {duration(movie.duration_minutes)} · {movie.certification} · ", "dim"),
        (", ".join(movie.languages), "dim"),
        no_wrap=True,
        overflow="ellipsis",
    )
