"""The clerks' command palette (ctrl+p): jump straight to a movie, to one of today's shows
in the city being sold for, or to a booking by whatever was typed (code, phone or e-mail)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from bmscli.tui.format import local_time
from bmscli.tui.screens.movie import MovieScreen
from bmscli.tui.screens.seats import SeatScreen
from server.contracts.api import MovieOut, ShowOut

# Offered below any movie or show the query matches well, above weak matches.
LOOKUP_SCORE = 0.5
MIN_LOOKUP = 3

if TYPE_CHECKING:
    from bmscli.tui.app import BoxOfficeApp


class BoxOfficeCommands(Provider):
    """ "Movie: Iron Tide" opens the movie; "Show: 18:30 Iron Tide · Powai IMAX" its seats."""

    async def startup(self) -> None:
        office = cast("BoxOfficeApp", self.app)
        self._commands: list[tuple[str, str, object]] = []
        if office.user is None or office.city is None:
            return
        city = office.city
        movies = await office.request(office.api.movies(city=city.name)) or []
        shows = await office.request(office.api.shows(city=city.name, date=office.local_today()))
        sells_at = office.sells_at
        self._commands = [
            (f"Movie: {movie.title}", "Synopsis, cast, reviews and showtimes", movie)
            for movie in movies
        ] + [
            (_show_text(show, city.timezone), f"{show.seats_available} seats free", show)
            for show in shows or []
            if not sells_at or show.theater_id in sells_at
        ]

    async def discover(self) -> Hits:
        office = cast("BoxOfficeApp", self.app)
        if office.serves_customers:
            yield DiscoveryHit(
                "Bookings", office.action_bookings, help="Find a booking by code, phone or e-mail"
            )
        for text, help_text, target in self._commands[:20]:
            yield DiscoveryHit(text, partial(self._open, target), help=help_text)

    async def search(self, query: str) -> Hits:
        office = cast("BoxOfficeApp", self.app)
        if office.serves_customers and len(query.strip()) >= MIN_LOOKUP:
            text = f"Booking: {query.strip()}"
            yield Hit(
                LOOKUP_SCORE,
                text,
                partial(office.action_bookings, query.strip()),
                text,
                "Find the booking by this code, phone or e-mail",
            )
        matcher = self.matcher(query)
        for text, help_text, target in self._commands:
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(text), partial(self._open, target), text, help_text
                )

    def _open(self, target: object) -> None:
        if isinstance(target, MovieOut):
            self.app.push_screen(MovieScreen(target))
        elif isinstance(target, ShowOut):
            self.app.push_screen(SeatScreen(target))


def _show_text(show: ShowOut, timezone: str) -> str:
    starts = local_time(show.starts_at, timezone)
    return f"Show: {starts:%H:%M} {show.title} · {show.theater_name}, {show.screen_name}"
