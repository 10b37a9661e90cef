"""``bms tui --near`` / ``BMS_LOCATION``: a place as lat,lon, or a sentence saying why not."""

from __future__ import annotations

import pytest
import typer

from bmscli.tui_cli import parse_location


def test_a_place_is_latitude_comma_longitude() -> None:
    assert parse_location("19.0656,72.8228") == (19.0656, 72.8228)
    assert parse_location(" 51.5 , -0.11 ") == (51.5, -0.11)
    assert parse_location(None) is None and parse_location("") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [("Mumbai", "decimal degrees"), ("19.07", "decimal degrees"), ("95,10", "not on Earth")],
)
def test_anything_else_is_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(typer.BadParameter, match=says):
        parse_location(text)
