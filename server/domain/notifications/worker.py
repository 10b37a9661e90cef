"""The outbox worker: turns outbox events into e-mails and SMS and delivers them.

Each pass (``deliver_due``; every second every server process runs passes back to back until
one finds less than a full batch, ``drain``) claims a batch of due events
(``FOR UPDATE SKIP LOCKED``, so concurrent workers never take the same event) by pushing their
next attempt a ``LEASE`` ahead, and commits at once: no transaction stays open while messages go
out, however slow the mail server. While it delivers, the pass renews the lease of the events it
has not closed yet, so an announcement to a full house keeps its claim however long it takes;
only a worker that dies mid-delivery makes its events wait for the lease to run out. For each
event it:

1. finds the template of the topic (none: the event is closed with a warning, never retried)
   and the people to tell, and renders one notification per recipient and channel;
2. writes them once, keyed ``{event id}:{channel}:{recipient}``, each in its own committed
   transaction as it goes out, so a worker that dies midway leaves SENT rows that the next
   attempt skips instead of sending again;
3. closes the event when everything went out, or counts the attempt and sets the next try
   ``retry_delay`` after now (30 s, doubling to an hour), up to ``MAX_ATTEMPTS``; then it gives
   up, keeping the last error on the event and FAILED on its notifications.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.enums import NotificationStatus, Role
from server.contracts.notifications import MessageChannel
from server.domain.notifications import queries
from server.domain.notifications.providers import (
    DeliveryFailed,
    Outgoing,
    Providers,
    build_providers,
    load_settings,
)
from server.domain.notifications.templates import (
    TOPICS,
    BookingFacts,
    Letter,
    MissingFacts,
    Occasion,
    Recipient,
    ShowFacts,
)
from server.infra.state import Services

log = logging.getLogger("bms.notifications")

INTERVAL_SECONDS = 1.0
BATCH_SIZE = 20
# Events of one pass delivered side by side. One at a time, each event's dozen database and
# mail round trips wait their turn on a server busy with a release night's requests, and
# delivery fell to a few events a second; more at once would take database connections
# those requests need.
DELIVERIES_AT_ONCE = 4
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
MAX_DEDUPE_KEY = 200  # the column's width
MAX_SUBJECT = 300
LEASE = timedelta(minutes=1)  # by the injected clock, like every time rule
RENEW_EVERY_SECONDS = 20.0  # real time: how often a pass still delivering renews its lease


class Undeliverable(Exception):
    """The event can never become a message (unknown topic, bad payload, nobody to tell)."""


@dataclass
class Failures:
    passing: list[str] = field(default_factory=list)  # worth another try later
    lasting: list[str] = field(default_factory=list)  # refused for good


@dataclass(frozen=True, slots=True)
class Outcome:
    error: str | None = None
    retry_at: datetime | None = None


def job(services: Services) -> Callable[[], Awaitable[int]]:
    """The background job. The delivery settings are read now, so a bad one stops start-up
    with its name instead of failing every second."""
    providers = build_providers(load_settings(), services.settings.data_dir / "notifications")
    return lambda: drain(services, providers)


async def drain(services: Services, providers: Providers, *, limit: int = BATCH_SIZE) -> int:
    """Passes back to back for as long as each finds a full batch; returns how many events
    they handled. One pass a second would cap delivery at ``limit`` events a second per
    process, and a release night confirms far more bookings than that: their e-mails would
    fall minutes behind. Events that failed wait for their retry time, so this ends."""
    handled = 0
    while True:
        passed = await deliver_due(services, providers, limit=limit)
        handled += passed
        if passed < limit:
            return handled


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


async def deliver_due(
    services: Services,
    providers: Providers,
    *,
    limit: int = BATCH_SIZE,
    renew_every: float = RENEW_EVERY_SECONDS,
) -> int:
    """One pass over the due events; returns how many it handled."""
    now = services.clock.now()
    async with services.engine.begin() as conn:
        events = await queries.claim_due(conn, now=now, lease_until=now + LEASE, limit=limit)
    if not events:
        return 0
    claim = Claim(services, [int(event.id) for event in events])
    at_once = asyncio.Semaphore(DELIVERIES_AT_ONCE)

    async def deliver(event: Row[Any]) -> None:
        async with at_once:
            await claim.close(event.id, await _attempt(services, providers, event))

    async with claim.renewed_every(renew_every), asyncio.TaskGroup() as deliveries:
        for event in events:
            deliveries.create_task(deliver(event))
    return len(events)


class Claim:
    """The events of one pass that are not closed yet, and the renewal of their lease."""

    def __init__(self, services: Services, event_ids: list[int]) -> None:
        self.services = services
        self.open = event_ids
        self.finished = asyncio.Event()
        # A renewal and a close never interleave, so no renewal lands on a closed event and
        # overwrites the retry time its attempt recorded.
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def renewed_every(self, seconds: float) -> AsyncIterator[None]:
        renewal = asyncio.create_task(self._renew(seconds))
        try:
            yield
        finally:
            self.finished.set()
            await renewal

    async def _renew(self, seconds: float) -> None:
        while not await self._finished_within(seconds):
            try:
                async with self.lock, self.services.engine.begin() as conn:
                    until = self.services.clock.now() + LEASE
                    await queries.extend_claims(conn, self.open, until)
            except Exception as exc:
                # The events go back to every worker when the lease runs out; the dedupe keys
                # keep what was already sent from going out twice.
                log.warning("could not renew the claim on outbox events %s: %s", self.open, exc)

    async def _finished_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.finished.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self, event_id: int, outcome: Outcome) -> None:
        async with self.lock, self.services.engine.begin() as conn:
            await queries.record_attempt(
                conn,
                event_id,
                now=self.services.clock.now(),
                error=outcome.error,
                retry_at=outcome.retry_at,
            )
        self.open.remove(event_id)


async def _attempt(services: Services, providers: Providers, event: Row[Any]) -> Outcome:
    last_try = event.attempts + 1 >= MAX_ATTEMPTS
    try:
        drafts = await _drafts(services, event)
        failures = await _send(services, providers, drafts, last_try=last_try)
    except Undeliverable as why:
        log.warning("outbox event %s (%s) closed undelivered: %s", event.id, event.topic, why)
        return Outcome(error=str(why))
    except Exception as exc:
        # A bug or a lookup that broke: tried again later like a failed send, so one bad
        # event can neither stop the others nor be retried forever.
        log.exception("outbox event %s (%s) failed", event.id, event.topic)
        failures = Failures(passing=[f"{type(exc).__name__}: {exc}"])
    if failures.passing and not last_try:
        retry_at = services.clock.now() + retry_delay(event.attempts + 1)
        return Outcome(error="; ".join(failures.passing), retry_at=retry_at)
    if failures.passing:
        log.warning(
            "outbox event %s (%s): giving up after %d attempts: %s",
            event.id,
            event.topic,
            MAX_ATTEMPTS,
            "; ".join(failures.passing),
        )
    return Outcome(error="; ".join(failures.passing + failures.lasting) or None)


async def _drafts(services: Services, event: Row[Any]) -> list[dict[str, Any]]:
    """The notification rows of an event: one per recipient and channel."""
    spec = TOPICS.get(event.topic)
    if spec is None:
        raise Undeliverable(
            f"no template for topic {event.topic!r}; add one in "
            "server/domain/notifications/templates.py"
        )
    try:
        payload = msgspec.convert(event.payload, spec.payload)
    except msgspec.ValidationError as exc:
        raise Undeliverable(f"the payload does not fit topic {event.topic!r}: {exc}") from exc
    async with services.engine.connect() as conn:
        occasions = await _audience(conn, payload)
    drafts: dict[str, dict[str, Any]] = {}
    for occasion in occasions:
        try:
            letter = spec.render(payload, occasion)
        except MissingFacts as exc:
            raise Undeliverable(str(exc)) from exc
        for draft in _notifications(event.id, occasion.recipient, letter, services.clock.now()):
            drafts.setdefault(draft["dedupe_key"], draft)
    if not drafts:
        raise Undeliverable("nobody to tell: no e-mail address or phone number on file")
    return list(drafts.values())


async def _audience(conn: AsyncConnection, payload: Any) -> list[Occasion]:
    """Who hears about an event, read off its payload's fields (see the contracts)."""
    booking_id = getattr(payload, "booking_id", None)
    if booking_id is not None:
        row = await queries.booking(conn, booking_id)
        if row is None:
            raise Undeliverable(f"booking {booking_id} does not exist")
        return [_holder_occasion(row)]
    show_id = getattr(payload, "show_id", None)
    user_id = getattr(payload, "user_id", None)
    if user_id is not None:
        found = await queries.show(conn, show_id) if show_id is not None else None
        show = _show_facts(found) if found is not None else None
        return [Occasion(_person(row), show=show) for row in await queries.users(conn, [user_id])]
    # An announcement: everyone holding seats for the show, and the users it names.
    occasions = []
    if show_id is not None:
        occasions += [
            _holder_occasion(row) for row in await queries.bookings_of_show(conn, show_id)
        ]
    named = await queries.users(conn, getattr(payload, "user_ids", []))
    return occasions + [Occasion(_person(row)) for row in named]


