"""Wall-clock times in a theater's own timezone, as admins read and write them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def local_text(moment: datetime, timezone: str) -> str:
    """``2026-11-21 18:30``: the moment on the theater's wall clock."""
    return moment.astimezone(ZoneInfo(timezone)).strftime(LOCAL_FORMAT)


def parse_local(text: str, timezone: str) -> datetime:
    """The aware moment of a local wall time ("2026-11-21 18:30"), or ValueError saying what
    to write. A time the clocks skip or pass twice (daylight saving) is refused: a show must
    start at one unmistakable moment."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a local date and time; write YYYY-MM-DD HH:MM, e.g. 2026-11-21 18:30"
        ) from None
    if naive.tzinfo is not None:
        raise ValueError(
            f"{text!r} has a UTC offset; give the wall-clock time in {timezone} without one"
        )
    zone = ZoneInfo(timezone)
    earlier, later = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    wall = naive.strftime(LOCAL_FORMAT)
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{wall} does not exist in {timezone}: the clocks jump forward then; pick a time "
            "outside the jump"
        )
    raise ValueError(
        f"{wall} happens twice in {timezone}: the clocks go back then; pick a time outside "
        "the repeated hour"
    )
