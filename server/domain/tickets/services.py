"""Issuing tickets and checking them in at the door.

A check-in admits a ticket once. It is refused, with the reason, when the payload cannot be
read at all (scan again), its signature does not verify (forged or altered), the booking is cancelled or not confirmed, a
newer ticket replaced this one, the show is on another day (in the theater's time zone), or
the ticket was already used (saying when and where).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.checkout import CheckinOut, CheckinRequest, PublicKeyOut, TicketOut
from server.contracts.enums import BookingStatus, Role
from server.domain.accounts.guards import require_role, require_theater
from server.domain.accounts.principal import Principal
from server.domain.booking import queries
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.tickets import signing
from server.domain.tickets.signing import Forged, TicketClaims, Unreadable
from server.infra.state import Services

# Bookings whose tickets open the door (a partly cancelled booking still admits its other seats).
ADMITTED_STATUSES = {BookingStatus.CONFIRMED.value, BookingStatus.PARTIALLY_CANCELLED.value}


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def local_time(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M} ({timezone})"


def issue(
    services: Services,
    *,
    code: str,
    show_id: uuid.UUID,
    show_date: date,
    seats: list[str],
    now: datetime,
) -> tuple[str, TicketClaims]:
    """A signed QR payload for a booking, and the claims it carries."""
    claims = signing.claims_for(code, show_id, show_date, seats, now)
    return signing.sign(services.secret, claims), claims


async def reissue(
    services: Services, conn: AsyncConnection, code: str, seats: list[str], now: datetime
) -> list[str]:
    """A fresh signed ticket for the seats a booking still holds, in place of its old one,
    which the door then refuses as reissued (naming the seats cancelled since). Returns the
    seats the new ticket admits, or nothing when the booking has no ticket to replace."""
    ticket = await queries.lock_ticket(conn, code)
    if ticket is None:
        return []
    old = read(services, ticket.payload)
    payload, _ = issue(
        services, code=code, show_id=old.show_id, show_date=old.show_date, seats=seats, now=now
    )
    await queries.replace_ticket(conn, ticket.ticket_id, payload, now)
    return seats


def read(services: Services, payload: str) -> TicketClaims:
    """The claims of a payload this server issued (stored tickets always verify)."""
    return signing.verify(signing.public_key(services.secret), payload)[0]


def ticket_out(
    payload: str,
    claims: TicketClaims,
    *,
    pickup_code: str | None,
    checked_in_at: datetime | None,
    checkin_location: str | None,
) -> TicketOut:
    base = f"/api/v1/bookings/{claims.code}/ticket"
    return TicketOut(
        code=claims.code,
        show_id=claims.show_id,
        show_date=claims.show_date,
        seats=claims.seats,
        issued_at=datetime.fromtimestamp(claims.issued_at, UTC),
        qr_payload=payload,
        png_url=f"{base}.png",
        svg_url=f"{base}.svg",
        text_url=f"{base}.txt",
        snack_pickup_code=pickup_code,
        checked_in_at=checked_in_at,
        checkin_location=checkin_location,
    )


def public_key(services: Services) -> PublicKeyOut:
    return PublicKeyOut(
        algorithm="Ed25519",
        public_key=signing.b64(signing.public_key_raw(services.secret)),
        pem=signing.public_key_pem(services.secret),
        payload_format=signing.PAYLOAD_FORMAT,
    )


async def checkin(services: Services, principal: Principal, body: CheckinRequest) -> CheckinOut:
    require_role(principal, Role.CLERK, Role.KIOSK, Role.THEATER_ADMIN)
    try:
        claims, payload = signing.verify(signing.public_key(services.secret), body.payload)
    except Unreadable:
        raise Invalid(
            "Could not read the ticket: scan it again (hold the code flat and steady); if it "
            "still fails, send the customer to the box office.",
            reason="unreadable",
        ) from None
    except Forged:
        raise Invalid(
            "This ticket is forged or altered: its signature does not match. Do not admit; "
            "send the customer to the box office.",
            reason="forged",
        ) from None
    now = services.clock.now()
    location = (body.location or "").strip()[:200] or None
    async with services.engine.begin() as conn:
        ticket = await queries.lock_ticket(conn, claims.code)
        if ticket is None:
            raise NotFound(
                f"There is no booking {claims.code}; send the customer to the box office."
            )
        require_theater(principal, ticket.theater_id)
        _check_admissible(services, claims, ticket, payload, now)
        await queries.mark_checked_in(
            conn, ticket.ticket_id, at=now, by=principal.user_id, location=location
        )
    return CheckinOut(
        admitted=True,
        code=claims.code,
        show_id=claims.show_id,
        seats=claims.seats,
        checked_in_at=now,
        location=location,
        detail=f"Admit {len(claims.seats)}: {', '.join(claims.seats)}.",
    )


def _check_admissible(
    services: Services,
    claims: TicketClaims,
    ticket: queries.TicketRow,
    payload: str,
    now: datetime,
) -> None:
    if ticket.booking_status == BookingStatus.CANCELLED.value:
        raise Conflict(f"Booking {claims.code} was cancelled; do not admit.", reason="cancelled")
    if ticket.booking_status not in ADMITTED_STATUSES:
        raise Conflict(
            f"Booking {claims.code} is {ticket.booking_status.lower()}, not confirmed; send the "
            "customer to the box office.",
            reason=ticket.booking_status.lower(),
        )
    if ticket.payload != payload:
        raise _superseded(claims, read(services, ticket.payload))
    today = local_date(now, ticket.timezone)
    if claims.show_date != today:
        raise Conflict(
            f"This ticket is for {claims.show_date.isoformat()}, not today ({today.isoformat()}).",
            reason="other_day",
            show_date=claims.show_date.isoformat(),
        )
    if ticket.checked_in_at is not None:
        where = f" at {ticket.checkin_location}" if ticket.checkin_location else ""
        raise Conflict(
            f"Ticket {claims.code} was already used on "
            f"{local_time(ticket.checked_in_at, ticket.timezone)}{where}; do not admit again.",
            reason="already_used",
            checked_in_at=ticket.checked_in_at.isoformat(),
            location=ticket.checkin_location,
        )


def _superseded(claims: TicketClaims, latest: TicketClaims) -> Conflict:
    """A payload the booking's latest ticket replaced, naming the seats cancelled since."""
    cancelled = [seat for seat in claims.seats if seat not in latest.seats]
    seats = ", ".join(cancelled)
    which = f"seat {seats} was" if len(cancelled) == 1 else f"seats {seats} were"
    return Conflict(
        f"This ticket for {claims.code} was reissued"
        f"{f' after {which} cancelled' if cancelled else ''}; do not admit with it. The latest "
        f"ticket admits {', '.join(latest.seats)}: ask for it.",
        reason="superseded",
        cancelled_seats=cancelled,
        seats=latest.seats,
    )
