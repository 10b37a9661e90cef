"""show reminders and release alerts

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10

``bookings.reminded_at``: when the show reminder of a booking was queued. The reminder job
sets it in the statement that picks the booking, so a booking is reminded once however many
server processes run the job.

``release_alerts``: a customer asks to be told when a movie goes on sale in a city (one alert
per customer, movie and city); ``notified_at`` is set, in the same way, when its e-mail is
queued.

Downgrade drops both: pending alerts and the record of who was reminded are lost (an older
server sends no reminders and knows no alerts).
"""

from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WAITING = sa.text("notified_at IS NULL")


def upgrade() -> None:
    op.add_column("bookings", sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "release_alerts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("movie_id", sa.UUID(), nullable=False),
        sa.Column("city_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_release_alerts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["movie_id"],
            ["movies.id"],
            name=op.f("fk_release_alerts_movie_id_movies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_release_alerts_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_alerts")),
    )
    op.create_index(
        "uq_release_alerts_user_movie_city",
        "release_alerts",
        ["user_id", "movie_id", "city_id"],
        unique=True,
    )
    op.create_index(
        "ix_release_alerts_waiting",
        "release_alerts",
        ["movie_id", "city_id"],
        postgresql_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_release_alerts_waiting", table_name="release_alerts", postgresql_where=WAITING)
    op.drop_index("uq_release_alerts_user_movie_city", table_name="release_alerts")
    op.drop_table("release_alerts")
    op.drop_column("bookings", "reminded_at")
