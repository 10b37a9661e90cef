"""SQL for reconciliation: what we recorded at one gateway, as settlement lines."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Captures; refunds of bookings (refund records); refunds of checkouts that never became a
# booking (the payment row carries them). Refunds are listed under the capture they return
# money from. A record counts when the file names its reference or it falls in the period.
_RECORDS = """
SELECT 'capture', p.gateway_ref, p.amount_minor, p.currency, p.captured_at, b.code
  FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id
 WHERE p.gateway = :gateway AND p.captured_at IS NOT NULL AND p.gateway_ref IS NOT NULL
   AND (p.gateway_ref = ANY(:refs) OR (p.captured_at >= :start AND p.captured_at < :end))
UNION ALL
SELECT 'refund', p.gateway_ref, r.amount_minor, p.currency, r.completed_at, b.code
  FROM refunds r
  JOIN payments p ON p.id = r.payment_id
  JOIN bookings b ON b.id = r.booking_id
 WHERE p.gateway = :gateway AND r.status = 'SUCCEEDED' AND r.amount_minor > 0
   AND (p.gateway_ref = ANY(:refs) OR (r.completed_at >= :start AND r.completed_at < :end))
UNION ALL
SELECT 'refund', p.gateway_ref, p.refunded_minor, p.currency, p.captured_at, NULL
  FROM payments p
 WHERE p.gateway = :gateway AND p.booking_id IS NULL AND p.refunded_minor > 0
   AND p.gateway_ref IS NOT NULL
   AND (p.gateway_ref = ANY(:refs) OR (p.captured_at >= :start AND p.captured_at < :end))
"""


@dataclass(frozen=True, slots=True)
class OurRecord:
    type: str
    reference: str
    amount_minor: int
    currency: str
    at: datetime | None
    booking_code: str | None


async def gateway_records(
    conn: AsyncConnection,
    *,
    gateway: str,
    references: Collection[str],
    start: datetime,
    end: datetime,
) -> list[OurRecord]:
    rows = await conn.execute(
        text(_RECORDS),
        {"gateway": gateway, "refs": list(references), "start": start, "end": end},
    )
    return [OurRecord(*row) for row in rows]
