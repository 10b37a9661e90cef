"""Show reminders: each confirmed booking's customer is told once, ``BMS_REMINDER_HOURS``
(default 3) before the show, through the outbox (``booking.reminder``).

The rule, by the injected clock: a booking is reminded when its show starts within the next
``reminder_hours`` and is still scheduled, the booking still holds seats (CONFIRMED or
PARTIALLY_CANCELLED), and it was made before that window opened. A booking made inside the
window gets none: its confirmation, minutes or an hour old, says all a reminder would. Nor
does any booking whose show starts within ``LAST_CALL`` (say the server was down when the
window opened): a reminder then would arrive as the lights go down.

Every server process runs the job; the database keeps it to one reminder per booking (see
``queries.claim_reminders``).
"""

from __future__ import annotations

from datetime import timedelta

from server.contracts.notifications import BookingReminder
from server.domain.booking import queries
from server.domain.notifications.outbox import enqueue_claimed
from server.infra.state import Services

INTERVAL_SECONDS = 30.0
LAST_CALL = timedelta(minutes=30)
BATCH_SIZE = 200


async def send_due(services: Services, *, limit: int = BATCH_SIZE) -> int:
    """Queue the reminders that are due; returns how many. A batch at a time, until one is
    short: a release night's full house all falls due at the same moment."""
    lead = timedelta(hours=services.settings.reminder_hours)
    return await enqueue_claimed(
        services.engine,
        lambda conn, batch: queries.claim_reminders(
            conn, now=services.clock.now(), lead=lead, last_call=LAST_CALL, limit=batch
        ),
        "booking.reminder",
        lambda booking_id: BookingReminder(booking_id=booking_id),
        limit,
    )
