"""MovieList: movies as a table, one row each; enter or a click opens the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from bmscli.tui.format import duration, rating
from server.contracts.api import MovieOut

COLUMNS = ("Title", "Rating", "Length", "Cert", "Languages", "Genres", "Opens")
LISTED = 2  # languages or genres named before "+N"


class MovieList(DataTable[str | Text]):
    """Call ``show`` with the movies to list; posts ``Chosen`` when one is picked."""

    class Chosen(Message):
        def __init__(self, movie: MovieOut) -> None:
            super().__init__()
            self.movie = movie

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._movies: dict[str, MovieOut] = {}

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, movies: list[MovieOut]) -> None:
        self.clear()
        self._movies = {str(movie.movie_id): movie for movie in movies}
        for movie in movies:
            self.add_row(
                Text(movie.title, style="bold"),
                rating(movie),
                duration(movie.duration_minutes),
                movie.certification,
                _first(movie.languages),
                _first(movie.genres),
                movie.release_date.strftime("%d %b"),
                key=str(movie.movie_id),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(self._movies[event.row_key.value]))


def _first(names: list[str]) -> str:
    """ "Hindi, Tamil +2": the first few names and how many more."""
    shown = ", ".join(names[:LISTED])
    return f"{shown} +{len(names) - LISTED}" if len(names) > LISTED else shown
