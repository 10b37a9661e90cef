"""BrowseScreen: the movies now showing (or coming) in a city, searched as you type,
filtered by language, genre, format and day, and sorted."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.suggester import Suggester
from textual.widgets import Input, Select, Tab, Tabs

from bmscli.client import ApiError, ServerUnreachable
from bmscli.tui import bindings
from bmscli.tui.format import day_name
from bmscli.tui.screens.base import BoxOfficeScreen
from bmscli.tui.screens.movie import MovieScreen
from bmscli.tui.widgets.movie_list import MovieList
from server.contracts.api import MovieOut
from server.contracts.catalog import MovieSort, MovieStatus
from server.contracts.enums import ScreenFormat

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp

TYPING_PAUSE_SECONDS = 0.25  # search once the clerk pauses, not on every keystroke
DAYS_AHEAD = 7
SORTS = [
    ("Popular", MovieSort.POPULARITY.value),
    ("Rating", MovieSort.RATING.value),
    ("Newest", MovieSort.RELEASE.value),
    ("A to Z", MovieSort.TITLE.value),
]
FILTERS = ("language", "genre", "format", "day")


class MovieSuggester(Suggester):
    """Completes a title as it is typed, from the server's autocomplete."""

    def __init__(self, office: BoxOfficeApp) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.office = office

    async def get_suggestion(self, value: str) -> str | None:
        if len(value) < 2:
            return None
        try:
            hits = await self.office.api.autocomplete(value, limit=5)
        except (ApiError, ServerUnreachable):
            return None  # a suggestion is a nicety: the list below still searches
        return next((hit.title for hit in hits if hit.title.casefold().startswith(value)), None)


