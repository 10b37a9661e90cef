"""refund retries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Refund records learn to be retried by the background job and to keep what the gateway said:
how many times a refund was sent, when it goes next, the gateway's refund reference, and why
it failed (the gateway's code and sentence, or ``no_answer`` when the job gave up).
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'PENDING'")


def upgrade() -> None:
    op.add_column("refunds", sa.Column("gateway_refund_ref", sa.String(length=100), nullable=True))
    op.add_column(
        "refunds", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "refunds", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("refunds", sa.Column("failure_code", sa.String(length=40), nullable=True))
    op.add_column("refunds", sa.Column("failure_reason", sa.String(length=300), nullable=True))
    # Refunds left PENDING before this revision are due at once.
    op.execute("UPDATE refunds SET next_attempt_at = now() WHERE status = 'PENDING'")
    op.create_index(
        "ix_refunds_due", "refunds", ["next_attempt_at"], unique=False, postgresql_where=PENDING
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_due", table_name="refunds", postgresql_where=PENDING)
    op.drop_column("refunds", "failure_reason")
    op.drop_column("refunds", "failure_code")
    op.drop_column("refunds", "next_attempt_at")
    op.drop_column("refunds", "attempts")
    op.drop_column("refunds", "gateway_refund_ref")
