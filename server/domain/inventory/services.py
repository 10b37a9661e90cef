"""Hold rules: who may hold which seats of which show, for how long, and what everyone sees."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from server.contracts import api
from server.contracts.enums import HoldKind, HoldStatus, Role, SeatStatus, ShowStatus
from server.domain.accounts.principal import Principal
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.inventory import queries
from server.domain.inventory.best_available import Candidate, best_available
from server.domain.inventory.queries import HoldTarget, ShowTerms
from server.domain.inventory.strategies import LockStrategy, SeatsUnavailable
from server.domain.live import waiting_room
from server.domain.live.feed import LiveFeed
from server.domain.pricing_rules.services import show_prices
from server.infra.state import Services
from server.infra.ttl_cache import TtlCache

CHANNEL_BY_ROLE = {Role.CLERK: "box_office", Role.KIOSK: "kiosk"}


def strategy(services: Services) -> LockStrategy:
    chosen: LockStrategy = services.extras["strategy"]
    return chosen


def feed(services: Services) -> LiveFeed:
    live: LiveFeed = services.extras["feed"]
    return live


# How long a process keeps a show's seat kinds (labels, types, accessible-only flags).
SEAT_KINDS_SECONDS = 300.0


async def load_terms(services: Services, show_id: uuid.UUID) -> ShowTerms:
    """Show terms, cached for two seconds per process: a stampede reads them thousands of
    times a second, and a price or status change reaching holds two seconds late is harmless
    (booking re-checks the show)."""
    cache: TtlCache[uuid.UUID, ShowTerms] = services.extras.setdefault("terms", TtlCache(2.0))
    terms = await cache.get_or_load(show_id, lambda: _read_terms(services, show_id))
    if terms is None:
        raise NotFound(f"There is no show {show_id}; pick a show from GET /api/v1/shows.")
    return terms


async def _read_terms(services: Services, show_id: uuid.UUID) -> ShowTerms | None:
    async with services.engine.connect() as conn:
        terms = await queries.show_terms(conn, show_id)
        priced = await show_prices(conn, show_id, services.clock.now())
    if terms is None or priced is None:
        return None
    # Dynamic pricing rules in force now; holds freeze these prices per seat.
    return replace(terms, prices=dict(priced.effective))


def _check_on_sale(services: Services, terms: ShowTerms) -> None:
    now = services.clock.now()
    if terms.status != ShowStatus.SCHEDULED.value:
        raise Conflict(f"This show is {terms.status.lower()}; it is not on sale.")
    if terms.starts_at <= now:
        raise Conflict("This show has already started; pick a later show.")
    if terms.sale_opens_at is not None and terms.sale_opens_at > now:
        raise Conflict(
            f"Sale for this show opens at {terms.sale_opens_at.isoformat()}; join the waiting "
            "room until then."
        )


def _check_seat_list(services: Services, seat_ids: list[uuid.UUID]) -> tuple[uuid.UUID, ...]:
    if not seat_ids:
        raise Invalid("Pick at least one seat (seat_ids is empty).")
    unique = tuple(sorted(set(seat_ids)))
    if len(unique) != len(seat_ids):
        raise Invalid("seat_ids lists the same seat twice; send each seat once.")
    limit = services.settings.max_seats_per_hold
    if len(unique) > limit:
        raise Invalid(f"At most {limit} seats per hold; you asked for {len(unique)}.")
    return unique


def _accessible_released(services: Services, terms: ShowTerms) -> bool:
    release_at = terms.starts_at - timedelta(minutes=terms.accessible_release_minutes)
    return services.clock.now() >= release_at


async def place_hold(
    services: Services, principal: Principal, show_id: uuid.UUID, body: api.HoldRequest
) -> api.HoldOut:
    seat_ids = _check_seat_list(services, body.seat_ids)
    terms = await load_terms(services, show_id)
    _check_on_sale(services, terms)
    if not principal.is_staff:
        # Past the show's capacity of active buyers, newcomers wait their turn (429 + place).
        await waiting_room.check_admitted(services, show_id, principal.user_id)
    now = services.clock.now()
    target = HoldTarget(
        hold_id=uuid.uuid4(),
        show_id=show_id,
        buyer_id=principal.user_id,
        seat_ids=seat_ids,
        now=now,
        expires_at=now + timedelta(minutes=terms.hold_minutes),
        accessible=body.accessible,
        channel=CHANNEL_BY_ROLE.get(principal.role) or principal.channel or "online",
        accessible_released=_accessible_released(services, terms),
        # Box-office staff sell to many walk-ups from one account: no per-buyer limit.
        max_holds=1_000_000 if principal.is_staff else services.settings.max_holds_per_buyer,
        prices=terms.prices,
    )
    try:
        result = await strategy(services).hold(services.driver_pool, target)
    except SeatsUnavailable as refused:
        await _refuse_seats_never_takeable(services, target, refused.unavailable)
        raise
    feed(services).publish(show_id, result.sequence, SeatStatus.BLOCKED.value, result.seats)
    return api.HoldOut(
        hold_id=target.hold_id,
        show_id=show_id,
        seat_ids=list(seat_ids),
        expires_at=target.expires_at,
    )


async def _refuse_seats_never_takeable(
    services: Services, target: HoldTarget, unavailable: list[uuid.UUID]
) -> None:
    """A 422 saying why for a seat this request could never take (not in the show, or kept
    for accessibility), where "no longer available; refresh the seat map" would send the
    buyer round in circles. Asked only once the hold failed, so a successful hold statement
    costs nothing more; and the seats of a show never change kind, so a sold-out stampede's
    thousands of 409s read them from memory (an A/B showed one query per 409 cost a quarter
    of the stampede's throughput)."""
    cache: TtlCache[uuid.UUID, dict[uuid.UUID, queries.SeatKind]] = services.extras.setdefault(
        "seat_kinds", TtlCache(SEAT_KINDS_SECONDS, size=1_000)
    )
    kinds = await cache.get_or_load(
        target.show_id, lambda: _read_seat_kinds(services, target.show_id)
    )
    kinds = kinds or {}
    strangers = [str(seat_id) for seat_id in unavailable if seat_id not in kinds]
    if strangers:
        raise Invalid(
            f"{_seats(strangers)} not part of this show; pick seats from its seat map.",
            field="seat_ids",
            unavailable=strangers,
        )
    kept = sorted(
        (seat_id for seat_id in unavailable if kinds[seat_id].accessible_only),
        key=lambda seat_id: kinds[seat_id].label,
    )
    if kept and not target.may_take_accessible:
        spaces = [f"{kinds[seat_id].label} ({kinds[seat_id].seat_type})" for seat_id in kept]
        raise Invalid(
            f"{_seats(spaces)} kept for customers who need an accessible space: ask for "
            f"{'it' if len(kept) == 1 else 'them'} with accessible: true.",
            field="seat_ids",
            unavailable=[str(seat_id) for seat_id in kept],
        )


async def _read_seat_kinds(
    services: Services, show_id: uuid.UUID
) -> dict[uuid.UUID, queries.SeatKind]:
    async with services.driver_pool.connection() as conn:
        return await queries.seat_kinds(conn, show_id)


def _seats(names: list[str]) -> str:
    return f"Seat {names[0]} is" if len(names) == 1 else f"Seats {', '.join(names)} are"


GROUP_HOLD_MAX_SEATS = 200


async def place_group_hold(
    services: Services, principal: Principal, show_id: uuid.UUID, body: api.GroupHoldRequest
) -> api.HoldOut:
    """A named block for a school or company, held past the usual timeout (until
    ``expires_at``, at the latest the show's start) by a theater admin, who later converts it
    to a booking or releases it."""
    terms = await load_terms(services, show_id)
    if not principal.can_act_for(terms.theater_id):
        raise Forbidden("That show is not in one of your theaters.")
    _check_on_sale(services, terms)
    seat_ids = tuple(sorted(set(body.seat_ids)))
    if not seat_ids or len(seat_ids) > GROUP_HOLD_MAX_SEATS:
        raise Invalid(f"A group hold takes 1 to {GROUP_HOLD_MAX_SEATS} seats.")
    if not body.name.strip():
        raise Invalid("Give the group hold a name (the school or company it is for).")
    now = services.clock.now()
    if body.expires_at.tzinfo is None:
        raise Invalid("expires_at needs a timezone, e.g. 2026-12-01T18:00:00+05:30.")
    if not now < body.expires_at <= terms.starts_at:
        raise Invalid("expires_at must be in the future and no later than the show's start.")
    target = HoldTarget(
        hold_id=uuid.uuid4(),
        show_id=show_id,
        buyer_id=principal.user_id,
        seat_ids=seat_ids,
        now=now,
        expires_at=body.expires_at,
        accessible=True,
        channel="box_office",
        kind=HoldKind.GROUP.value,
        name=body.name.strip(),
        prices=terms.prices,
    )
    result = await strategy(services).hold(services.driver_pool, target)
    feed(services).publish(show_id, result.sequence, SeatStatus.BLOCKED.value, result.seats)
    return api.HoldOut(
        hold_id=target.hold_id,
        show_id=show_id,
        seat_ids=list(seat_ids),
        expires_at=target.expires_at,
        kind=HoldKind.GROUP.value,
        name=target.name,
    )


async def group_holds(
    services: Services, principal: Principal, show_id: uuid.UUID
) -> list[api.HoldOut]:
    terms = await load_terms(services, show_id)
    if not principal.can_act_for(terms.theater_id):
        raise Forbidden("That show is not in one of your theaters.")
    async with services.engine.connect() as conn:
        rows = await queries.active_group_holds(conn, show_id, services.clock.now())
    return [
        api.HoldOut(
            hold_id=row.id,
            show_id=show_id,
            seat_ids=list(row.seat_ids),
            expires_at=row.expires_at,
            kind=HoldKind.GROUP.value,
            name=row.name,
        )
        for row in rows
    ]


def hold_ended(status: str, expires_at: datetime) -> Conflict:
    """Why a hold can no longer be paid for: released by its buyer (or a refused checkout), or
    run out."""
    if status == HoldStatus.RELEASED.value:
        return Conflict(
            "This hold was released and its seats went back on sale; nothing was charged. "
            "Hold the seats again.",
            reason="hold_released",
        )
    return Conflict(
        f"Your hold expired at {expires_at:%H:%M} UTC and nothing was charged; hold the seats "
        "again.",
        reason="hold_expired",
        expired_at=expires_at.isoformat(),
    )


async def check_replayed_hold(services: Services, answer: dict[str, Any]) -> None:
    """A retried hold request gets its first answer again only while that hold still holds:
    a client retrying after a lost connection must not believe it has seats it gave back."""
    hold_id = uuid.UUID(answer["hold_id"])
    async with services.engine.connect() as conn:
        found = await queries.hold_state(conn, hold_id)
    if found is None:
        raise NotFound(f"There is no hold {hold_id}; hold seats first.")
    status, expires_at = found
    if status != HoldStatus.ACTIVE.value or expires_at <= services.clock.now():
        raise hold_ended(status, expires_at)


async def release(services: Services, principal: Principal, hold_id: uuid.UUID) -> None:
    async with services.engine.begin() as conn:
        owner = await queries.hold_owner(conn, hold_id)
        if owner is None:
            raise NotFound(f"There is no hold {hold_id}.")
        buyer_id, _, status, theater_id = owner
        if buyer_id != principal.user_id and not (
            principal.is_staff and principal.can_act_for(theater_id)
        ):
            raise Forbidden("That hold belongs to someone else.")
        if status == HoldStatus.CONVERTED.value:
            raise Conflict("This hold became a booking; cancel the booking to give its seats back.")
        if status != HoldStatus.ACTIVE.value:
            return  # releasing twice (or after expiry) is harmless: the seats are already free
        show_id, seats, sequence = await queries.release_hold(
            conn,
            hold_id,
            now=services.clock.now(),
            actor_id=principal.user_id,
            final_status=HoldStatus.RELEASED.value,
            reason="released",
        )
    if show_id is not None and sequence is not None:
        feed(services).publish(show_id, sequence, SeatStatus.AVAILABLE.value, seats)


async def sweep_expired(services: Services) -> int:
    """Free the seats of expired holds and announce them; returns how many seats were freed."""
    async with services.engine.begin() as conn:
        freed = await queries.expire_due(conn, services.clock.now())
    by_show: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
    sequence = 0
    for show_id, seat_id, version, seq in freed:
        by_show.setdefault(show_id, []).append((seat_id, version))
        sequence = max(sequence, seq)
    for show_id, seats in by_show.items():
        feed(services).publish(show_id, sequence, SeatStatus.AVAILABLE.value, seats)
    return len(freed)


async def current_sequence(services: Services) -> int:
    async with services.engine.connect() as conn:
        return await queries.current_sequence(conn)


async def seat_map(services: Services, show_id: uuid.UUID) -> api.SeatMapOut:
    terms = await load_terms(services, show_id)
    async with services.engine.connect() as conn:
        # Read the sequence first: every change numbered after it is still to come on the feed.
        sequence = await queries.current_sequence(conn)
        rows = await queries.seat_map_rows(conn, show_id, services.clock.now())
        side, width, height = await queries.screen_shape(conn, show_id)
    seats = [
        api.SeatOut(
            seat_id=row.seat_id,
            label=row.label,
            row=row.row_label,
            number=row.number,
            type=row.seat_type,
            status=row.status,
            price=int(terms.prices.get(row.seat_type, 0)),
            accessible=row.accessible,
            x=row.x,
            y=row.y,
            section=row.section,
            pair=row.pair_label,
            version=row.version,
        )
        for row in rows
    ]
    return api.SeatMapOut(
        show_id=show_id,
        sequence=sequence,
        hold_minutes=terms.hold_minutes,
        currency=terms.currency,
        screen_side=side,
        width=width,
        height=height,
        prices={k: int(v) for k, v in terms.prices.items()},
        seats=seats,
        max_seats_per_hold=services.settings.max_seats_per_hold,
    )


async def suggest_best(
    services: Services,
    show_id: uuid.UUID,
    count: int,
    seat_type: str | None,
    accessible: bool,
) -> api.BestAvailableOut:
    if not 1 <= count <= services.settings.max_seats_per_hold:
        raise Invalid(f"count must be between 1 and {services.settings.max_seats_per_hold}.")
    seatmap = await seat_map(services, show_id)
    candidates = [
        Candidate(
            key=str(seat.seat_id),
            row=seat.row,
            section=seat.section,
            number=seat.number,
            x=seat.x,
            y=seat.y,
            seat_type=seat.type,
            accessible=seat.accessible,
            pair=seat.pair,
        )
        for seat in seatmap.seats
    ]
    free = {str(s.seat_id) for s in seatmap.seats if s.status == SeatStatus.AVAILABLE.value}
    chosen = best_available(candidates, free, count, seat_type=seat_type, accessible=accessible)
    if not chosen:
        kind = f" {seat_type}" if seat_type else ""
        raise Conflict(f"There are no {count}{kind} seats together left for this show.")
    labels = {str(s.seat_id): s.label for s in seatmap.seats}
    return api.BestAvailableOut(
        show_id=show_id,
        seat_ids=[uuid.UUID(key) for key in chosen],
        labels=[labels[key] for key in chosen],
    )
