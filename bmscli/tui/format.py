"""Small renderings shared by the screens: durations, ratings, local show times, occupancy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rich.text import Text

from server.contracts.api import MovieOut, ShowOut

FILLING_FAST = 0.70  # share of seats taken from which a show is "filling fast"


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}m" if hours else f"{rest}m"


def rating(movie: MovieOut) -> Text:
    if movie.rating is None:
        return Text("–", style="dim")
    return Text(f"★ {movie.rating:.1f}", style="bold yellow")


def local_time(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def day_name(day: date, today: date) -> str:
    """ "Today", "Tomorrow", else "Fri 27 Nov"."""
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return day.strftime("%a %d %b")


def occupancy(show: ShowOut) -> float:
    """The share of the show's seats that are taken, 0.0 to 1.0."""
    if show.seats_total <= 0:
        return 1.0
    return 1 - show.seats_available / show.seats_total


def availability(show: ShowOut) -> Text:
    """ "32 free" with a word of warning when few are left."""
    if show.seats_available == 0:
        return Text("sold out", style="bold red")
    text = Text(f"{show.seats_available} free")
    if occupancy(show) > FILLING_FAST:
        text.append("  filling fast", style="bold #ff8700")
    return text