def _person(row: Row[Any]) -> Recipient:
    """A user's own addresses; guests keep their e-mail in their preferences."""
    return Recipient(row.user_id, row.name, row.email or row.guest_email, row.phone)


def _holder_occasion(row: Row[Any]) -> Occasion:
    """The booking's own contact comes first. A booking made by staff at a till or a kiosk
    falls back to nobody: the clerk is not the audience of a walk-up customer's ticket."""
    if row.role == Role.CUSTOMER:
        user = _person(row)
    else:
        user = Recipient(row.user_id, "there", None, None)
    recipient = Recipient(
        row.user_id,
        user.name,
        row.contact_email or user.email,
        row.contact_phone or user.phone,
    )
    booking = BookingFacts(
        code=row.code, currency=row.currency, seats=tuple(row.seats), pickup_code=row.pickup_code
    )
    return Occasion(recipient, show=_show_facts(row), booking=booking)


def _show_facts(row: Row[Any]) -> ShowFacts:
    return ShowFacts(
        movie_title=row.movie_title,
        theater_name=row.theater_name,
        theater_address=row.theater_address,
        screen_name=row.screen_name,
        starts_at=row.starts_at,
        timezone=row.timezone,
    )


def dedupe_key(event_id: int, channel: str, recipient: str) -> str:
    key = f"{event_id}:{channel}:{recipient}"
    if len(key) <= MAX_DEDUPE_KEY:
        return key
    digest = hashlib.sha256(recipient.encode()).hexdigest()
    return f"{event_id}:{channel}:sha256:{digest}"


