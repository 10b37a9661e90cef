"""Waiting-list rules.

Joining is allowed when the show cannot seat the request right now (fewer free seats of the
wanted type than asked). Customers join for themselves; box-office staff join for the customer
at the counter, who is found by e-mail or phone (or kept as a guest customer) and owns the
entry, its offer and the booking made from it. A background job walks each show's line in order: when best-available
finds a block for the person at the head, it takes a priority hold for them (kind
``waitlist_offer``, the theater's hold time) and queues a ``waitlist.offered`` notification in
the same transaction. Booking that hold fulfils the entry; letting it run out expires the
entry and the line moves on.

A customer is on a show's list once (WAITING or OFFERED): joining again is a 409 naming their
place. The database holds the rule (the partial unique index ``queries.LIVE_ENTRY_INDEX``), so
two requests that both pass the check at the same instant still make one entry, and the other
gets the same 409.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from server.contracts import api
from server.contracts.checkout import CustomerContact
from server.contracts.enums import COUNTER_STAFF_ROLES, HoldKind, SeatStatus
from server.domain.accounts import queries as accounts_queries
from server.domain.accounts import services as accounts
from server.domain.accounts.contact import checked_customer, checked_email, phone_digits
from server.domain.accounts.principal import Principal
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.inventory import services as inventory
from server.domain.inventory.queries import HoldTarget
from server.domain.inventory.strategies import SeatsUnavailable
from server.domain.waitlist import queries
from server.infra.database import autocommit, violates_unique
from server.infra.state import Services

MAX_SEATS = 10


def entry_out(row: Any) -> api.WaitlistEntryOut:
    return api.WaitlistEntryOut(
        entry_id=row.id,
        show_id=row.show_id,
        seats_wanted=row.seats_wanted,
        seat_type=row.seat_type,
        status=row.status,
        position=row.position if row.status == "WAITING" else None,
        hold_id=row.offered_hold_id,
        offer_expires_at=row.offer_expires_at,
        customer=CustomerContact(
            name=row.customer_name, email=row.customer_email, phone=row.customer_phone
        ),
        movie_title=row.movie_title,
        theater_name=row.theater_name,
        starts_at=row.starts_at,
    )


def _whom(principal: Principal, customer: CustomerContact | None) -> CustomerContact | None:
    """The customer a clerk queues (checked), or None when callers queue themselves."""
    if principal.role in COUNTER_STAFF_ROLES:
        if customer is None:
            raise Invalid(
                "You are signed in as box-office staff, and staff do not wait for seats "
                'themselves: give the customer in "customer", with their name and e-mail '
                "or phone number, so the offer reaches them.",
                field="customer",
            )
        return checked_customer(customer, "customer")
    if principal.is_staff:
        raise Forbidden(
            "A kiosk device does not wait for seats itself: start a guest session for the "
            "customer (POST /api/v1/auth/guest) and join the waiting list with it."
        )
    if customer is not None:
        raise Forbidden(
            "Only box-office staff put someone else on a waiting list; leave out "
            '"customer" to join it yourself.'
        )
    return None


def _already(customer: CustomerContact | None, entry: Any) -> Conflict:
    if customer is None:
        return Conflict(
            "You are already on the waiting list for this show.", entry_id=str(entry.id)
        )
    where = (
        f"number {entry.position} in line"
        if entry.status == "WAITING"
        else "seats are held for them now"
    )
    return Conflict(
        f"{entry.customer_name} ({customer.email or customer.phone}) is already on the waiting "
        f"list for this show ({where}); there is no need to add them again.",
        entry_id=str(entry.id),
    )


async def join(
    services: Services, principal: Principal, show_id: uuid.UUID, body: api.WaitlistJoin
) -> api.WaitlistEntryOut:
    if not 1 <= body.seats_wanted <= MAX_SEATS:
        raise Invalid(f"seats_wanted must be between 1 and {MAX_SEATS}.")
    customer = _whom(principal, body.customer)
    terms = await inventory.load_terms(services, show_id)
    if customer is not None and not principal.can_act_for(terms.theater_id):
        raise Forbidden(
            "That show is not in one of your theaters; its own box office can put the "
            "customer on its waiting list."
        )
    if body.seat_type is not None and body.seat_type not in terms.prices:
        known = ", ".join(sorted(terms.prices))
        raise Invalid(f"This show has no {body.seat_type!r} seats; use one of {known}.")
    now = services.clock.now()
    if terms.starts_at <= now:
        raise Conflict("This show has already started.")
    user_id = principal.user_id
    try:
        async with services.engine.begin() as conn:
            if customer is not None:
                user_id = await accounts.customer_for(conn, customer)
            live = await queries.live_entry_of(conn, show_id, user_id)
            if live:
                raise _already(customer, await queries.entry(conn, live.id))
            free = await queries.free_seat_count(conn, show_id, body.seat_type, now)
            if free >= body.seats_wanted:
                raise Conflict(
                    f"There are still {free} free seats for this show: hold them instead of "
                    "waiting."
                )
            row = await queries.insert_entry(
                conn, show_id, user_id, body.seats_wanted, body.seat_type
            )
            entry = await queries.entry(conn, row.id)
    except IntegrityError as exc:
        # Another request put the same customer on this list after our check and before our
        # insert; the database kept one entry, and this answer is the check's own.
        if not violates_unique(exc, queries.LIVE_ENTRY_INDEX):
            raise
        raise await _already_joined(services, customer, show_id, user_id) from None
    return entry_out(entry)


async def _already_joined(
    services: Services, customer: CustomerContact | None, show_id: uuid.UUID, user_id: uuid.UUID
) -> Conflict:
    async with autocommit(services.engine).connect() as conn:
        live = await queries.live_entry_of(conn, show_id, user_id)
        found = await queries.entry(conn, live.id) if live else None
    if found is None:  # the other entry was cancelled in the meantime
        return Conflict(
            "The waiting list for this show changed while you joined; try again.",
            reason="waitlist_changed",
        )
    return _already(customer, found)


async def status(
    services: Services, principal: Principal, entry_id: uuid.UUID
) -> api.WaitlistEntryOut:
    """An entry, for the person on the list and for staff of the show's theater."""
    async with services.engine.connect() as conn:
        row = await queries.entry(conn, entry_id)
    if row is None:
        raise NotFound(f"There is no waiting-list entry {entry_id}.")
    if row.user_id != principal.user_id and not (
        principal.is_staff and principal.can_act_for(row.theater_id)
    ):
        raise Forbidden("That waiting-list entry is someone else's.")
    return entry_out(row)


