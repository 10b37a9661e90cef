"""Bookings, their seats, tickets, coupons, snacks and the waiting list."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.contracts.enums import (
    BookingSeatStatus,
    BookingStatus,
    Channel,
    CouponKind,
    WaitlistStatus,
)
from server.db.models.base import Base, created_at, money, one_of, uuid_pk

AMOUNT_COLUMNS = (
    "seats_minor",
    "convenience_fee_minor",
    "tax_minor",
    "discount_minor",
    "loyalty_minor",
    "snacks_minor",
    "total_minor",
    "refunded_minor",
)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        one_of("status", BookingStatus),
        one_of("channel", Channel),
        *(money(column) for column in AMOUNT_COLUMNS),
        CheckConstraint(
            "total_minor = seats_minor + convenience_fee_minor + tax_minor + snacks_minor"
            " - discount_minor - loyalty_minor",
            name="total_adds_up",
        ),
        CheckConstraint("refunded_minor <= total_minor", name="refund_within_total"),
        Index("ix_bookings_user", "user_id"),
        Index("ix_bookings_show", "show_id"),
        Index("uq_bookings_hold", "hold_id", unique=True),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(12), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    show_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shows.id"))
    hold_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("holds.id"))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    seats_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    convenience_fee_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    tax_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    discount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    loyalty_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    snacks_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    total_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    refunded_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    contact_email: Mapped[str | None]
    contact_phone: Mapped[str | None]
    review_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at()
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # When the show reminder was queued (server/domain/booking/reminders.py); set in the
    # statement that picks the booking, so no booking is reminded twice.
    reminded_at: Mapped[datetime | None]


class BookingSeat(Base):
    """A seat sold in a booking. The partial unique index is the last line of defence:
    whatever any code path does, one seat of one show can be in only one active booking."""

    __tablename__ = "booking_seats"
    __table_args__ = (
        one_of("status", BookingSeatStatus),
        money("price_minor"),
        Index(
            "uq_booking_seats_active_seat",
            "show_id",
            "seat_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True
    )
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    show_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shows.id"))
    seat_type: Mapped[str] = mapped_column(String(12))
    price_minor: Mapped[int]
    status: Mapped[str] = mapped_column(
        String(10),
        default=BookingSeatStatus.ACTIVE.value,
        server_default=BookingSeatStatus.ACTIVE.value,
    )
    cancelled_at: Mapped[datetime | None]


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    payload: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = created_at()
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    checkin_location: Mapped[str | None]


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        one_of("kind", CouponKind),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind <> 'percent' OR value <= 100", name="percent_at_most_100"),
        # Over-redemption is impossible: the counter cannot pass the limit.
        CheckConstraint(
            "total_limit IS NULL OR used_count <= total_limit", name="used_within_limit"
        ),
        money("min_amount_minor"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    # Percent (1-100) for percent coupons, minor units for flat ones.
    value: Mapped[int]
    min_amount_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    max_discount_minor: Mapped[int | None]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    total_limit: Mapped[int | None]
    per_user_limit: Mapped[int | None]
    used_count: Mapped[int] = mapped_column(default=0, server_default="0")
    movie_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    theater_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    seat_types: Mapped[list[str] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at()


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"
    __table_args__ = (Index("ix_coupon_redemptions_user", "coupon_id", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    coupon_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coupons.id"))
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    discount_minor: Mapped[int]
    reversed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()


class SnackItem(Base):
    __tablename__ = "snack_items"
    __table_args__ = (money("price_minor"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    theater_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("theaters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40), default="snack")
    price_minor: Mapped[int]
    available: Mapped[bool] = mapped_column(default=True, server_default="true")


class SnackOrder(Base):
    __tablename__ = "snack_orders"

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    pickup_code: Mapped[str] = mapped_column(String(12))
    # [{"item_id", "name", "quantity", "unit_price_minor"}], prices frozen at order time.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_minor: Mapped[int]
    collected_at: Mapped[datetime | None]


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        one_of("status", WaitlistStatus),
        CheckConstraint("seats_wanted BETWEEN 1 AND 10", name="seats_wanted_range"),
        Index("ix_waitlist_show_status", "show_id", "status", "created_at"),
        # One live entry per customer per show, whoever adds them and however many at once.
        Index(
            "uq_waitlist_entries_live_per_customer",
            "show_id",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('WAITING', 'OFFERED')"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    show_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    seats_wanted: Mapped[int] = mapped_column(SmallInteger)
    seat_type: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(
        String(10),
        default=WaitlistStatus.WAITING.value,
        server_default=WaitlistStatus.WAITING.value,
    )
    offered_hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    offer_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()