class BrowseScreen(BoxOfficeScreen):
    BINDINGS = bindings.BROWSE

    def __init__(self, movies: list[MovieOut] | None = None) -> None:
        """``movies``: a list to show as it is, without asking the server (a still picture)."""
        super().__init__()
        self.status = MovieStatus.NOW_SHOWING.value
        self.movies = movies

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="browse-bar"):
            yield Select[str]((), prompt="City", id="city")
            yield Input(
                placeholder="Search by title, cast or genre  ( / )",
                id="search",
                suggester=MovieSuggester(self.office),
            )
        with Horizontal(id="filters"):
            yield Select[str]((), prompt="Language", id="language")
            yield Select[str]((), prompt="Genre", id="genre")
            yield Select[str](
                ((f.value, f.value) for f in ScreenFormat), prompt="Format", id="format"
            )
            yield Select[date]((), prompt="Day", id="day")
            yield Select[str](SORTS, allow_blank=False, value=SORTS[0][1], id="sort")
        yield Tabs(
            Tab("Now showing", id=MovieStatus.NOW_SHOWING.value),
            Tab("Coming soon", id=MovieStatus.UPCOMING.value),
            id="status",
        )
        yield MovieList(id="movies")

    def on_mount(self) -> None:
        self.query_one(MovieList).focus()
        if self.movies is None:
            self.reload()
        else:
            self._show_city()
            self.show_movies(self.movies)

    # -- loading --------------------------------------------------------------------------

    @work(exclusive=True, group="places")
    async def reload(self) -> None:
        office = self.office
        if not office.cities:
            cities = await office.request(office.api.cities())
            theaters = await office.request(office.api.theaters())
            if cities is None or theaters is None:
                return
            office.cities, office.theaters = cities, theaters
        office.city = office.city or office.choose_home_city()
        if office.city is None:
            self.notify(
                "This server has no cities yet; an admin adds them first.", severity="error"
            )
            return
        self._show_city()
        await self._load_city_filters()
        self.refresh_movies()

    def _show_city(self) -> None:
        office = self.office
        city_select = self.query_one("#city", Select)
        with self.prevent(Select.Changed):
            city_select.set_options((city.name, city.name) for city in office.cities)
            if office.city is not None:
                city_select.value = office.city.name

    async def _load_city_filters(self) -> None:
        """Languages and genres of the city's movies; the next days on its own calendar."""
        office = self.office
        assert office.city is not None
        movies = await office.request(office.api.movies(city=office.city.name))
        if movies is None:
            return
        today = office.local_today()
        days = [today + timedelta(days=n) for n in range(DAYS_AHEAD)]
        with self.prevent(Select.Changed):
            self._set_choices("language", sorted({lang for m in movies for lang in m.languages}))
            self._set_choices("genre", sorted({genre for m in movies for genre in m.genres}))
            self.query_one("#day", Select).set_options((day_name(d, today), d) for d in days)

    def _set_choices(self, select_id: str, values: list[str]) -> None:
        self.query_one(f"#{select_id}", Select).set_options((value, value) for value in values)

    @work(exclusive=True, group="movies")
    async def refresh_movies(self, pause: float = 0.0) -> None:
        # A newer request cancels this worker, so a burst of keystrokes makes one search.
        await asyncio.sleep(pause)
        office = self.office
        if office.city is None:
            return
        filters = self._filters()
        day = filters.pop("day")
        movies = await office.request(office.api.movies(**filters))
        if movies is None:
            return
        if day is not None:
            movies = await self._playing_on(day, movies)
        self.show_movies(movies)

    async def _playing_on(self, day: date, movies: list[MovieOut]) -> list[MovieOut]:
        assert self.office.city is not None
        shows = await self.office.request(
            self.office.api.shows(city=self.office.city.name, date=day)
        )
        playing = {show.movie_id for show in shows or []}
        return [movie for movie in movies if movie.movie_id in playing]

    def _filters(self) -> dict[str, Any]:
        assert self.office.city is not None
        chosen = {name: self._choice(name) for name in FILTERS}
        return {
            "city": self.office.city.name,
            "q": self.query_one("#search", Input).value.strip() or None,
            "status": self.status,
            "sort": self._choice("sort"),
            **chosen,
        }

    def _choice(self, select_id: str) -> Any:
        value = self.query_one(f"#{select_id}", Select).value
        return None if value == Select.NULL else value

    def show_movies(self, movies: list[MovieOut]) -> None:
        """List these movies (the worker's result, or fixed data for a still picture)."""
        self.movies = movies
        table = self.query_one(MovieList)
        table.show(movies)
        what = "movie" if len(movies) == 1 else "movies"
        table.border_title = f"{len(movies)} {what}"

    # -- events and actions ---------------------------------------------------------------

    @on(Select.Changed, "#city")
    async def change_city(self, event: Select.Changed) -> None:
        chosen = next((c for c in self.office.cities if c.name == event.value), None)
        if chosen is None or chosen == self.office.city:
            return
        self.office.city = chosen
        self.reload()

    @on(Select.Changed, "#language, #genre, #format, #day, #sort")
    def filters_changed(self) -> None:
        self.refresh_movies()

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.refresh_movies(TYPING_PAUSE_SECONDS)

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one(MovieList).focus()

    @on(Tabs.TabActivated, "#status")
    def status_changed(self, event: Tabs.TabActivated) -> None:
        if event.tab.id and event.tab.id != self.status:
            self.status = event.tab.id
            self.refresh_movies()

    @on(MovieList.Chosen)
    def open_movie(self, event: MovieList.Chosen) -> None:
        self.app.push_screen(MovieScreen(event.movie, day=self._choice("day")))

    def action_status(self, status: str) -> None:
        self.query_one(Tabs).active = status

    def action_search(self) -> None:
        """Into the search box at once, for the title typed right behind "/".

        Textual hands each key to the widget focused when the app reads it, and a busy app
        reads a fast typist's "/" and title together. A plain binding runs only after its
        key went through the movie list, and ``focus()`` waits its turn behind keys already
        read, so the title went to the list (its letters are keys there). This priority
        binding runs as "/" is read, and ``set_focus`` moves the focus there and then.
        A "/" typed in the box is text."""
        search = self.query_one("#search", Input)
        if self.focused is search:
            raise SkipAction
        self.set_focus(search)

    def action_focus_widget(self, widget_id: str) -> None:
        self.query_one(f"#{widget_id}").focus()
