"""SQL for the per-show seat inventory: the one place that changes show_seats.

The two statements on the stampede's hot path (``read_seats`` and ``take_seats``) run on the
asyncpg connection underneath SQLAlchemy's (see ``server/infra/database.py`` for why).
Everything else here goes through SQLAlchemy as usual.

Every statement that makes a seat BLOCKED treats an expired hold as free
(``status = 'BLOCKED' AND held_until <= :now``), so an expired hold never blocks a buyer, even
before the sweeper has run. The WHERE clause of each UPDATE re-checks the status, and
PostgreSQL re-evaluates it against the newest row version after any lock wait: two
transactions can never both turn the same seat BLOCKED.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.infra.database import fetch

FREE = "(ss.status = 'AVAILABLE' OR (ss.status = 'BLOCKED' AND ss.held_until <= :now))"
SELLABLE = "(NOT ss.accessible_only OR :sell_accessible)"


@dataclass(frozen=True, slots=True)
class SeatRow:
    seat_id: uuid.UUID
    status: str
    version: int
    held_until: datetime | None
    accessible_only: bool


@dataclass(frozen=True, slots=True)
class HoldTarget:
    """What a hold wants: the seats (sorted, so every path locks in the same order) and terms."""

    hold_id: uuid.UUID
    show_id: uuid.UUID
    buyer_id: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]
    now: datetime
    expires_at: datetime
    accessible: bool
    channel: str
    kind: str = "standard"
    name: str | None = None
    # Wheelchair/companion seats are on general sale once the release time before the show passed.
    accessible_released: bool = False
    # How many live holds this buyer may have on the show, this one included.
    max_holds: int = 1_000_000
    # Prices per seat type in force (dynamic pricing); None means the show's base prices.
    prices: dict[str, int] | None = None

    @property
    def may_take_accessible(self) -> bool:
        return self.accessible or self.accessible_released


_READ = (
    "SELECT seat_id, status, version, held_until, accessible_only FROM show_seats"
    " WHERE show_id = :show AND seat_id = ANY(CAST(:seats AS uuid[])) ORDER BY seat_id"
)


async def read_seats(
    conn: asyncpg.Connection, show_id: uuid.UUID, seat_ids: tuple[uuid.UUID, ...]
) -> list[SeatRow]:
    """The current rows of these seats, in seat order (no locks: the take re-checks them)."""
    rows = await fetch(conn, _READ, {"show": show_id, "seats": list(seat_ids)})
    return [SeatRow(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class SeatKind:
    label: str
    seat_type: str
    accessible_only: bool


_KINDS = (
    "SELECT se.id, se.label, se.seat_type, ss.accessible_only FROM show_seats ss"
    " JOIN seats se ON se.id = ss.seat_id WHERE ss.show_id = :show"
)


async def seat_kinds(conn: asyncpg.Connection, show_id: uuid.UUID) -> dict[uuid.UUID, SeatKind]:
    """Label, type and accessibility of every seat of the show."""
    rows = await fetch(conn, _KINDS, {"show": show_id})
    return {row[0]: SeatKind(row[1], row[2], row[3]) for row in rows}


def unavailable(rows: list[SeatRow], target: HoldTarget) -> list[uuid.UUID]:
    """Seats of the target that this buyer cannot take right now."""
    found = {row.seat_id: row for row in rows}
    out = []
    for seat_id in target.seat_ids:
        row = found.get(seat_id)
        if row is None or not _free(row, target):
            out.append(seat_id)
    return out


def _free(row: SeatRow, target: HoldTarget) -> bool:
    if row.accessible_only and not target.may_take_accessible:
        return False
    if row.status == "AVAILABLE":
        return True
    return row.status == "BLOCKED" and row.held_until is not None and row.held_until <= target.now


# One statement, all or nothing: lock the wanted rows that are still free, in seat order (so
# overlapping buyers never deadlock), and write only when every seat was free. Row locks live
# for the duration of this single statement, never across a client round trip, so a busy
# event loop cannot stretch lock hold times. PostgreSQL re-checks the WHERE clause after any
# lock wait, so a seat taken meanwhile simply drops out and the hold is refused.
_TAKE = f"""
WITH locked AS (
    SELECT ss.seat_id, ss.status AS old_status FROM show_seats ss {{versions_join}}
     WHERE ss.show_id = :show AND ss.seat_id = ANY(CAST(:seats AS uuid[]))
       AND {FREE} AND {SELLABLE} {{extra}}
     ORDER BY ss.seat_id
       FOR UPDATE OF ss
), quota AS (
    -- The per-buyer limit of live holds for this show, checked in the same statement.
    SELECT count(*) < :max_holds AS ok FROM holds
     WHERE show_id = :show AND buyer_id = :buyer AND status = 'ACTIVE' AND expires_at > :now
), complete AS (
    SELECT count(*) = :count AND (SELECT ok FROM quota) AS ok FROM locked
), taken AS (
    UPDATE show_seats ss
       SET status = 'BLOCKED', hold_id = :hold, held_until = :expires,
           version = ss.version + 1 {{set_fence}}
      FROM locked
     WHERE ss.show_id = :show AND ss.seat_id = locked.seat_id AND (SELECT ok FROM complete)
    RETURNING ss.seat_id, ss.version
), hold AS (
    INSERT INTO holds (id, show_id, buyer_id, status, kind, name, channel,
                       accessible_request, expires_at, created_at)
    SELECT :hold, :show, :buyer, 'ACTIVE', :kind, :name, :channel, :accessible, :expires, :now
     WHERE (SELECT ok FROM complete)
    RETURNING id
), priced AS (
    INSERT INTO hold_seats (hold_id, seat_id, seat_type, price_minor)
    -- The price each seat is sold at is fixed now: dynamic pricing as of this hold, else base.
    SELECT :hold, se.id, se.seat_type,
           COALESCE((CAST(:prices AS jsonb) ->> se.seat_type)::bigint,
                    (sh.prices ->> se.seat_type)::bigint, 0)
      FROM taken t JOIN seats se ON se.id = t.seat_id JOIN shows sh ON sh.id = :show
    RETURNING seat_id
), history AS (
    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at, actor_id,
                                  reason, hold_id)
    -- from BLOCKED when this hold took over a seat whose previous hold had expired
    SELECT :show, t.seat_id, l.old_status, 'BLOCKED', :now, :buyer, :reason, :hold
      FROM taken t JOIN locked l ON l.seat_id = t.seat_id
    RETURNING seat_id
)
SELECT t.seat_id, t.version, (SELECT nextval('seat_events_seq')) AS sequence, true AS ok,
       true AS within_quota
  FROM taken t
