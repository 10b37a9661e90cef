"""SQL that gathers what pricing needs: the hold with its frozen seat prices, the show's
theater and city terms, the buyer's points, a coupon and the theater's snack menu."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.db.models import Coupon, CouponRedemption
from server.domain.pricing.services import CouponTerms, SeatPrice
from server.infra.database import driver_of, fetchrow


@dataclass(frozen=True, slots=True)
class HoldContext:
    hold_id: uuid.UUID
    show_id: uuid.UUID
    buyer_id: uuid.UUID
    hold_status: str
    expires_at: datetime
    channel: str
    kind: str
    movie_id: uuid.UUID
    movie_title: str
    theater_id: uuid.UUID
    theater_name: str
    starts_at: datetime
    show_status: str
    fee_per_seat_minor: int
    tax_rate_bp: int
    currency: str
    timezone: str
    buyer_points: int
    # How the buyer is reached (a guest's e-mail is the contact they left).
    buyer_email: str | None
    buyer_phone: str | None
    seats: tuple[SeatPrice, ...]


_HOLD_CONTEXT = """
SELECT h.id AS hold_id, h.show_id, h.buyer_id, h.status AS hold_status, h.expires_at,
       h.channel, h.kind, m.id AS movie_id, m.title AS movie_title, t.id AS theater_id,
       t.name AS theater_name, sh.starts_at, sh.status AS show_status,
       t.convenience_fee_minor AS fee_per_seat_minor, c.tax_rate_bp, c.currency, c.timezone,
       u.loyalty_points AS buyer_points,
       COALESCE(u.email, u.preferences->>'contact_email') AS buyer_email, u.phone AS buyer_phone,
       seats.ids, seats.labels, seats.types, seats.prices
  FROM holds h
  JOIN shows sh ON sh.id = h.show_id
  JOIN movies m ON m.id = sh.movie_id
  JOIN theaters t ON t.id = sh.theater_id
  JOIN cities c ON c.id = t.city_id
  JOIN users u ON u.id = h.buyer_id
  CROSS JOIN LATERAL (
      SELECT array_agg(hs.seat_id ORDER BY se.y, se.x) AS ids,
             array_agg(se.label ORDER BY se.y, se.x) AS labels,
             array_agg(hs.seat_type ORDER BY se.y, se.x) AS types,
             array_agg(hs.price_minor ORDER BY se.y, se.x) AS prices
        FROM hold_seats hs JOIN seats se ON se.id = hs.seat_id
       WHERE hs.hold_id = h.id
  ) seats
 WHERE h.id = :hold
"""


async def hold_context(conn: AsyncConnection, hold_id: uuid.UUID) -> HoldContext | None:
    row = await fetchrow(await driver_of(conn), _HOLD_CONTEXT, {"hold": hold_id})
    if row is None:
        return None
    fields = dict(row)
    columns = [fields.pop(name) or () for name in ("ids", "labels", "types", "prices")]
    seats = tuple(
        SeatPrice(seat_id, label, seat_type, int(price_minor))
        for seat_id, label, seat_type, price_minor in zip(*columns, strict=True)
    )
    return HoldContext(**fields, seats=seats)


async def coupon_for(
    conn: AsyncConnection, code: str, user_id: uuid.UUID
) -> tuple[CouponTerms, int] | None:
    """The coupon with this code (case-insensitive) and how often this user has redeemed it."""
    coupon = Coupon.__table__.c
    used_by_user = (
        select(func.count())
        .where(
            CouponRedemption.coupon_id == coupon.id,
            CouponRedemption.user_id == user_id,
            CouponRedemption.reversed_at.is_(None),
        )
        .scalar_subquery()
    )
    query = select(
        coupon.id.label("coupon_id"),
        *(coupon[name] for name in _COUPON_TERMS),
        used_by_user.label("used_by_user"),
    ).where(func.upper(coupon.code) == code.strip().upper())
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    used = int(fields.pop("used_by_user"))
    for limit in ("movie_ids", "theater_ids", "seat_types"):
        values = fields[limit]
        fields[limit] = None if values is None else frozenset(str(value) for value in values)
    return CouponTerms(**fields), used


_COUPON_TERMS = (
    "code",
    "kind",
    "value",
    "min_amount_minor",
    "max_discount_minor",
    "valid_from",
    "valid_until",
    "total_limit",
    "per_user_limit",
    "used_count",
    "movie_ids",
    "theater_ids",
    "seat_types",
)


@dataclass(frozen=True, slots=True)
class MenuItem:
    item_id: uuid.UUID
    name: str
    price_minor: int
    available: bool


async def menu_items(
    conn: AsyncConnection, theater_id: uuid.UUID, item_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, MenuItem]:
    rows = await conn.execute(
        text(
            "SELECT id, name, price_minor, available FROM snack_items"
            " WHERE theater_id = :theater AND id = ANY(:ids)"
        ),
        {"theater": theater_id, "ids": list(item_ids)},
    )
    return {row.id: MenuItem(*row) for row in rows}
