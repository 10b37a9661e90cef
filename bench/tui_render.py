"""How fast the SeatMap draws the largest shipped layout, headless at 200x60.

    .venv/bin/python -m bench.tui_render [--rounds 200]     # from the repository root

(a) full render: every visible line drawn from scratch (caches dropped the way a theme change
drops them); (b) single update: one live SeatEvent applied and that seat's line drawn again.
Prints JSON. Targets, not asserted: full < 30 ms, single < 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import time

import textual

from bmscli.tui.widgets import SeatMap
from server.contracts.api import SeatChange, SeatEvent, SeatMapOut
from server.contracts.enums import SeatStatus
from tests.tui.conftest import SeatMapApp, seatmap_from_layout

LAYOUT = "imax-grand"
SIZE = (200, 60)


def busy_show() -> SeatMapOut:
    """The layout mid-sale: a third booked, some held, a few out of order (fixed seed)."""
    labels = [seat.label for seat in seatmap_from_layout(LAYOUT).seats]
    pick = random.Random(7)
    weights = {
        SeatStatus.AVAILABLE: 60,
        SeatStatus.BOOKED: 32,
        SeatStatus.BLOCKED: 6,
        SeatStatus.UNAVAILABLE: 2,
    }
    drawn = pick.choices(list(weights), weights=list(weights.values()), k=len(labels))
    return seatmap_from_layout(LAYOUT, dict(zip(labels, drawn, strict=True)))


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max": round(ordered[-1], 3),
    }


def row_lines(seat_map: SeatMap) -> dict[str, int]:
    """Visible y of each row, read off the drawing (labels start every seat row)."""
    height = seat_map.scrollable_content_region.height
    rows = {}
    for y in range(height):
        words = seat_map.render_line(y).text.split()
        if len(words) > 1 and words[0] == words[-1]:
            rows[words[0]] = y
    return rows


async def measure(rounds: int) -> dict[str, object]:
    seatmap = busy_show()
    app = SeatMapApp(seatmap)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seat_map = app.query_one(SeatMap)
        height = seat_map.scrollable_content_region.height

        full = []
        for _ in range(rounds):
            seat_map.notify_style_update()
            started = time.perf_counter()
            for y in range(height):
                seat_map.render_line(y)
            full.append((time.perf_counter() - started) * 1000)

        rows = row_lines(seat_map)
        single = []
        for round_ in range(rounds):
            seat = seatmap.seats[round_ % len(seatmap.seats)]
            current = seat_map.seat(seat.seat_id)
            status = SeatStatus.BOOKED if current.status == SeatStatus.AVAILABLE else "AVAILABLE"
            change = SeatChange(seat_id=seat.seat_id, status=status, version=current.version + 1)
            event = SeatEvent(show_id=seatmap.show_id, sequence=round_ + 2, seats=[change])
            started = time.perf_counter()
            seat_map.apply_event(event)
            seat_map.render_line(rows[seat.row])
            single.append((time.perf_counter() - started) * 1000)

    return {
        "layout": LAYOUT,
        "seats": len(seatmap.seats),
        "terminal": f"{SIZE[0]}x{SIZE[1]}",
        "rounds": rounds,
        "full_render_ms": summary(full),
        "single_update_ms": summary(single),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "textual": textual.__version__,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.rounds)), indent=2))


if __name__ == "__main__":
    main()
