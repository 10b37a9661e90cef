"""Seat maps built from the shipped layouts, and a small app hosting SeatMap and Legend.

No server is needed for those: the TUI widgets take contract Structs, so the tests build them
from layout files with fixed ids and statuses. The flows that do need one get ``demo``: a real
``bms serve`` on the demo data, one per test module.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message

from bmscli.client import ApiClient
from bmscli.tui.messages import CursorMoved, SeatTakenByOther, SelectionChanged, SelectionRefused
from bmscli.tui.widgets import Legend, SeatMap
from server.contracts.api import SeatMapOut, SeatOut
from server.contracts.enums import SeatStatus
from server.layouts import SHIPPED_LAYOUTS_DIR, load_layout
from tests.conftest import Backend, ServerProcess
from tests.tui.demo_server import start_demo_server


@pytest.fixture(scope="module")
def demo(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_demo_server(backend, tmp_path_factory.mktemp("tui-demo"))
    yield server
    server.stop()


@pytest.fixture
async def api(demo: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(demo.url) as client:
        yield client


SHOW_ID = uuid.UUID("5eed0000-0000-4000-8000-000000000001")
M = TypeVar("M", bound=Message)
PRICES = {
    "regular": 25000,
    "premium": 40000,
    "recliner": 90000,
    "couple": 60000,
    "wheelchair": 25000,
    "companion": 25000,
}


def seat_id(layout_name: str, label: str) -> uuid.UUID:
    return uuid.uuid5(SHOW_ID, f"{layout_name}/{label}")


def seatmap_from_layout(layout_stem: str, statuses: dict[str, str] | None = None) -> SeatMapOut:
    """A show's seat map over a shipped layout; ``statuses`` maps seat labels to a status."""
    layout = load_layout(SHIPPED_LAYOUTS_DIR / f"{layout_stem}.layout")
    statuses = statuses or {}
    seats = [
        SeatOut(
            seat_id=seat_id(layout_stem, spec.label),
            label=spec.label,
            row=spec.row,
            number=spec.number,
            type=spec.seat_type.value,
            status=statuses.get(spec.label, SeatStatus.AVAILABLE),
            price=PRICES[spec.seat_type.value],
            accessible=spec.accessible,
            x=spec.x,
            y=spec.y,
            section=spec.section,
            pair=spec.pair,
            version=1,
        )
        for spec in layout.seats
    ]
    return SeatMapOut(
        show_id=SHOW_ID,
        sequence=1,
        hold_minutes=10,
        currency="INR",
        screen_side=layout.screen_side,
        width=layout.width,
        height=layout.height,
        prices={seat_type: PRICES[seat_type] for seat_type in {s.type for s in seats}},
        seats=seats,
    )


class SeatMapApp(App[None]):
    """The map over its legend, as the booking screens show them; records what the map posts."""

    def __init__(self, seatmap: SeatMapOut, *, allow_accessible: bool = False) -> None:
        super().__init__()
        self.seatmap = seatmap
        self.allow_accessible = allow_accessible
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield SeatMap(self.seatmap, allow_accessible=self.allow_accessible)
        yield Legend(self.seatmap)

    def on_mount(self) -> None:
        self.query_one(SeatMap).focus()

    @on(SelectionChanged)
    @on(SeatTakenByOther)
    @on(SelectionRefused)
    @on(CursorMoved)
    def record(self, message: Message) -> None:
        self.posted.append(message)

    def of_type(self, message_type: type[M]) -> list[M]:
        return [message for message in self.posted if isinstance(message, message_type)]