UNION ALL
-- Refused: report which seats were free, so the caller can name the others without a re-read.
SELECT l.seat_id, NULL, NULL, false, (SELECT ok FROM quota)
  FROM locked l WHERE NOT (SELECT ok FROM complete)
"""


@dataclass(frozen=True, slots=True)
class TakeResult:
    seats: list[tuple[uuid.UUID, int]]  # (seat id, new version) when the hold was written
    sequence: int | None
    still_free: frozenset[uuid.UUID]  # when refused: the requested seats that were free
    within_quota: bool = True  # false when refused because the buyer holds too much already

    @property
    def complete(self) -> bool:
        return self.sequence is not None


async def take_seats(
    conn: asyncpg.Connection,
    target: HoldTarget,
    *,
    expected_versions: dict[uuid.UUID, int] | None = None,
    fence: int | None = None,
    reason: str = "hold",
) -> TakeResult:
    """Block every seat of the target and record the hold, or write nothing at all."""
    params: dict[str, object] = {
        "hold": target.hold_id,
        "show": target.show_id,
        "buyer": target.buyer_id,
        "now": target.now,
        "expires": target.expires_at,
        "accessible": target.accessible,
        "sell_accessible": target.may_take_accessible,
        "channel": target.channel,
        "kind": target.kind,
        "name": target.name,
        "count": len(target.seat_ids),
        "max_holds": target.max_holds,
        "prices": json.dumps(target.prices) if target.prices is not None else None,
        "reason": reason,
        "seats": list(target.seat_ids),
    }
    versions_join = extra = set_fence = ""
    if expected_versions is not None:
        # Optimistic: only rows still at the version we read count as free.
        versions_join = (
            "JOIN unnest(CAST(:vseats AS uuid[]), CAST(:versions AS bigint[]))"
            " AS v(seat_id, version) ON v.seat_id = ss.seat_id AND v.version = ss.version"
        )
        params["vseats"] = list(expected_versions)
        params["versions"] = list(expected_versions.values())
    if fence is not None:
        # Redlock fencing: a writer whose lock expired carries an older token and is refused.
        extra = "AND ss.fence < :fence"
        set_fence = ", fence = :fence"
        params["fence"] = fence
    sql = _TAKE.format(versions_join=versions_join, extra=extra, set_fence=set_fence)
    rows = await fetch(conn, sql, params)
    if rows and rows[0]["ok"]:
        seats = [(row["seat_id"], row["version"]) for row in rows]
        return TakeResult(seats, rows[0]["sequence"], frozenset())
    within_quota = all(row["within_quota"] for row in rows)
    return TakeResult([], None, frozenset(row["seat_id"] for row in rows), within_quota)


async def next_fence(conn: asyncpg.Connection) -> int:
    """A fencing token for Redlock: strictly increasing, so a stale lock holder's write loses."""
    fence: int = await conn.fetchval("SELECT nextval('lock_fence_seq')")
    return fence


