"""integrity rules in the schema

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Two rules move from code into the database.

**Refunds settled manually get their own columns.** A refund an admin paid out by other means
(cash at the counter, a bank transfer) was marked only by its ``refund.settled_manually``
audit entry, which the listings and reconciliation read as data. It now carries
``settled_manually_at``, ``settled_manually_by`` (the admin) and ``settlement_note``: all three
or none, and only on a SUCCEEDED refund without a gateway refund id (CHECKs). The audit entry
stays an audit entry. Existing manual settlements are filled in from their audit entries (the
first one per refund, on a refund that is still SUCCEEDED without a gateway refund id, by an
admin who still exists: bms never deletes users, so that is every one written by bms).

**One live waiting-list entry per customer per show** (a partial unique index over WAITING and
OFFERED entries), so two clerks adding the same customer at the same instant cannot make two.
Existing duplicates are resolved first, deterministically: per show and customer the entry
kept is the earliest one holding seats (OFFERED), else the earliest WAITING one (created_at,
then id); the others become CANCELLED, each with an audit entry
``waitlist.duplicate_cancelled`` naming the entry kept. The table is locked against writes
while that runs, so no duplicate can slip in between the clean-up and the index.

Downgrade drops the columns and the index. Nothing the older code reads is lost: every manual
settlement also has its audit entry. Duplicate entries cancelled on upgrade stay cancelled.
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('WAITING', 'OFFERED')")
SETTLED = sa.text("settled_manually_at IS NOT NULL")

BACKFILL_SETTLED_MANUALLY = """
WITH settled AS (
    SELECT DISTINCT ON (a.entity_id) a.entity_id, a.at, a.actor_id, a.detail->>'note' AS note
      FROM audit_log a
     WHERE a.entity = 'refund' AND a.action = 'refund.settled_manually'
     ORDER BY a.entity_id, a.at, a.id
)
UPDATE refunds r
   SET settled_manually_at = s.at,
       settled_manually_by = s.actor_id,
       settlement_note = coalesce(nullif(btrim(s.note), ''), '(no note was recorded)')
  FROM settled s JOIN users u ON u.id = s.actor_id
 WHERE CAST(r.id AS text) = s.entity_id
   AND r.status = 'SUCCEEDED' AND r.gateway_refund_ref IS NULL
"""

CANCEL_DUPLICATE_ENTRIES = """
WITH ranked AS (
    SELECT id,
           first_value(id) OVER line AS kept,
           row_number() OVER line AS place
      FROM waitlist_entries
     WHERE status IN ('WAITING', 'OFFERED')
    WINDOW line AS (PARTITION BY show_id, user_id
                    ORDER BY status = 'OFFERED' DESC, created_at, id)
), cancelled AS (
    UPDATE waitlist_entries w SET status = 'CANCELLED'
      FROM ranked
     WHERE w.id = ranked.id AND ranked.place > 1
    RETURNING w.id, ranked.kept
)
INSERT INTO audit_log (actor_id, action, entity, entity_id, detail)
SELECT NULL, 'waitlist.duplicate_cancelled', 'waitlist_entry', CAST(id AS text),
       jsonb_build_object('kept', CAST(kept AS text), 'by', 'migration 0003')
  FROM cancelled
"""


def upgrade() -> None:
    op.add_column(
        "refunds", sa.Column("settled_manually_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("refunds", sa.Column("settled_manually_by", sa.UUID(), nullable=True))
    op.add_column("refunds", sa.Column("settlement_note", sa.Text(), nullable=True))
    op.create_foreign_key(
        op.f("fk_refunds_settled_manually_by_users"),
        "refunds",
        "users",
        ["settled_manually_by"],
        ["id"],
    )
    op.execute(BACKFILL_SETTLED_MANUALLY)
    op.create_check_constraint(
        op.f("ck_refunds_settled_manually_complete"),
        "refunds",
        "num_nonnulls(settled_manually_at, settled_manually_by, settlement_note) IN (0, 3)",
    )
    op.create_check_constraint(
        op.f("ck_refunds_settled_manually_succeeded"),
        "refunds",
        "settled_manually_at IS NULL OR (status = 'SUCCEEDED' AND gateway_refund_ref IS NULL)",
    )
    op.create_index(
        "ix_refunds_settled_manually",
        "refunds",
        ["settled_manually_at"],
        unique=False,
        postgresql_where=SETTLED,
    )

    # No other transaction writes a duplicate between the clean-up and the index.
    op.execute("LOCK TABLE waitlist_entries IN SHARE ROW EXCLUSIVE MODE")
    op.execute(CANCEL_DUPLICATE_ENTRIES)
    op.create_index(
        "uq_waitlist_entries_live_per_customer",
        "waitlist_entries",
        ["show_id", "user_id"],
        unique=True,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index(
        "uq_waitlist_entries_live_per_customer",
        table_name="waitlist_entries",
        postgresql_where=LIVE,
    )
    op.drop_index("ix_refunds_settled_manually", table_name="refunds", postgresql_where=SETTLED)
    op.drop_constraint(op.f("ck_refunds_settled_manually_succeeded"), "refunds", type_="check")
    op.drop_constraint(op.f("ck_refunds_settled_manually_complete"), "refunds", type_="check")
    op.drop_constraint(
        op.f("fk_refunds_settled_manually_by_users"), "refunds", type_="foreignkey"
    )
    op.drop_column("refunds", "settlement_note")
    op.drop_column("refunds", "settled_manually_by")
    op.drop_column("refunds", "settled_manually_at")
