"""SQL that gathers what pricing needs: the hold with its frozen seat prices, the show's
theater and city terms, the buyer's points, a coupon and the theater's snack menu."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.domain.pricing.services import CouponTerms, SeatPrice


@dataclass(frozen=True, slots=True)
class HoldContext:
    hold_id: uuid.UUID
    show_id: uuid.UUID
    buyer_id: uuid.UUID
    hold_status: str
    expires_at: datetime
    channel: str
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
    buyer_role: str
    seats: tuple[SeatPrice, ...]


_HOLD_CONTEXT = """
SELECT h.id, h.show_id, h.buyer_id, h.status, h.expires_at, h.channel,
       m.id AS movie_id, m.title, t.id AS theater_id, t.name AS theater_name, sh.starts_at,
       sh.status AS show_status, t.convenience_fee_minor, c.tax_rate_bp, c.currency,
       c.timezone, u.loyalty_points, u.role,
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
    row = (await conn.execute(text(_HOLD_CONTEXT), {"hold": hold_id})).first()
    if row is None:
        return None
    *fields, ids, labels, types, prices = row
    seats = tuple(
        SeatPrice(seat_id, label, seat_type, int(price_minor))
        for seat_id, label, seat_type, price_minor in zip(
            ids or (), labels or (), types or (), prices or (), strict=True
        )
    )
    return HoldContext(*fields, seats=seats)


async def coupon_for(
    conn: AsyncConnection, code: str, user_id: uuid.UUID
) -> tuple[CouponTerms, int] | None:
    """The coupon with this code (case-insensitive) and how often this user has redeemed it."""
    row = (
        await conn.execute(
            text(
                """
                SELECT c.id, c.code, c.kind, c.value, c.min_amount_minor, c.max_discount_minor,
                       c.valid_from, c.valid_until, c.total_limit, c.per_user_limit,
                       c.used_count, {movies}, {theaters}, {seat_types},
                       (SELECT count(*) FROM coupon_redemptions r
                         WHERE r.coupon_id = c.id AND r.user_id = :user
                           AND r.reversed_at IS NULL) AS used_by_user
                  FROM coupons c WHERE upper(c.code) = upper(:code)
                """.format(
                    movies=_text_array("c.movie_ids"),
                    theaters=_text_array("c.theater_ids"),
                    seat_types=_text_array("c.seat_types"),
                )
            ),
            {"code": code.strip(), "user": user_id},
        )
    ).first()
    if row is None:
        return None
    *fields, movie_ids, theater_ids, seat_types, used_by_user = row
    terms = CouponTerms(
        *fields,
        movie_ids=_as_set(movie_ids),
        theater_ids=_as_set(theater_ids),
        seat_types=_as_set(seat_types),
    )
    return terms, int(used_by_user)


def _text_array(column: str) -> str:
    """A JSONB list of strings as text[] (NULL stays NULL: "no limit")."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" ELSE ARRAY(SELECT jsonb_array_elements_text({column})) END"
    )


def _as_set(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(str(value) for value in values)


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
