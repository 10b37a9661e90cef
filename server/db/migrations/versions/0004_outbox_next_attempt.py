"""outbox: when an event may be tried next, in its own column

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

The notification worker kept its own bookkeeping (when a claimed or failed event may be tried
again) inside the event's payload, under ``_next_attempt_at``. The payload is what the event
announces and should not change after it is written; a query over it also could not use an
index. The time moves to ``outbox.next_attempt_at`` (NULL: due at once), with the pending-events
index covering it, and the key is removed from every payload.

Downgrade puts the time back into the payloads of events still pending and drops the column.
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING = sa.text("processed_at IS NULL")
KEY = "_next_attempt_at"


def upgrade() -> None:
    op.add_column(
        "outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        f"UPDATE outbox SET next_attempt_at = CAST(payload->>'{KEY}' AS timestamptz),"
        f" payload = payload - '{KEY}' WHERE payload ? '{KEY}'"
    )
    op.drop_index("ix_outbox_pending", table_name="outbox", postgresql_where=PENDING)
    op.create_index(
        "ix_outbox_pending", "outbox", ["id", "next_attempt_at"], postgresql_where=PENDING
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox", postgresql_where=PENDING)
    op.create_index("ix_outbox_pending", "outbox", ["id"], postgresql_where=PENDING)
    op.execute(
        f"UPDATE outbox SET payload = payload || jsonb_build_object('{KEY}', next_attempt_at)"
        " WHERE next_attempt_at IS NOT NULL AND processed_at IS NULL"
    )
    op.drop_column("outbox", "next_attempt_at")