async def release_hold(
    conn: AsyncConnection,
    hold_id: uuid.UUID,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    final_status: str,
    reason: str,
) -> tuple[uuid.UUID | None, list[tuple[uuid.UUID, int]], int | None]:
    """Free the seats a hold still owns and close the hold. Returns (show, seats, sequence)."""
    rows = (
        await conn.execute(
            text(
                """
                WITH freed AS (
                    UPDATE show_seats
                       SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL,
                           version = version + 1
                     WHERE hold_id = :hold AND status = 'BLOCKED'
                    RETURNING show_id, seat_id, version
                ), closed AS (
                    UPDATE holds SET status = :final, ended_at = :now
                     WHERE id = :hold AND status = 'ACTIVE'
                    RETURNING id
                ), history AS (
                    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at,
                                                  actor_id, reason, hold_id)
                    SELECT show_id, seat_id, 'BLOCKED', 'AVAILABLE', :now, :actor, :reason, :hold
                      FROM freed
                    RETURNING seat_id
                )
                SELECT show_id, seat_id, version, (SELECT nextval('seat_events_seq')) AS sequence
                  FROM freed
                """
            ),
            {
                "hold": hold_id,
                "now": now,
                "actor": actor_id,
                "final": final_status,
                "reason": reason,
            },
        )
    ).all()
    if not rows:
        return None, [], None
    return rows[0].show_id, [(r.seat_id, r.version) for r in rows], max(r.sequence for r in rows)


async def expire_due(
    conn: AsyncConnection, now: datetime, limit: int = 2000
) -> list[tuple[uuid.UUID, uuid.UUID, int, int]]:
    """Sweep expired holds: free their seats and mark them EXPIRED.

    SKIP LOCKED lets several server processes sweep at once without waiting on each other or
    on a buyer who is taking over the same expired seat right now.
    """
    rows = (
        await conn.execute(
            text(
                """
                WITH due AS (
                    SELECT show_id, seat_id FROM show_seats
                     WHERE status = 'BLOCKED' AND held_until <= :now
                     ORDER BY held_until LIMIT :limit
                       FOR UPDATE SKIP LOCKED
                ), freed AS (
                    UPDATE show_seats ss
                       SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL,
                           version = ss.version + 1
                      FROM due
                     WHERE ss.show_id = due.show_id AND ss.seat_id = due.seat_id
                    RETURNING ss.show_id, ss.seat_id, ss.version
                ), history AS (
                    INSERT INTO seat_transitions (show_id, seat_id, from_status, to_status, at,
                                                  reason)
                    SELECT show_id, seat_id, 'BLOCKED', 'AVAILABLE', :now, 'expired' FROM freed
                    RETURNING seat_id
                )
                SELECT show_id, seat_id, version, (SELECT nextval('seat_events_seq')) AS sequence
                  FROM freed
                """
            ),
            {"now": now, "limit": limit},
        )
    ).all()
    await conn.execute(
        text(
            "UPDATE holds SET status = 'EXPIRED', ended_at = :now"
            " WHERE status = 'ACTIVE' AND expires_at <= :now"
        ),
        {"now": now},
    )
    return [(r.show_id, r.seat_id, r.version, r.sequence) for r in rows]


