"""SQL for the waiting list."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def free_seat_count(
    conn: AsyncConnection, show_id: uuid.UUID, seat_type: str | None, now: datetime
) -> int:
    count = await conn.scalar(
        text(
            """
            SELECT count(*) FROM show_seats ss JOIN seats se ON se.id = ss.seat_id
             WHERE ss.show_id = :show AND NOT ss.accessible_only
               AND (ss.status = 'AVAILABLE' OR (ss.status = 'BLOCKED' AND ss.held_until <= :now))
               AND (CAST(:type AS text) IS NULL OR se.seat_type = :type)
            """
        ),
        {"show": show_id, "type": seat_type, "now": now},
    )
    return int(count or 0)


# The partial unique index: one WAITING or OFFERED entry per customer per show.
LIVE_ENTRY_INDEX = "uq_waitlist_entries_live_per_customer"


async def insert_entry(
    conn: AsyncConnection,
    show_id: uuid.UUID,
    user_id: uuid.UUID,
    seats_wanted: int,
    seat_type: str | None,
) -> Any:
    return (
        await conn.execute(
            text(
                """
                -- created_at is the database's own time: the line's order is arrival order.
                INSERT INTO waitlist_entries (id, show_id, user_id, seats_wanted, seat_type,
                                              status, created_at)
                VALUES (gen_random_uuid(), :show, :user, :n, :type, 'WAITING', clock_timestamp())
                RETURNING id, show_id, seats_wanted, seat_type, status, offered_hold_id,
                          offer_expires_at, created_at, user_id
                """
            ),
            {"show": show_id, "user": user_id, "n": seats_wanted, "type": seat_type},
        )
    ).one()


async def live_entry_of(conn: AsyncConnection, show_id: uuid.UUID, user_id: uuid.UUID) -> Any:
    return (
        await conn.execute(
            text(
                "SELECT id FROM waitlist_entries WHERE show_id = :show AND user_id = :user"
                " AND status IN ('WAITING', 'OFFERED')"
            ),
            {"show": show_id, "user": user_id},
        )
    ).first()


# An entry with its place in line, its show and whose it is (and how they are reached).
_ENTRIES = """
SELECT w.id, w.show_id, w.user_id, w.seats_wanted, w.seat_type, w.status,
       w.offered_hold_id, w.offer_expires_at, w.created_at,
       (SELECT count(*) + 1 FROM waitlist_entries o
         WHERE o.show_id = w.show_id AND o.status = 'WAITING'
           AND o.created_at < w.created_at) AS position,
       sh.theater_id, sh.starts_at, m.title AS movie_title, t.name AS theater_name,
       u.name AS customer_name, u.phone AS customer_phone,
       COALESCE(u.email, u.preferences->>'contact_email') AS customer_email
  FROM waitlist_entries w
  JOIN shows sh ON sh.id = w.show_id
  JOIN movies m ON m.id = sh.movie_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN users u ON u.id = w.user_id
"""
FOUND_LIMIT = 50


async def entry(conn: AsyncConnection, entry_id: uuid.UUID) -> Any:
    return (await conn.execute(text(_ENTRIES + " WHERE w.id = :id"), {"id": entry_id})).first()


async def entries_of(
    conn: AsyncConnection,
    user_ids: list[uuid.UUID],
    theater_ids: frozenset[uuid.UUID] | None,
    now: datetime,
) -> list[Any]:
    """These people's entries for shows not yet started, at these theaters (None: all), the
    soonest show first."""
    rows = await conn.execute(
        text(
            _ENTRIES
            + """
             WHERE w.user_id = ANY(:users) AND sh.starts_at > :now
               AND (CAST(:theaters AS uuid[]) IS NULL OR sh.theater_id = ANY(:theaters))
             ORDER BY sh.starts_at, w.created_at
             LIMIT :limit
            """
        ),
        {
            "users": user_ids,
            "now": now,
            "theaters": None if theater_ids is None else list(theater_ids),
            "limit": FOUND_LIMIT,
        },
    )
    return list(rows)


async def settle_offers(conn: AsyncConnection, now: datetime) -> None:
    """Offers whose hold was booked are FULFILLED; offers whose hold ended otherwise (or ran
    out) are EXPIRED, and the line moves on."""
    await conn.execute(
        text(
            """
            UPDATE waitlist_entries w
               SET status = CASE WHEN h.status = 'CONVERTED' THEN 'FULFILLED' ELSE 'EXPIRED' END
              FROM holds h
             WHERE w.status = 'OFFERED' AND h.id = w.offered_hold_id
               AND (h.status <> 'ACTIVE' OR h.expires_at <= :now)
            """
        ),
        {"now": now},
    )


async def shows_with_waiting(conn: AsyncConnection, now: datetime) -> list[uuid.UUID]:
    rows = await conn.execute(
        text(
            """
            SELECT DISTINCT w.show_id FROM waitlist_entries w JOIN shows sh ON sh.id = w.show_id
             WHERE w.status = 'WAITING' AND sh.status = 'SCHEDULED' AND sh.starts_at > :now
            """
        ),
        {"now": now},
    )
    return [row.show_id for row in rows]


async def waiting_in_order(conn: AsyncConnection, show_id: uuid.UUID) -> list[Any]:
    rows = await conn.execute(
        text(
            "SELECT w.id, w.user_id, w.seats_wanted, w.seat_type, u.is_guest"
            " FROM waitlist_entries w JOIN users u ON u.id = w.user_id"
            " WHERE w.show_id = :show AND w.status = 'WAITING' ORDER BY w.created_at, w.id"
        ),
        {"show": show_id},
    )
    return list(rows)


async def mark_offered(
    conn: AsyncConnection,
    entry_id: uuid.UUID,
    hold_id: uuid.UUID,
    expires_at: datetime,
    payload: dict[str, Any],
) -> None:
    """Record the offer and its notification in one transaction (the outbox row)."""
    await conn.execute(
        text(
            "UPDATE waitlist_entries SET status = 'OFFERED', offered_hold_id = :hold,"
            " offer_expires_at = :expires WHERE id = :id AND status = 'WAITING'"
        ),
        {"id": entry_id, "hold": hold_id, "expires": expires_at},
    )
    await conn.execute(
        text("INSERT INTO outbox (topic, payload) VALUES ('waitlist.offered', CAST(:p AS jsonb))"),
        {"p": json.dumps(payload, default=str)},
    )


async def cancel_entry(conn: AsyncConnection, entry_id: uuid.UUID) -> None:
    await conn.execute(
        text(
            "UPDATE waitlist_entries SET status = 'CANCELLED'"
            " WHERE id = :id AND status IN ('WAITING', 'OFFERED')"
        ),
        {"id": entry_id},
    )
