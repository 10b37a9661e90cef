"""Seat repairs: take seats of a screen out of sale across its future shows, or put them back.

Free seats go AVAILABLE -> UNAVAILABLE (and back), each change recorded in seat_transitions
with who and why and announced on the show's live feed. A seat under a live hold is refused:
the buyer may be paying right now. A sold seat is refused too, unless the admin asks to move
its customer: then the customer gets the nearest free seat of the same type in the same show
(a couple seat moves with its partner to a free pair), or, when there is none, the seat is
refused for that show.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts import admin as contracts
from server.contracts.enums import SeatStatus
from server.db.models import Seat
from server.domain.accounts.principal import Principal
from server.domain.admin import queries
from server.domain.admin.catalog import screen_for
from server.domain.admin.local_time import local_text
from server.domain.admin.prices import check_show_ids
from server.domain.admin.seat_events import announce
from server.domain.errors import Invalid
from server.infra.state import Services

COUPLE = "couple"
MovedRow = tuple[uuid.UUID, uuid.UUID, int, str]  # (show, seat, new version, new status)
ROW_WEIGHT = 2  # one row of distance counts as two seats sideways
MAX_REASON_CHARS = 200


# -- choosing where a customer goes (pure) ---------------------------------------------------


def _distance(a: Seat, b: Seat) -> tuple[int, str]:
    return ROW_WEIGHT * abs(a.y - b.y) + abs(a.x - b.x), b.label


def unit_of(seat: Seat, sold_to_same: set[str], by_label: dict[str, Seat]) -> list[Seat]:
    """The seats that move together: a couple seat and its partner in the same booking."""
    partner = by_label.get(seat.pair_label or "") if seat.seat_type == COUPLE else None
    if partner is not None and partner.label in sold_to_same:
        return sorted([seat, partner], key=lambda s: s.x)
    return [seat]


def destination(
    unit: list[Seat], free: set[uuid.UUID], by_label: dict[str, Seat]
) -> list[Seat] | None:
    """The nearest free seats of the unit's type (a whole free pair for a couple unit), left
    to right, or None."""
    first = unit[0]
    options = [s for s in by_label.values() if s.id in free and s.seat_type == first.seat_type]
    if len(unit) == 2:
        pairs = []
        for seat in options:
            partner = by_label.get(seat.pair_label or "")
            if partner is not None and partner.id in free and seat.x < partner.x:
                pairs.append([seat, partner])
        return min(pairs, key=lambda pair: _distance(first, pair[0]), default=None)
    if first.seat_type == COUPLE:
        return None  # half a pair is never sold on its own
    best = min(options, key=lambda seat: _distance(first, seat), default=None)
    return [best] if best else None


# -- the repair -----------------------------------------------------------------------------


@dataclass
class Target:
    screen_seats: dict[str, Seat]  # every seat in use, by label
    seats: list[Seat]  # the seats asked for, in the order given
    show_lines: list[queries.ShowLine]
    reason: str


def _labels(screen_seats: dict[str, Seat], asked: list[str]) -> list[Seat]:
    wanted = list(dict.fromkeys(label.strip() for label in asked if label.strip()))
    if not wanted:
        raise Invalid("Name at least one seat, e.g. A5.")
    unknown = [label for label in wanted if label not in screen_seats]
    if unknown:
        raise Invalid(
            f"This screen has no seat {', '.join(unknown)}; `bms admin layout show SCREEN_ID` "
            "draws its seats."
        )
    return [screen_seats[label] for label in wanted]


async def _target(
    session: AsyncSession, services: Services, principal: Principal, body: contracts.SeatRepair
) -> Target:
    screen = await screen_for(session, principal, body.screen_id)
    reason = body.reason.strip() or "repair"
    if len(reason) > MAX_REASON_CHARS:
        raise Invalid(f"Keep the reason to {MAX_REASON_CHARS} characters.")
    if body.date_from and body.date_to and body.date_from > body.date_to:
        raise Invalid(f"date_from {body.date_from} is after date_to {body.date_to}.")
    await check_show_ids(session, principal, body.show_ids)
    screen_seats = {
        s.label: s for s in await queries.seats_of_screen(session, screen.id) if not s.retired
    }
    scope = queries.ShowScope(
        screen_id=screen.id,
        show_ids=body.show_ids,
        date_from=body.date_from,
        date_to=body.date_to,
        starting_after=services.clock.now(),
    )
    return Target(
        screen_seats=screen_seats,
        seats=_labels(screen_seats, body.seats),
        show_lines=await queries.locked_shows(session, scope),
        reason=reason,
    )


def _refusal(state: queries.SeatState, block: bool) -> str | None:
    """Why this seat was not changed, or None when it already was as asked."""
    if not block:
        return None
    if state.status == SeatStatus.BOOKED.value:
        return (
            f"sold (booking {state.booking_code}); add --move-customers to move the customer "
            "to a comparable seat"
        )
    if state.status == SeatStatus.BLOCKED.value and state.held_until:
        return (
            f"held by a buyer until {state.held_until:%H:%M} UTC; try again once the hold ends "
            "or is booked"
        )
    return None


async def repair(
    session: AsyncSession,
    services: Services,
    principal: Principal,
    body: contracts.SeatRepair,
    *,
    block: bool,
) -> contracts.SeatRepairOut:
    target = await _target(session, services, principal, body)
    show_ids = [line.show.id for line in target.show_lines]
    seat_ids = [seat.id for seat in target.seats]
    changed = await queries.set_on_sale(
        session,
        show_ids,
        seat_ids,
        on_sale=not block,
        now=services.clock.now(),
        actor_id=principal.user_id,
        reason=target.reason,
    )
    reports = {
        line.show.id: contracts.ShowRepairOut(
            show_id=line.show.id,
            title=line.title,
            starts_local=local_text(line.show.starts_at, line.timezone),
        )
        for line in target.show_lines
    }
    states = await queries.seat_states(session, show_ids, seat_ids=seat_ids)
    sold = _account(target, reports, changed, states, block=block, move=body.move_customers)
    moved: list[MovedRow] = []
    for show_id, sold_states in sold.items():
        moved += await _move_customers(
            session, services, principal, target, reports[show_id], sold_states
        )
    sequence = await queries.next_event_sequence(session)
    await session.commit()
    status = SeatStatus.UNAVAILABLE.value if block else SeatStatus.AVAILABLE.value
    announce(services, sequence, changed, status)
    for moved_to in {row[3] for row in moved}:
        announce(services, sequence, [row[:3] for row in moved if row[3] == moved_to], moved_to)
    shows = [_sorted(report, target) for report in reports.values()]
    return contracts.SeatRepairOut(
        action="block" if block else "unblock",
        changed=sum(len(r.changed) for r in shows),
        refused=sum(len(r.refused) for r in shows),
        moved=sum(len(r.moved) for r in shows),
        shows=shows,
    )


def _account(
    target: Target,
    reports: dict[uuid.UUID, contracts.ShowRepairOut],
    changed: list[queries.SeatVersion],
    states: list[queries.SeatState],
    *,
    block: bool,
    move: bool,
) -> dict[uuid.UUID, list[queries.SeatState]]:
    """Put each asked-for seat of each show in its report (changed, already so, refused) and
    return, by show, the sold seats whose customers are to be moved, in the order asked."""
    labels = {seat.id: seat.label for seat in target.seats}
    order = {seat.id: index for index, seat in enumerate(target.seats)}
    states = sorted(states, key=lambda state: order[state.seat_id])
    for show_id, seat_id, _ in changed:
        reports[show_id].changed.append(labels[seat_id])
    done = {(show_id, seat_id) for show_id, seat_id, _ in changed}
    sold: dict[uuid.UUID, list[queries.SeatState]] = defaultdict(list)
    for state in states:
        if (state.show_id, state.seat_id) in done:
            continue
        if block and move and state.status == SeatStatus.BOOKED.value:
            sold[state.show_id].append(state)
            continue
        why = _refusal(state, block)
        report, label = reports[state.show_id], labels[state.seat_id]
        if why:
            report.refused.append(contracts.SeatRefusal(seat=label, reason=why))
        else:
            report.unchanged.append(label)
    return sold


def _sorted(report: contracts.ShowRepairOut, target: Target) -> contracts.ShowRepairOut:
    order = {seat.label: index for index, seat in enumerate(target.seats)}
    report.changed.sort(key=lambda label: order.get(label, len(order)))
    report.unchanged.sort(key=lambda label: order.get(label, len(order)))
    return report


async def _move_customers(
    session: AsyncSession,
    services: Services,
    principal: Principal,
    target: Target,
    report: contracts.ShowRepairOut,
    states: list[queries.SeatState],
) -> list[MovedRow]:
    """Move the customers of these sold seats of one show; refuse the seats that have no
    comparable free seat. Returns (show, seat, version, status) of every changed row."""
    show_id = report.show_id
    by_label = target.screen_seats
    by_id = {seat.id: seat for seat in by_label.values()}
    bookings = {state.booking_id for state in states if state.booking_id}
    sold_rows = await queries.seat_states(session, [show_id], booking_ids=list(bookings))
    sold_to = defaultdict(set)
    for row in sold_rows:
        sold_to[row.booking_id].add(by_id[row.seat_id].label)
    free = await queries.free_seats(session, show_id, services.clock.now())
    broken = {seat.id for seat in target.seats}
    moves: list[queries.Move] = []
    planned: list[contracts.SeatMove] = []
    seen: set[uuid.UUID] = set()
    for state in states:
        seat = by_id[state.seat_id]
        if seat.id in seen or state.booking_id is None:
            continue
        unit = unit_of(seat, sold_to[state.booking_id], by_label)
        seen |= {s.id for s in unit}
        chosen = destination(unit, free - broken, by_label)
        if chosen is None:
            report.refused.append(
                contracts.SeatRefusal(
                    seat=seat.label,
                    reason=f"sold (booking {state.booking_code}) and no free {seat.seat_type} "
                    "seat is left in this show to move the customer to",
                )
            )
            continue
        free -= {s.id for s in chosen}
        for old, new in zip(unit, chosen, strict=True):
            moves.append(queries.Move(old.id, new.id, state.booking_id, old.id in broken))
            planned.append(
                contracts.SeatMove(
                    booking_id=state.booking_id,
                    booking_code=state.booking_code or "",
                    from_seat=old.label,
                    to_seat=new.label,
                )
            )
    if not moves:
        return []
    rows = await queries.move_bookings(
        session,
        show_id,
        moves,
        now=services.clock.now(),
        actor_id=principal.user_id,
        reason=target.reason,
    )
    if rows is None:
        report.refused += [
            contracts.SeatRefusal(
                seat=move.from_seat,
                reason="its customer's new seat was taken at this very moment; run again",
            )
            for move in planned
        ]
        return []
    report.moved = planned
    report.changed += [move.from_seat for move in planned if by_label[move.from_seat].id in broken]
    for booking_id in {move.booking_id for move in planned}:
        await queries.add_outbox_event(
            session,
            "booking.seats_moved",
            {
                "booking_id": str(booking_id),
                "show_id": str(show_id),
                "reason": target.reason,
                "moves": [
                    {"from": m.from_seat, "to": m.to_seat}
                    for m in planned
                    if m.booking_id == booking_id
                ],
            },
        )
    return [(show_id, seat_id, version, status) for seat_id, version, status in rows]
