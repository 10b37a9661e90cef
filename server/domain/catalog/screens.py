"""Creating a screen and its seats from a parsed layout."""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Screen, Seat
from server.layouts.model import Layout


async def create_screen(
    session: AsyncSession,
    *,
    theater_id: uuid.UUID,
    name: str,
    formats: list[str],
    layout: Layout,
    layout_source: str,
) -> Screen:
    """Insert the screen and one seat row per seat of the layout (one round trip for seats)."""
    screen = Screen(
        theater_id=theater_id,
        name=name,
        formats=formats,
        layout_name=layout.name,
        layout_source=layout_source,
        screen_side=layout.screen_side,
        width=layout.width,
        height=layout.height,
    )
    session.add(screen)
    await session.flush()
    await session.execute(
        insert(Seat),
        [
            {
                "screen_id": screen.id,
                "label": spec.label,
                "row_label": spec.row,
                "number": spec.number,
                "seat_type": spec.seat_type.value,
                "section": spec.section,
                "x": spec.x,
                "y": spec.y,
                "accessible": spec.accessible,
                "pair_label": spec.pair,
            }
            for spec in layout.seats
        ],
    )
    return screen
