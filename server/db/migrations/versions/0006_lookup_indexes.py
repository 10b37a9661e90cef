"""indexes for three lookups that scanned their whole table

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08

Every booking page and cancellation reads the booking's loyalty points
(``loyalty_ledger.booking_id``), a refund sums what was already refunded of each payment
(``refunds.payment_id``), and a user's tokens are listed and revoked together
(``api_tokens.user_id``). None of the three columns had an index, so each of those reads
scanned a table that only grows.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_loyalty_ledger_booking", "loyalty_ledger", "booking_id"),
    ("ix_refunds_payment", "refunds", "payment_id"),
    ("ix_api_tokens_user", "api_tokens", "user_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