@dataclass(frozen=True, slots=True)
class ShowTerms:
    """What the hold rules need to know about a show."""

    show_id: uuid.UUID
    theater_id: uuid.UUID
    status: str
    starts_at: datetime
    hold_minutes: int
    accessible_release_minutes: int
    currency: str
    prices: dict[str, int]
    sale_opens_at: datetime | None


async def show_terms(conn: AsyncConnection, show_id: uuid.UUID) -> ShowTerms | None:
    row = (
        await conn.execute(
            text(
                """
                SELECT sh.id, sh.theater_id, sh.status, sh.starts_at, t.hold_minutes,
                       t.accessible_release_minutes, c.currency, sh.prices, sh.sale_opens_at
                  FROM shows sh
                  JOIN theaters t ON t.id = sh.theater_id
                  JOIN cities c ON c.id = t.city_id
                 WHERE sh.id = :show
                """
            ),
            {"show": show_id},
        )
    ).first()
    return ShowTerms(*row) if row else None


async def seat_map_rows(conn: AsyncConnection, show_id: uuid.UUID, now: datetime) -> list:
    """Every seat of the show with its live status (an expired hold reads AVAILABLE)."""
    result = await conn.execute(
        text(
            """
            SELECT se.id AS seat_id, se.label, se.row_label, se.number, se.seat_type,
                   se.accessible, se.x, se.y, se.section, se.pair_label, ss.version,
                   CASE WHEN ss.status = 'BLOCKED' AND ss.held_until <= :now THEN 'AVAILABLE'
                        ELSE ss.status END AS status
              FROM show_seats ss JOIN seats se ON se.id = ss.seat_id
             WHERE ss.show_id = :show
             ORDER BY se.y, se.x
            """
        ),
        {"show": show_id, "now": now},
    )
    return list(result)


async def screen_shape(conn: AsyncConnection, show_id: uuid.UUID) -> tuple[str, int, int]:
    row = (
        await conn.execute(
            text(
                "SELECT sc.screen_side, sc.width, sc.height FROM shows sh"
                " JOIN screens sc ON sc.id = sh.screen_id WHERE sh.id = :show"
            ),
            {"show": show_id},
        )
    ).one()
    return row.screen_side, row.width, row.height


async def current_sequence(conn: AsyncConnection) -> int:
    # last_value is the newest number drawn by anyone (is_called is false only before the first).
    row = (await conn.execute(text("SELECT last_value, is_called FROM seat_events_seq"))).one()
    return int(row.last_value) if row.is_called else 0


async def hold_owner(
    conn: AsyncConnection, hold_id: uuid.UUID
) -> tuple[uuid.UUID, uuid.UUID, str, uuid.UUID] | None:
    """(buyer, show, status, theater) of a hold."""
    row = (
        await conn.execute(
            text(
                "SELECT h.buyer_id, h.show_id, h.status, sh.theater_id FROM holds h"
                " JOIN shows sh ON sh.id = h.show_id WHERE h.id = :hold"
            ),
            {"hold": hold_id},
        )
    ).first()
    return (row.buyer_id, row.show_id, row.status, row.theater_id) if row else None


async def hold_state(conn: AsyncConnection, hold_id: uuid.UUID) -> tuple[str, datetime] | None:
    """(status, expires_at) of a hold."""
    row = (
        await conn.execute(
            text("SELECT status, expires_at FROM holds WHERE id = :hold"), {"hold": hold_id}
        )
    ).first()
    return (row.status, row.expires_at) if row else None


async def active_group_holds(conn: AsyncConnection, show_id: uuid.UUID, now: datetime) -> list:
    result = await conn.execute(
        text(
            """
            SELECT h.id, h.name, h.expires_at, array_agg(hs.seat_id ORDER BY hs.seat_id) AS seat_ids
              FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id
             WHERE h.show_id = :show AND h.kind = 'group' AND h.status = 'ACTIVE'
               AND h.expires_at > :now
             GROUP BY h.id ORDER BY h.created_at
            """
        ),
        {"show": show_id, "now": now},
    )
    return list(result)
