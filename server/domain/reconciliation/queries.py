"""SQL for reconciliation: what we recorded at one gateway, as settlement lines, and what we
know about the captures a settlement file names.

A refund paid out by other means (``settled_manually_at`` set on the refund) never went
through the gateway: it is not one of our gateway records, it is listed on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Who settled a refund manually (the admin's name).
_SETTLED_BY = "LEFT JOIN users u ON u.id = r.settled_manually_by"

# Captures; refunds the gateway confirmed under its refund id; refunds we know no refund id
# for (records from before refund ids were kept, and refunds of checkouts that never became a
# booking, which the payment row carries), listed under the capture they return money from.
# A record counts when the file names it (its reference, or for one without a refund id its
# capture) or when it falls in the period.
_RECORDS = """
SELECT 'capture', p.gateway_ref, NULL, p.amount_minor, p.currency, p.captured_at, b.code,
       CAST(NULL AS uuid)
  FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id
 WHERE p.gateway = :gateway AND p.captured_at IS NOT NULL AND p.gateway_ref IS NOT NULL
   AND (p.gateway_ref = ANY(:captures) OR (p.captured_at >= :start AND p.captured_at < :end))
UNION ALL
SELECT 'refund', r.gateway_refund_ref, p.gateway_ref, r.amount_minor, p.currency,
       r.completed_at, b.code, r.id
  FROM refunds r
  JOIN payments p ON p.id = r.payment_id
  JOIN bookings b ON b.id = r.booking_id
 WHERE p.gateway = :gateway AND r.status = 'SUCCEEDED' AND r.amount_minor > 0
   AND r.settled_manually_at IS NULL
   AND (r.gateway_refund_ref = ANY(:refunds)
        OR (r.gateway_refund_ref IS NULL AND p.gateway_ref = ANY(:refunded_captures))
        OR (r.completed_at >= :start AND r.completed_at < :end))
UNION ALL
SELECT 'refund', NULL, p.gateway_ref, p.refunded_minor, p.currency, p.captured_at, NULL,
       CAST(NULL AS uuid)
  FROM payments p
 WHERE p.gateway = :gateway AND p.booking_id IS NULL AND p.refunded_minor > 0
   AND p.gateway_ref IS NOT NULL
   AND (p.gateway_ref = ANY(:refunded_captures)
        OR (p.captured_at >= :start AND p.captured_at < :end))
"""


@dataclass(frozen=True, slots=True)
class OurRecord:
    type: str
    reference: str | None  # the capture id, or the gateway's refund id when we have it
    capture_reference: str | None  # a refund's capture
    amount_minor: int
    currency: str
    at: datetime | None
    booking_code: str | None
    refund_id: uuid.UUID | None


async def gateway_records(
    conn: AsyncConnection,
    *,
    gateway: str,
    captures: Collection[str],
    refunds: Collection[str],
    refunded_captures: Collection[str],
    start: datetime,
    end: datetime,
) -> list[OurRecord]:
    """Our records at ``gateway`` that the file names (``captures`` by capture id,
    ``refunds`` by refund id, ``refunded_captures`` for refunds without an id) or that fall
    in [start, end)."""
    rows = await conn.execute(
        text(_RECORDS),
        {
            "gateway": gateway,
            "captures": list(captures),
            "refunds": list(refunds),
            "refunded_captures": list(refunded_captures),
            "start": start,
            "end": end,
        },
    )
    return [OurRecord(*row) for row in rows]


# The payments the file names, each with its refunds that the gateway has not confirmed to
# us (PENDING, FAILED, or settled by other means), to explain a refund line we cannot match.
_CAPTURES = f"""
SELECT p.gateway_ref, b.code, r.id, r.status, r.amount_minor, r.failure_code,
       r.settled_manually_at, r.settlement_note, u.name
  FROM payments p
  LEFT JOIN bookings b ON b.id = p.booking_id
  LEFT JOIN (refunds r {_SETTLED_BY})
         ON r.payment_id = p.id AND r.gateway_refund_ref IS NULL AND r.amount_minor > 0
        AND (r.status IN ('PENDING', 'FAILED') OR r.settled_manually_at IS NOT NULL)
 WHERE p.gateway = :gateway AND p.gateway_ref = ANY(:refs)
 ORDER BY p.gateway_ref, r.created_at
"""

# Refunds settled by other means: on the captures the file names, or settled in the period.
_SETTLED_MANUALLY = f"""
SELECT p.gateway_ref, b.code, r.id, r.status, r.amount_minor, r.failure_code,
       r.settled_manually_at, r.settlement_note, u.name, p.currency
  FROM refunds r
  JOIN payments p ON p.id = r.payment_id
  JOIN bookings b ON b.id = r.booking_id
  {_SETTLED_BY}
 WHERE p.gateway = :gateway AND r.settled_manually_at IS NOT NULL AND r.amount_minor > 0
   AND (p.gateway_ref = ANY(:refs)
        OR (r.settled_manually_at >= :start AND r.settled_manually_at < :end))
 ORDER BY r.settled_manually_at, r.id
"""


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """A refund of one of our captures that the gateway has not confirmed to us."""

    refund_id: uuid.UUID
    status: str
    amount_minor: int
    failure_code: str | None
    settled_at: datetime | None  # settled by other means, by ``settled_by``, with ``note``
    note: str | None
    settled_by: str | None


@dataclass(frozen=True, slots=True)
class Capture:
    reference: str
    booking_code: str | None
    unconfirmed: list[Unconfirmed]


async def captures(
    conn: AsyncConnection, *, gateway: str, references: Collection[str]
) -> dict[str, Capture]:
    """Our captures among ``references``, with their unconfirmed refunds."""
    found: dict[str, Capture] = {}
    rows = await conn.execute(text(_CAPTURES), {"gateway": gateway, "refs": list(references)})
    for ref, code, refund_id, *refund in rows:
        capture = found.setdefault(ref, Capture(ref, code, []))
        if refund_id is not None:
            capture.unconfirmed.append(Unconfirmed(refund_id, *refund))
    return found


@dataclass(frozen=True, slots=True)
class SettledRefund:
    capture_reference: str
    booking_code: str
    refund: Unconfirmed
    currency: str


async def settled_manually(
    conn: AsyncConnection,
    *,
    gateway: str,
    references: Collection[str],
    start: datetime,
    end: datetime,
) -> list[SettledRefund]:
    rows = await conn.execute(
        text(_SETTLED_MANUALLY),
        {"gateway": gateway, "refs": list(references), "start": start, "end": end},
    )
    return [
        SettledRefund(ref, code, Unconfirmed(refund_id, *refund), currency)
        for ref, code, refund_id, *refund, currency in rows
    ]
