"""Importing a new layout onto an existing screen.

Seats are matched by label. New labels become seats; labels that disappear are retired (kept
for the history that points at them, never sold again); labels that come back are restored.
Future shows follow the new layout at once: their inventory loses the retired seats and gains
the new ones. That is refused, as a whole, while any future show has a retiring seat sold or
under a live hold: those customers must be moved or refunded first.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts import admin as contracts
from server.contracts.enums import SeatStatus
from server.db.models import Screen, Seat
from server.domain.accounts.principal import Principal
from server.domain.admin import queries
from server.domain.admin.catalog import parse_layout_text, screen_for
from server.domain.admin.local_time import local_text
from server.domain.admin.money import price_table
from server.domain.admin.seat_events import announce
from server.domain.catalog.services import forget_lists
from server.domain.errors import Conflict, Invalid
from server.infra.state import Services
from server.layouts import Layout, SeatSpec

MAX_CONFLICTS_IN_DETAIL = 3


@dataclass
class Plan:
    """What the import changes, by seat label, with the seats as they stand and the layout
    they become."""

    seats: dict[str, Seat]
    layout: Layout
    added: list[str]
    restored: list[str]
    retired: list[str]
    changed: list[str]

    def ids(self, labels: list[str]) -> list[uuid.UUID]:
        return [self.seats[label].id for label in labels]

    def rows(self, labels: list[str], **extra: object) -> list[dict[str, object]]:
        """Seat columns from the new layout for these labels."""
        return [{**extra, **_seat_columns(self.layout.seat(label))} for label in labels]


def _seat_columns(spec: SeatSpec) -> dict[str, object]:
    return {
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


def _differs(seat: Seat, spec: SeatSpec) -> bool:
    return any(getattr(seat, column) != value for column, value in _seat_columns(spec).items())


def plan(seats: dict[str, Seat], layout: Layout) -> Plan:
    wanted = {spec.label: spec for spec in layout.seats}
    return Plan(
        seats=seats,
        layout=layout,
        added=[label for label in wanted if label not in seats],
        restored=[label for label in wanted if label in seats and seats[label].retired],
        retired=sorted(
            label for label, s in seats.items() if not s.retired and label not in wanted
        ),
        changed=[
            label
            for label, spec in wanted.items()
            if label in seats and not seats[label].retired and _differs(seats[label], spec)
        ],
    )


def _conflicts(
    shows: list[queries.FutureShow], taken: list[tuple[uuid.UUID, str, str]]
) -> list[contracts.LayoutConflict]:
    by_show: dict[uuid.UUID, list[str]] = defaultdict(list)
    for show_id, label, status in taken:
        by_show[show_id].append(f"{label} {'booked' if status == 'BOOKED' else 'held'}")
    return [
        contracts.LayoutConflict(
            show_id=show.show_id,
            title=show.title,
            starts_local=local_text(show.starts_at, show.timezone),
            seats=sorted(by_show[show.show_id]),
        )
        for show in shows
        if show.show_id in by_show
    ]


def _refusal(conflicts: list[contracts.LayoutConflict]) -> Conflict:
    shown = "; ".join(
        f"{c.title} {c.starts_local} (show {c.show_id}): {', '.join(c.seats)}"
        for c in conflicts[:MAX_CONFLICTS_IN_DETAIL]
    )
    more = len(conflicts) - MAX_CONFLICTS_IN_DETAIL
    tail = f"; and {more} more show(s)" if more > 0 else ""
    return Conflict(
        f"Refused: {len(conflicts)} future show(s) have sold or held seats that the new layout "
        f"removes: {shown}{tail}. Move those customers (bms admin seats block "
        "--move-customers) or wait for the holds to end, then import again.",
        conflicts=[
            {"show_id": str(c.show_id), "starts_local": c.starts_local, "seats": c.seats}
            for c in conflicts
        ],
    )


async def _prices_for_new_types(
    session: AsyncSession,
    screen: Screen,
    layout: Layout,
    shows: list[queries.FutureShow],
    given: dict[str, str],
) -> dict[str, int]:
    """Prices for seat types the layout brings to future shows that have none for them."""
    types = {spec.seat_type.value for spec in layout.seats}
    missing = sorted({t for show in shows for t in types if t not in show.prices})
    if not missing:
        return {}
    [(_, city)] = await queries.theaters_with_city(session, [screen.theater_id])
    prices, problems = price_table({t: given[t] for t in missing if t in given}, {}, city.currency)
    if problems:
        raise Invalid("; ".join(f"{column}: {reason}" for column, reason in problems) + ".")
    unpriced = [t for t in missing if t not in prices]
    if unpriced:
        example = " ".join(f"--price {t}=250.00" for t in unpriced)
        raise Invalid(
            f"The new layout has {', '.join(unpriced)} seats, which future shows of this screen "
            f"have no price for; give one, e.g. {example} (major units of {city.currency})."
        )
    return prices


async def import_layout(
    session: AsyncSession,
    services: Services,
    principal: Principal,
    screen_id: uuid.UUID,
    body: contracts.LayoutImport,
) -> contracts.LayoutImportOut:
    screen = await screen_for(session, principal, screen_id)
    layout = parse_layout_text(body.layout, body.source)
    seats = {seat.label: seat for seat in await queries.seats_of_screen(session, screen_id)}
    changes = plan(seats, layout)
    now = services.clock.now()
    shows = await queries.future_shows_of_screen(session, screen_id, now)
    show_ids = [show.show_id for show in shows]
    taken = await queries.taken_seats(session, show_ids, changes.ids(changes.retired), now)
    conflicts = _conflicts(shows, taken)
    if conflicts and not body.dry_run:
        raise _refusal(conflicts)
    report = contracts.LayoutImportOut(
        screen_id=screen_id,
        layout_name=layout.name,
        applied=False,
        seats_total=len(layout.seats),
        added=changes.added,
        restored=changes.restored,
        retired=changes.retired,
        changed=changes.changed,
        future_shows=len(shows),
        prices_added=await _prices_for_new_types(session, screen, layout, shows, body.prices),
        conflicts=conflicts,
    )
    if body.dry_run:
        return report
    screen.layout_name, screen.layout_source = layout.name, body.layout
    screen.screen_side, screen.width, screen.height = (
        layout.screen_side,
        layout.width,
        layout.height,
    )
    await _apply(session, services, screen.id, changes, report.prices_added, show_ids)
    report.applied = True
    return report


async def _apply(
    session: AsyncSession,
    services: Services,
    screen_id: uuid.UUID,
    changes: Plan,
    new_prices: dict[str, int],
    show_ids: list[uuid.UUID],
) -> None:
    """Write the plan and follow it in every future show's inventory, then announce it."""
    retiring = changes.ids(changes.retired)
    await queries.retire_seats(session, retiring)
    removed = await queries.remove_inventory(session, show_ids, retiring)
    kept = [*changes.restored, *changes.changed]
    if kept:
        rows = changes.rows(kept)
        for row, seat_id in zip(rows, changes.ids(kept), strict=True):
            row.update(id=seat_id, retired=False)
        await session.execute(update(Seat), rows)
    added = []
    if changes.added:
        new_seats = changes.rows(changes.added, screen_id=screen_id)
        added = list(await session.scalars(insert(Seat).returning(Seat.id), new_seats))
    await queries.follow_seat_types(session, show_ids, changes.ids(changes.changed))
    if new_prices:
        await queries.add_missing_prices(session, show_ids, new_prices)
    opened = await queries.add_inventory(session, show_ids, added + changes.ids(changes.restored))
    sequence = await queries.next_event_sequence(session)
    await session.commit()
    await forget_lists(services.redis)
    announce(services, sequence, removed, SeatStatus.UNAVAILABLE.value)
    announce(services, sequence, opened, SeatStatus.AVAILABLE.value)
