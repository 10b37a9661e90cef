"""SQL for the outbox and notifications."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.contracts.enums import NotificationStatus
from server.db.models import Notification, OutboxEvent


async def insert_event(conn: AsyncConnection | AsyncSession, topic: str, payload_json: str) -> int:
    result = await conn.execute(
        text(
            "INSERT INTO outbox (topic, payload) VALUES (:topic, CAST(:payload AS jsonb))"
            " RETURNING id"
        ),
        {"topic": topic, "payload": payload_json},
    )
    return int(result.scalar_one())


async def claim_due(
    conn: AsyncConnection, *, now: datetime, lease_until: datetime, limit: int
) -> list[Row[Any]]:
    """Up to ``limit`` due events, oldest first, their next attempt pushed to ``lease_until``
    so that no other worker takes them meanwhile (SKIP LOCKED: concurrent claims never wait
    or overlap). The claim commits at once: nothing stays locked while messages go out."""
    rows = await conn.execute(
        text(
            """
            UPDATE outbox SET next_attempt_at = :until
             WHERE id IN (SELECT id FROM outbox
                           WHERE processed_at IS NULL
                             AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
                           ORDER BY id
                           LIMIT :limit
                             FOR UPDATE SKIP LOCKED)
         RETURNING id, topic, payload, attempts
            """
        ),
        {"now": now, "until": lease_until, "limit": limit},
    )
    return sorted(rows.all(), key=lambda row: int(row.id))


async def extend_claims(conn: AsyncConnection, event_ids: list[int], until: datetime) -> None:
    """Keep events that are still being delivered out of other workers' claims."""
    await conn.execute(
        text(
            "UPDATE outbox SET next_attempt_at = :until"
            " WHERE id = ANY(:ids) AND processed_at IS NULL"
        ),
        {"ids": event_ids, "until": until},
    )


async def record_attempt(
    conn: AsyncConnection,
    event_id: int,
    *,
    now: datetime,
    error: str | None,
    retry_at: datetime | None,
) -> None:
    """Count the attempt; the event is processed unless it is to be retried at ``retry_at``."""
    values: dict[str, Any] = {
        "attempts": OutboxEvent.attempts + 1,
        "last_error": error,
        "processed_at": now if retry_at is None else None,
        "next_attempt_at": retry_at,
    }
    await conn.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(**values))


SHOW_FACTS = """
       m.title AS movie_title, t.name AS theater_name, t.address AS theater_address,
       sc.name AS screen_name, sh.starts_at, c.timezone
"""
SHOW_JOINS = """
  JOIN movies m ON m.id = sh.movie_id
  JOIN screens sc ON sc.id = sh.screen_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN cities c ON c.id = t.city_id
"""
USER_CONTACT = """
       u.id AS user_id, u.name, u.role, u.email, u.phone,
       u.preferences->>'contact_email' AS guest_email
"""
BOOKINGS = f"""
SELECT b.code, b.currency, b.contact_email, b.contact_phone, so.pickup_code,
       ARRAY(SELECT s.label FROM booking_seats bs JOIN seats s ON s.id = bs.seat_id
              WHERE bs.booking_id = b.id AND bs.status = 'ACTIVE' ORDER BY s.y, s.x) AS seats,
       {USER_CONTACT}, {SHOW_FACTS}
  FROM bookings b
  JOIN users u ON u.id = b.user_id
  JOIN shows sh ON sh.id = b.show_id
  {SHOW_JOINS}
  LEFT JOIN snack_orders so ON so.booking_id = b.id
"""


async def booking(conn: AsyncConnection, booking_id: uuid.UUID) -> Row[Any] | None:
    """A booking with its holder's contact, its seats still held and its show."""
    rows = await conn.execute(text(BOOKINGS + " WHERE b.id = :id"), {"id": booking_id})
    return rows.first()


async def bookings_of_show(conn: AsyncConnection, show_id: uuid.UUID) -> Sequence[Row[Any]]:
    """Every booking of a show that still holds a seat."""
    rows = await conn.execute(
        text(
            BOOKINGS + " WHERE b.show_id = :show AND EXISTS (SELECT 1 FROM booking_seats bs"
            " WHERE bs.booking_id = b.id AND bs.status = 'ACTIVE') ORDER BY b.created_at"
        ),
        {"show": show_id},
    )
    return rows.all()


async def show(conn: AsyncConnection, show_id: uuid.UUID) -> Row[Any] | None:
    rows = await conn.execute(
        text(f"SELECT {SHOW_FACTS} FROM shows sh {SHOW_JOINS} WHERE sh.id = :id"), {"id": show_id}
    )
    return rows.first()


async def users(conn: AsyncConnection, user_ids: Sequence[uuid.UUID]) -> Sequence[Row[Any]]:
    rows = await conn.execute(
        text(f"SELECT {USER_CONTACT} FROM users u WHERE u.id = ANY(:ids) ORDER BY u.name"),
        {"ids": list(user_ids)},
    )
    return rows.all()


async def add_notifications(conn: AsyncConnection, drafts: Sequence[dict[str, Any]]) -> None:
    """Write the notifications of an event once: a retry finds them by their dedupe keys."""
    await conn.execute(
        pg_insert(Notification)
        .values(list(drafts))
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


async def notifications(conn: AsyncConnection, dedupe_keys: Sequence[str]) -> list[Any]:
    rows = await conn.execute(
        select(
            Notification.id,
            Notification.channel,
            Notification.recipient,
            Notification.subject,
            Notification.body,
            Notification.status,
        )
        .where(Notification.dedupe_key.in_(dedupe_keys))
        .order_by(Notification.channel, Notification.recipient)
    )
    return list(rows)


async def mark_sent(conn: AsyncConnection, notification_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(status=NotificationStatus.SENT.value, sent_at=now, error=None)
    )


async def note_failure(
    conn: AsyncConnection, notification_id: uuid.UUID, error: str, *, final: bool
) -> None:
    """Keep the error; a final failure also ends the notification (FAILED)."""
    values: dict[str, Any] = {"error": error}
    if final:
        values["status"] = NotificationStatus.FAILED.value
    await conn.execute(
        update(Notification).where(Notification.id == notification_id).values(**values)
    )
