"""Users, their theater scopes, API tokens and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.contracts.enums import Role, TokenKind
from server.db.models.base import Base, created_at, money, one_of, uuid_pk


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", Role),
        money("wallet_balance_minor"),
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        Index("ix_users_phone", "phone"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None]
    is_guest: Mapped[bool] = mapped_column(default=False, server_default="false")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # The wallet balance is kept beside its ledger so a CHECK can forbid overdrawing it.
    wallet_balance_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    loyalty_points: Mapped[int] = mapped_column(default=0, server_default="0")
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at()


class UserTheater(Base):
    """Which theaters a clerk, kiosk or theater admin may act for."""

    __tablename__ = "user_theaters"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    theater_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("theaters.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    """Bearer tokens: login sessions, long-lived script tokens and kiosk device tokens.

    Only a SHA-256 digest is stored: tokens are 256-bit random, so a slow hash adds nothing.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (
        one_of("kind", TokenKind),
        # A user's tokens: listed, and their sessions revoked when the password changes.
        Index("ix_api_tokens_user", "user_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = created_at()
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
