"""Per-show seat inventory, holds and the seat transition history.

``show_seats`` is the live state machine: one row per (show, seat). A BLOCKED row whose
``held_until`` has passed counts as free everywhere (the hold statements check the clock), so an
expired hold never blocks a buyer even before the sweeper has run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Sequence, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.contracts.enums import HoldKind, HoldStatus, SeatStatus
from server.db.models.base import Base, created_at, money, one_of, uuid_pk


class ShowSeat(Base):
    __tablename__ = "show_seats"
    __table_args__ = (
        one_of("status", SeatStatus),
        CheckConstraint(
            "(status = 'BLOCKED') = (hold_id IS NOT NULL AND held_until IS NOT NULL)",
            name="blocked_has_hold",
        ),
        CheckConstraint(
            "(status = 'BOOKED') = (booking_id IS NOT NULL)", name="booked_has_booking"
        ),
        Index("ix_show_seats_hold", "hold_id", postgresql_where=text("hold_id IS NOT NULL")),
        Index(
            "ix_show_seats_expiry",
            "held_until",
            postgresql_where=text("status = 'BLOCKED'"),
        ),
    )

    show_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(12), default=SeatStatus.AVAILABLE.value, server_default=SeatStatus.AVAILABLE.value
    )
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    held_until: Mapped[datetime | None]
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Optimistic-locking version, bumped on every change of the row.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Highest Redlock fencing token that wrote this row; a lower token is a stale writer.
    fence: Mapped[int] = mapped_column(default=0, server_default="0")
    # Wheelchair/companion seats are sold only with an accessibility request until released.
    accessible_only: Mapped[bool] = mapped_column(default=False, server_default="false")
    unavailable_reason: Mapped[str | None]


class Hold(Base):
    __tablename__ = "holds"
    __table_args__ = (
        one_of("status", HoldStatus),
        one_of("kind", HoldKind),
        Index(
            "ix_holds_active_buyer",
            "show_id",
            "buyer_id",
            postgresql_where=text("status = 'ACTIVE'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    show_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(
        String(10), default=HoldStatus.ACTIVE.value, server_default=HoldStatus.ACTIVE.value
    )
    kind: Mapped[str] = mapped_column(
        String(16), default=HoldKind.STANDARD.value, server_default=HoldKind.STANDARD.value
    )
    name: Mapped[str | None]
    channel: Mapped[str] = mapped_column(String(12))
    accessible_request: Mapped[bool] = mapped_column(default=False, server_default="false")
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at()
    ended_at: Mapped[datetime | None]


class HoldSeat(Base):
    """The seats of a hold with the price each was held at (a price change later keeps it)."""

    __tablename__ = "hold_seats"
    __table_args__ = (money("price_minor"),)

    hold_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True
    )
    seat_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seats.id"), primary_key=True)
    seat_type: Mapped[str] = mapped_column(String(12))
    price_minor: Mapped[int]


class SeatTransition(Base):
    """Every state change of a show seat: when, who, why."""

    __tablename__ = "seat_transitions"
    __table_args__ = (Index("ix_seat_transitions_show_seat", "show_id", "seat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    show_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    seat_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = created_at()
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    reason: Mapped[str] = mapped_column(String(40))
    hold_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


# One global sequence numbers every seat-map change. It is drawn after the seat rows are locked,
# so two changes of the same seat always get increasing numbers, and no per-show counter row
# becomes a hot spot that serialises every hold of a popular show.
SEAT_EVENTS_SEQ = Sequence("seat_events_seq", metadata=Base.metadata)
# Fencing tokens for the redlock strategy: durable and strictly increasing.
LOCK_FENCE_SEQ = Sequence("lock_fence_seq", metadata=Base.metadata)
