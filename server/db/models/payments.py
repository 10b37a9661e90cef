"""Payments, refunds, the wallet and loyalty ledgers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.contracts.enums import PaymentMethod, PaymentStatus, RefundDestination, RefundStatus
from server.db.models.base import Base, created_at, money, one_of, uuid_pk


class Payment(Base):
    """One part of a (possibly split) payment. The card number never reaches this table:
    only the gateway token, the brand and the last four digits."""

    __tablename__ = "payments"
    __table_args__ = (
        one_of("method", PaymentMethod),
        one_of("status", PaymentStatus),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        money("refunded_minor"),
        CheckConstraint("refunded_minor <= amount_minor", name="refund_within_amount"),
        Index("ix_payments_booking", "booking_id"),
        Index("ix_payments_gateway_ref", "gateway_ref"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    method: Mapped[str] = mapped_column(String(12))
    gateway: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int]
    refunded_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    gateway_ref: Mapped[str | None] = mapped_column(String(100))
    card_token: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(20))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    payer_name: Mapped[str | None]
    tendered_minor: Mapped[int | None]
    change_minor: Mapped[int | None]
    failure_reason: Mapped[str | None]
    created_at: Mapped[datetime] = created_at()
    captured_at: Mapped[datetime | None]


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        one_of("status", RefundStatus),
        one_of("destination", RefundDestination),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
        Index("ix_refunds_booking", "booking_id"),
        # What is left of a payment to refund sums its refunds.
        Index("ix_refunds_payment", "payment_id"),
        # The retry job's question: which PENDING refunds are due.
        Index("ix_refunds_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
        # Settled manually: when, by whom and the note, all three or none; such a refund is
        # SUCCEEDED and never went through the gateway (no gateway refund id).
        CheckConstraint(
            "num_nonnulls(settled_manually_at, settled_manually_by, settlement_note) IN (0, 3)",
            name="settled_manually_complete",
        ),
        CheckConstraint(
            "settled_manually_at IS NULL OR (status = 'SUCCEEDED' AND gateway_refund_ref IS NULL)",
            name="settled_manually_succeeded",
        ),
        # Reconciliation's question: which refunds were settled manually in a period.
        Index(
            "ix_refunds_settled_manually",
            "settled_manually_at",
            postgresql_where=text("settled_manually_at IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"))
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    amount_minor: Mapped[int]
    # Fees kept by the theater/platform on this cancellation (for settlement).
    fee_kept_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    destination: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = created_at()
    completed_at: Mapped[datetime | None]
    # The gateway's own refund id, once it confirmed the refund (for reconciliation).
    gateway_refund_ref: Mapped[str | None] = mapped_column(String(100))
    # Sends to the gateway so far, and when the retry job sends a PENDING refund next.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    # Why it FAILED: the gateway's code and sentence, or "no_answer" when retries gave up.
    failure_code: Mapped[str | None] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    # Paid out by other means (cash at the counter, a bank transfer) when the gateway could
    # not: when, by which admin, and their note. The audit entry refund.settled_manually
    # records the same act; these columns are what the listings and reconciliation read.
    settled_manually_at: Mapped[datetime | None]
    settled_manually_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    settlement_note: Mapped[str | None] = mapped_column(Text)


class WalletEntry(Base):
    __tablename__ = "wallet_ledger"
    __table_args__ = (Index("ix_wallet_ledger_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    amount_minor: Mapped[int]
    reason: Mapped[str] = mapped_column(String(120))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    at: Mapped[datetime] = created_at()


class LoyaltyEntry(Base):
    __tablename__ = "loyalty_ledger"
    __table_args__ = (
        Index("ix_loyalty_ledger_user", "user_id"),
        # Every booking page and cancellation reads the booking's points.
        Index("ix_loyalty_ledger_booking", "booking_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(120))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    at: Mapped[datetime] = created_at()