async def leave(services: Services, principal: Principal, entry_id: uuid.UUID) -> None:
    await status(services, principal, entry_id)  # existence and ownership
    async with services.engine.begin() as conn:
        await queries.cancel_entry(conn, entry_id)


async def find(
    services: Services, principal: Principal, *, phone: str | None, email: str | None
) -> list[api.WaitlistEntryOut]:
    """Staff: the entries of the customers reached at a phone number or an e-mail, for
    shows of the caller's theaters (platform admins: all) that have not started."""
    if principal.role not in COUNTER_STAFF_ROLES:
        raise Forbidden(
            "Finding customers on waiting lists is for box-office staff; see your own entry "
            "at /api/v1/waitlist/{entry_id}."
        )
    phone, email = (phone or "").strip(), (email or "").strip()
    if bool(phone) == bool(email):
        raise Invalid(
            "Find waiting-list entries by exactly one of phone or email, "
            "e.g. /api/v1/waitlist?phone=9820012345."
        )
    scope = None if principal.is_platform_admin else frozenset(principal.theater_ids)
    async with services.engine.connect() as conn:
        if phone:
            people = await accounts_queries.customers_reached_at(
                conn, phone_digits=phone_digits(phone, "phone")
            )
        else:
            people = await accounts_queries.customers_reached_at(
                conn, email=checked_email(email, "email")
            )
        rows = await queries.entries_of(conn, people, scope, services.clock.now())
    return [entry_out(row) for row in rows]


async def offer_freed_seats(services: Services) -> int:
    """One pass of the background job: settle old offers, make new ones. Returns offers made."""
    now = services.clock.now()
    async with services.engine.begin() as conn:
        await queries.settle_offers(conn, now)
        shows = await queries.shows_with_waiting(conn, now)
    made = 0
    for show_id in shows:
        made += await _offer_for_show(services, show_id)
    return made


async def _offer_for_show(services: Services, show_id: uuid.UUID) -> int:
    async with services.engine.connect() as conn:
        line = await queries.waiting_in_order(conn, show_id)
    made = 0
    for waiting in line:
        try:
            block = await inventory.suggest_best(
                services, show_id, waiting.seats_wanted, waiting.seat_type, accessible=False
            )
        except Conflict:
            break  # first come, first served: nobody jumps the head of the line
        if not await _offer(services, show_id, waiting, block.seat_ids):
            break
        made += 1
    return made


async def _offer(
    services: Services, show_id: uuid.UUID, waiting: Any, seat_ids: list[uuid.UUID]
) -> bool:
    terms = await inventory.load_terms(services, show_id)
    now = services.clock.now()
    target = HoldTarget(
        hold_id=uuid.uuid4(),
        show_id=show_id,
        buyer_id=waiting.user_id,
        seat_ids=tuple(sorted(seat_ids)),
        now=now,
        expires_at=now + timedelta(minutes=terms.hold_minutes),
        accessible=False,
        channel="online",
        kind=HoldKind.WAITLIST_OFFER.value,
        prices=terms.prices,
    )
    try:
        result = await inventory.strategy(services).hold(services.driver_pool, target)
    except SeatsUnavailable:
        return False  # a buyer was faster; the next pass tries again
    async with services.engine.begin() as conn:
        await queries.mark_offered(
            conn,
            waiting.id,
            target.hold_id,
            target.expires_at,
            {
                "entry_id": waiting.id,
                "user_id": waiting.user_id,
                "show_id": show_id,
                "hold_id": target.hold_id,
                "seat_ids": list(target.seat_ids),
                "expires_at": target.expires_at.isoformat(),
                # A guest has no login to book with: the message sends them to the counter.
                "at_box_office": waiting.is_guest,
            },
        )
    inventory.feed(services).publish(
        show_id, result.sequence, SeatStatus.BLOCKED.value, result.seats
    )
    return True
