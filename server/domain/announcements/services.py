"""Announcements: a message from the cinema to everyone holding seats for some shows.

Nothing is sent from here: one ``announcement`` outbox event per show (its payload names the
show, so the notifications worker finds the audience when it delivers) is written in the
request's transaction, so the message goes out if, and only if, the request commits.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import Role
from server.contracts.notifications import Announcement
from server.contracts.reports import AnnouncedShow, AnnouncementIn, AnnouncementOut
from server.domain.accounts.guards import require_role, require_theater
from server.domain.accounts.principal import Principal
from server.domain.admin.local_time import local_text
from server.domain.admin.queries import theaters_of_shows
from server.domain.announcements import queries
from server.domain.booking.queries import insert_audit
from server.domain.errors import Invalid, NotFound
from server.domain.notifications.outbox import enqueue
from server.domain.reports.analytics import own_theater

MAX_MESSAGE = 2000
MAX_SUBJECT = 150
MAX_DAYS = 31
MAX_SHOWS = 500
DEFAULT_SUBJECT = "A message about your show"


async def announce(
    session: AsyncSession, principal: Principal, body: AnnouncementIn
) -> AnnouncementOut:
    require_role(principal, Role.THEATER_ADMIN)
    message, subject = _wording(body)
    audiences = await _audiences(session, principal, body)
    told = [show for show in audiences.shows if show.reach.bookings > show.reach.unreachable]
    applied = not body.dry_run and bool(told)
    if applied:
        event_ids = [
            await enqueue(
                session,
                "announcement",
                Announcement(subject=subject, message=message, show_id=show.show_id),
            )
            for show in told
        ]
        await insert_audit(
            await session.connection(),
            actor_id=principal.user_id,
            action="announcement.sent",
            entity="outbox",
            entity_id=str(event_ids[0]),
            detail={
                "subject": subject,
                "show_ids": [str(show.show_id) for show in told],
                "event_ids": event_ids,
                "customers": audiences.everyone.customers,
            },
        )
        await session.commit()
    return AnnouncementOut(
        subject=subject,
        message=message,
        dry_run=body.dry_run,
        applied=applied,
        shows=[_shown(show) for show in audiences.shows],
        bookings=audiences.everyone.bookings,
        customers=audiences.everyone.customers,
        unreachable=audiences.everyone.unreachable,
        events=len(told) if applied else 0,
    )


def _wording(body: AnnouncementIn) -> tuple[str, str]:
    message = body.message.strip()
    subject = (body.subject or "").strip() or DEFAULT_SUBJECT
    if not message:
        raise Invalid("The message is empty; write what customers should know.")
    if len(message) > MAX_MESSAGE:
        raise Invalid(
            f"The message has {len(message)} characters; keep it to {MAX_MESSAGE} or fewer."
        )
    if len(subject) > MAX_SUBJECT or "\n" in subject:
        raise Invalid(f"The subject must be one line of at most {MAX_SUBJECT} characters.")
    return message, subject


async def _audiences(
    session: AsyncSession, principal: Principal, body: AnnouncementIn
) -> queries.Audiences:
    """The audiences of the shows asked for, once the caller may reach them all."""
    if body.show_ids and body.theater_id is None:
        await _check_shows(session, principal, set(body.show_ids))
        return await queries.audience_of_shows(session, body.show_ids)
    if body.theater_id is not None and not body.show_ids:
        theater = await own_theater(session, principal, body.theater_id)
        first, last = _dates(body)
        return await queries.audience_of_theater(
            session, body.theater_id, theater.timezone, first, last
        )
    raise Invalid(
        "Name the shows (show_ids) or a theater and its local dates (theater_id, date_from, "
        "date_to), not both and not neither."
    )


def _dates(body: AnnouncementIn) -> tuple[date, date]:
    if body.date_from is None:
        raise Invalid("Give date_from (and date_to) with a theater: the local dates of the shows.")
    last = body.date_to or body.date_from
    if not timedelta(0) <= last - body.date_from < timedelta(days=MAX_DAYS):
        raise Invalid(
            f"date_from {body.date_from} to date_to {last} must be in order and at most "
            f"{MAX_DAYS} days long."
        )
    return body.date_from, last


async def _check_shows(
    session: AsyncSession, principal: Principal, show_ids: set[uuid.UUID]
) -> None:
    if len(show_ids) > MAX_SHOWS:
        raise Invalid(f"{len(show_ids)} shows are too many at once; send at most {MAX_SHOWS}.")
    theaters = await theaters_of_shows(session, show_ids)
    missing = sorted(str(s) for s in show_ids - theaters.keys())
    if missing:
        raise NotFound(
            f"There is no show {', '.join(missing)}; `bms admin schedule list` shows yours."
        )
    for theater_id in set(theaters.values()):
        require_theater(principal, theater_id)


def _shown(show: queries.ShowAudience) -> AnnouncedShow:
    return AnnouncedShow(
        show_id=show.show_id,
        theater_name=show.theater_name,
        screen_name=show.screen_name,
        title=show.title,
        starts_at=show.starts_at,
        starts_local=local_text(show.starts_at, show.timezone),
        bookings=show.reach.bookings,
        customers=show.reach.customers,
        unreachable=show.reach.unreachable,
    )