def _notifications(
    event_id: int, recipient: Recipient, letter: Letter, now: datetime
) -> list[dict[str, Any]]:
    channels = [
        (MessageChannel.EMAIL, recipient.email, letter.body),
        (MessageChannel.SMS, recipient.phone, letter.sms),
    ]
    return [
        {
            "user_id": recipient.user_id,
            "channel": channel.value,
            "recipient": address,
            "subject": letter.subject[:MAX_SUBJECT],
            "body": text,
            "status": NotificationStatus.PENDING.value,
            "dedupe_key": dedupe_key(event_id, channel.value, address),
            "created_at": now,
        }
        for channel, address, text in channels
        if address
    ]


async def _send(
    services: Services, providers: Providers, drafts: list[dict[str, Any]], *, last_try: bool
) -> Failures:
    """Send what is still PENDING, committing each outcome as soon as it is known."""
    async with services.engine.begin() as conn:
        await queries.add_notifications(conn, drafts)
        stored = await queries.notifications(conn, [draft["dedupe_key"] for draft in drafts])
    failures = Failures()
    for note in stored:
        if note.status != NotificationStatus.PENDING:
            continue
        message = Outgoing(note.recipient, note.subject, note.body, services.clock.now())
        try:
            await providers.for_channel(note.channel).send(message)
        except DeliveryFailed as failure:
            found = failures.lasting if failure.permanent else failures.passing
            found.append(f"{note.channel} to {note.recipient}: {failure}")
            async with services.engine.begin() as conn:
                await queries.note_failure(
                    conn, note.id, str(failure), final=last_try or failure.permanent
                )
            continue
        async with services.engine.begin() as conn:
            await queries.mark_sent(conn, note.id, services.clock.now())
    return failures
