"""MovieScreen: one movie's synopsis, cast and crew, certification, rating and reviews."""

from __future__ import annotations

from datetime import date

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from bmscli.tui import bindings
from bmscli.tui.format import duration, rating
from bmscli.tui.screens.base import BoxOfficeScreen
from bmscli.tui.screens.showtimes import ShowtimesScreen
from server.contracts.api import MovieOut
from server.contracts.catalog import ReviewOut


class MovieScreen(BoxOfficeScreen):
    BINDINGS = bindings.MOVIE

    def __init__(
        self, movie: MovieOut, *, day: date | None = None, reviews: list[ReviewOut] | None = None
    ) -> None:
        super().__init__()
        self.movie = movie
        self.day = day
        self.reviews = reviews

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="movie"):
            yield Static(id="movie-title")
            yield Static(id="movie-facts")
            yield Static(id="movie-synopsis")
            yield Static(id="movie-people")
            yield Static("Reviews", classes="section-title")
            yield Static(id="movie-reviews")
        with Horizontal(classes="actions"):
            yield Button("Showtimes ▸", variant="primary", id="showtimes")

    def on_mount(self) -> None:
        self.show_movie(self.movie, self.reviews)
        if self.reviews is None:
            self.reload()
        self.query_one("#showtimes").focus()

    @work(exclusive=True)
    async def reload(self) -> None:
        api = self.office.api
        movie = await self.office.request(api.movie(self.movie.movie_id))
        reviews = await self.office.request(api.reviews(self.movie.movie_id))
        if movie is not None and reviews is not None:
            self.show_movie(movie, reviews)

    def show_movie(self, movie: MovieOut, reviews: list[ReviewOut] | None) -> None:
        self.movie, self.reviews = movie, reviews
        self.query_one("#movie-title", Static).update(Text(movie.title, style="bold"))
        self.query_one("#movie-facts", Static).update(_facts(movie))
        self.query_one("#movie-synopsis", Static).update(movie.synopsis or "No synopsis yet.")
        self.query_one("#movie-people", Static).update(_people(movie))
        self.query_one("#movie-reviews", Static).update(_reviews(reviews))

    @on(Button.Pressed, "#showtimes")
    def action_showtimes(self) -> None:
        self.app.push_screen(ShowtimesScreen(self.movie, day=self.day))


def _facts(movie: MovieOut) -> Text:
    facts = Text.assemble(
        rating(movie),
        (f" ({movie.rating_count} ratings)" if movie.rating_count else "", "dim"),
        "  ·  ",
        duration(movie.duration_minutes),
        "  ·  ",
        (movie.certification, "bold reverse"),
        "  ·  ",
        ", ".join(movie.genres),
        "  ·  ",
        ", ".join(movie.languages),
    )
    facts.append(f"\nReleased {movie.release_date:%d %B %Y}", style="dim")
    return facts


def _people(movie: MovieOut) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_column(style="dim")
    for person in movie.cast:
        table.add_row("Cast", str(person.get("name", "")), str(person.get("role", "")))
    for person in movie.crew:
        table.add_row(str(person.get("job", "Crew")), str(person.get("name", "")), "")
    return table


def _reviews(reviews: list[ReviewOut] | None) -> Text:
    if reviews is None:
        return Text("Loading reviews…", style="dim")
    if not reviews:
        return Text("No reviews yet.", style="dim")
    text = Text()
    for review in reviews:
        text.append(f"★ {review.rating}/10  ", style="bold yellow")
        text.append(review.user_name, style="bold")
        text.append(f"  {review.created_at:%d %b %Y}\n", style="dim")
        text.append(f"{review.text}\n\n")
    text.rstrip()
    return text
