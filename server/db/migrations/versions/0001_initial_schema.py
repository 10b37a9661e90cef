"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25

The whole domain in one revision. Besides the tables it creates the extensions the
constraints need (btree_gist for the no-overlap exclusion constraint, pg_trgm for title
search), the global seat-event sequence and the Redlock fencing-token sequence.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE SEQUENCE IF NOT EXISTS seat_events_seq")
    op.execute("CREATE SEQUENCE IF NOT EXISTS lock_fence_seq")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "cities",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate_bp", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("char_length(currency) = 3", name=op.f("ck_cities_currency_iso")),
        sa.CheckConstraint(
            "tax_rate_bp BETWEEN 0 AND 10000", name=op.f("ck_cities_tax_rate_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cities")),
        sa.UniqueConstraint("name", name=op.f("uq_cities_name")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("min_amount_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("max_discount_minor", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_limit", sa.BigInteger(), nullable=True),
        sa.Column("per_user_limit", sa.BigInteger(), nullable=True),
        sa.Column("used_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("movie_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("theater_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("seat_types", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind <> 'percent' OR value <= 100", name=op.f("ck_coupons_percent_at_most_100")
        ),
        sa.CheckConstraint("kind IN ('percent', 'flat')", name=op.f("ck_coupons_kind_valid")),
        sa.CheckConstraint(
            "min_amount_minor >= 0", name=op.f("ck_coupons_min_amount_minor_not_negative")
        ),
        sa.CheckConstraint(
            "total_limit IS NULL OR used_count <= total_limit",
            name=op.f("ck_coupons_used_within_limit"),
        ),
        sa.CheckConstraint("value > 0", name=op.f("ck_coupons_value_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    op.create_table(
        "movies",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("genres", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("cast_members", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("crew", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("certification", sa.String(length=10), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("synopsis", sa.Text(), nullable=False),
        sa.Column("poster_url", sa.Text(), nullable=True),
        sa.Column("trailer_url", sa.Text(), nullable=True),
        sa.Column("rating_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rating_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 1 AND 600", name=op.f("ck_movies_duration_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movies")),
    )
    op.create_index(
        "ix_movies_title_trgm",
        "movies",
        ["title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("attempts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "seat_transitions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("seat_id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=False),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_transitions")),
    )
    op.create_index(
        "ix_seat_transitions_show_seat", "seat_transitions", ["show_id", "seat_id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("is_guest", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("wallet_balance_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loyalty_points", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("preferences", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('customer', 'clerk', 'kiosk', 'theater_admin', 'platform_admin')",
            name=op.f("ck_users_role_valid"),
        ),
        sa.CheckConstraint(
            "wallet_balance_minor >= 0", name=op.f("ck_users_wallet_balance_minor_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("ix_users_phone", "users", ["phone"], unique=False)
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('session', 'api', 'kiosk')", name=op.f("ck_api_tokens_kind_valid")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_loyalty_ledger_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_ledger")),
    )
    op.create_index("ix_loyalty_ledger_user", "loyalty_ledger", ["user_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="PENDING", nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'SENT', 'FAILED')", name=op.f("ck_notifications_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id"], unique=False)
    op.create_table(
        "reviews",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("movie_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 10", name=op.f("ck_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["movie_id"], ["movies.id"], name=op.f("fk_reviews_movie_id_movies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reviews_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    op.create_index("uq_reviews_movie_user", "reviews", ["movie_id", "user_id"], unique=True)
    op.create_table(
        "theaters",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("city_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("facilities", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("hold_minutes", sa.SmallInteger(), server_default="10", nullable=False),
        sa.Column("cleaning_minutes", sa.SmallInteger(), server_default="15", nullable=False),
        sa.Column("convenience_fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "accessible_release_minutes", sa.BigInteger(), server_default="60", nullable=False
        ),
        sa.Column("cancellation_policy", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cleaning_minutes BETWEEN 0 AND 120", name=op.f("ck_theaters_cleaning_minutes_range")
        ),
        sa.CheckConstraint(
            "convenience_fee_minor >= 0",
            name=op.f("ck_theaters_convenience_fee_minor_not_negative"),
        ),
        sa.CheckConstraint(
            "hold_minutes BETWEEN 10 AND 15", name=op.f("ck_theaters_hold_minutes_range")
        ),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_theaters_latitude_range")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_theaters_longitude_range")
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["cities.id"], name=op.f("fk_theaters_city_id_cities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_theaters")),
        sa.UniqueConstraint("name", name=op.f("uq_theaters_name")),
    )
    op.create_table(
        "wallet_ledger",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=120), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("refund_id", sa.UUID(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wallet_ledger_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_ledger")),
    )
    op.create_index("ix_wallet_ledger_user", "wallet_ledger", ["user_id"], unique=False)
    op.create_table(
        "screens",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("theater_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("formats", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("layout_name", sa.String(length=200), nullable=False),
        sa.Column("layout_source", sa.Text(), nullable=False),
        sa.Column("screen_side", sa.String(length=6), nullable=False),
        sa.Column("width", sa.SmallInteger(), nullable=False),
        sa.Column("height", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theater_id"],
            ["theaters.id"],
            name=op.f("fk_screens_theater_id_theaters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screens")),
    )
    op.create_index("uq_screens_theater_name", "screens", ["theater_id", "name"], unique=True)
    op.create_table(
        "snack_items",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("theater_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.Boolean(), server_default="true", nullable=False),
        sa.CheckConstraint(
            "price_minor >= 0", name=op.f("ck_snack_items_price_minor_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["theater_id"],
            ["theaters.id"],
            name=op.f("fk_snack_items_theater_id_theaters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snack_items")),
    )
    op.create_table(
        "user_theaters",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("theater_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theater_id"],
            ["theaters.id"],
            name=op.f("fk_user_theaters_theater_id_theaters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_theaters_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "theater_id", name=op.f("pk_user_theaters")),
    )
    op.create_table(
        "price_rules",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("theater_id", sa.UUID(), nullable=False),
        sa.Column("screen_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("condition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("adjust_percent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seat_types", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("bounds", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("priority", sa.BigInteger(), server_default="100", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_price_rules_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theater_id"],
            ["theaters.id"],
            name=op.f("fk_price_rules_theater_id_theaters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_rules")),
    )
    op.create_table(
        "seats",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("screen_id", sa.UUID(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("row_label", sa.String(length=8), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("seat_type", sa.String(length=12), nullable=False),
        sa.Column("section", sa.String(length=40), nullable=False),
        sa.Column("x", sa.SmallInteger(), nullable=False),
        sa.Column("y", sa.SmallInteger(), nullable=False),
        sa.Column("accessible", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("pair_label", sa.String(length=16), nullable=True),
        sa.Column("retired", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint(
            "seat_type IN ('regular', 'premium', 'recliner', 'couple', 'wheelchair', 'companion')",
            name=op.f("ck_seats_seat_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["screen_id"],
            ["screens.id"],
            name=op.f("fk_seats_screen_id_screens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seats")),
    )
    op.create_index("uq_seats_screen_label", "seats", ["screen_id", "label"], unique=True)
    op.create_table(
        "shows",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("movie_id", sa.UUID(), nullable=False),
        sa.Column("screen_id", sa.UUID(), nullable=False),
        sa.Column("theater_id", sa.UUID(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleaning_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=40), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="SCHEDULED", nullable=False),
        sa.Column("sale_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prices", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("cancel_reason", sa.String(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.text("screen_id"), "="),
            (sa.text("tstzrange(starts_at, cleaning_ends_at)"), "&&"),
            where=sa.text("status <> 'CANCELLED'"),
            using="gist",
            name="no_overlap_on_screen",
        ),
        sa.CheckConstraint(
            "format IN ('2D', '3D', 'IMAX', '4DX')", name=op.f("ck_shows_format_valid")
        ),
        sa.CheckConstraint(
            "status IN ('SCHEDULED', 'CANCELLED', 'COMPLETED')", name=op.f("ck_shows_status_valid")
        ),
        sa.CheckConstraint("cleaning_ends_at >= ends_at", name=op.f("ck_shows_cleaning_after_end")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_shows_ends_after_start")),
        sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], name=op.f("fk_shows_movie_id_movies")),
        sa.ForeignKeyConstraint(
            ["screen_id"], ["screens.id"], name=op.f("fk_shows_screen_id_screens")
        ),
        sa.ForeignKeyConstraint(
            ["theater_id"], ["theaters.id"], name=op.f("fk_shows_theater_id_theaters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shows")),
    )
    op.create_index("ix_shows_movie_starts", "shows", ["movie_id", "starts_at"], unique=False)
    op.create_index("ix_shows_starts_at", "shows", ["starts_at"], unique=False)
    op.create_table(
        "holds",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("buyer_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="ACTIVE", nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="standard", nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("accessible_request", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('standard', 'group', 'waitlist_offer')", name=op.f("ck_holds_kind_valid")
        ),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'RELEASED', 'EXPIRED', 'CONVERTED')",
            name=op.f("ck_holds_status_valid"),
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_holds_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_holds_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    op.create_index(
        "ix_holds_active_buyer",
        "holds",
        ["show_id", "buyer_id"],
        unique=False,
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_table(
        "show_seats",
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("seat_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="AVAILABLE", nullable=False),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("accessible_only", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("unavailable_reason", sa.String(), nullable=True),
        sa.CheckConstraint(
            "(status = 'BLOCKED') = (hold_id IS NOT NULL AND held_until IS NOT NULL)",
            name=op.f("ck_show_seats_blocked_has_hold"),
        ),
        sa.CheckConstraint(
            "(status = 'BOOKED') = (booking_id IS NOT NULL)",
            name=op.f("ck_show_seats_booked_has_booking"),
        ),
        sa.CheckConstraint(
            "status IN ('AVAILABLE', 'BLOCKED', 'BOOKED', 'UNAVAILABLE')",
            name=op.f("ck_show_seats_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["seats.id"], name=op.f("fk_show_seats_seat_id_seats")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_show_seats_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("show_id", "seat_id", name=op.f("pk_show_seats")),
    )
    op.create_index(
        "ix_show_seats_expiry",
        "show_seats",
        ["held_until"],
        unique=False,
        postgresql_where=sa.text("status = 'BLOCKED'"),
    )
    op.create_index(
        "ix_show_seats_hold",
        "show_seats",
        ["hold_id"],
        unique=False,
        postgresql_where=sa.text("hold_id IS NOT NULL"),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("seats_wanted", sa.SmallInteger(), nullable=False),
        sa.Column("seat_type", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="WAITING", nullable=False),
        sa.Column("offered_hold_id", sa.UUID(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('WAITING', 'OFFERED', 'FULFILLED', 'EXPIRED', 'CANCELLED')",
            name=op.f("ck_waitlist_entries_status_valid"),
        ),
        sa.CheckConstraint(
            "seats_wanted BETWEEN 1 AND 10", name=op.f("ck_waitlist_entries_seats_wanted_range")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"],
            ["shows.id"],
            name=op.f("fk_waitlist_entries_show_id_shows"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_waitlist_entries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_show_status",
        "waitlist_entries",
        ["show_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("hold_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("seats_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("convenience_fee_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("loyalty_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("snacks_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("coupon_id", sa.UUID(), nullable=True),
        sa.Column("contact_email", sa.String(), nullable=True),
        sa.Column("contact_phone", sa.String(), nullable=True),
        sa.Column("review_reason", sa.String(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('box_office', 'kiosk', 'online', 'api')",
            name=op.f("ck_bookings_channel_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'REVIEW', 'CONFIRMED', 'PARTIALLY_CANCELLED', 'CANCELLED', 'REFUSED')",
            name=op.f("ck_bookings_status_valid"),
        ),
        sa.CheckConstraint(
            "convenience_fee_minor >= 0",
            name=op.f("ck_bookings_convenience_fee_minor_not_negative"),
        ),
        sa.CheckConstraint(
            "discount_minor >= 0", name=op.f("ck_bookings_discount_minor_not_negative")
        ),
        sa.CheckConstraint(
            "loyalty_minor >= 0", name=op.f("ck_bookings_loyalty_minor_not_negative")
        ),
        sa.CheckConstraint(
            "refunded_minor <= total_minor", name=op.f("ck_bookings_refund_within_total")
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0", name=op.f("ck_bookings_refunded_minor_not_negative")
        ),
        sa.CheckConstraint("seats_minor >= 0", name=op.f("ck_bookings_seats_minor_not_negative")),
        sa.CheckConstraint("snacks_minor >= 0", name=op.f("ck_bookings_snacks_minor_not_negative")),
        sa.CheckConstraint("tax_minor >= 0", name=op.f("ck_bookings_tax_minor_not_negative")),
        sa.CheckConstraint(
            "total_minor = seats_minor + convenience_fee_minor + tax_minor + snacks_minor - discount_minor - loyalty_minor",
            name=op.f("ck_bookings_total_adds_up"),
        ),
        sa.CheckConstraint("total_minor >= 0", name=op.f("ck_bookings_total_minor_not_negative")),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"], name=op.f("fk_bookings_hold_id_holds")),
        sa.ForeignKeyConstraint(["show_id"], ["shows.id"], name=op.f("fk_bookings_show_id_shows")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
    )
    op.create_index("ix_bookings_show", "bookings", ["show_id"], unique=False)
    op.create_index("ix_bookings_user", "bookings", ["user_id"], unique=False)
    op.create_index("uq_bookings_hold", "bookings", ["hold_id"], unique=True)
    op.create_table(
        "hold_seats",
        sa.Column("hold_id", sa.UUID(), nullable=False),
        sa.Column("seat_id", sa.UUID(), nullable=False),
        sa.Column("seat_type", sa.String(length=12), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_hold_seats_price_minor_not_negative")),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_hold_seats_hold_id_holds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["seats.id"], name=op.f("fk_hold_seats_seat_id_seats")
        ),
        sa.PrimaryKeyConstraint("hold_id", "seat_id", name=op.f("pk_hold_seats")),
    )
    op.create_table(
        "booking_seats",
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("seat_id", sa.UUID(), nullable=False),
        sa.Column("show_id", sa.UUID(), nullable=False),
        sa.Column("seat_type", sa.String(length=12), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="ACTIVE", nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'CANCELLED')", name=op.f("ck_booking_seats_status_valid")
        ),
        sa.CheckConstraint(
            "price_minor >= 0", name=op.f("ck_booking_seats_price_minor_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_seats_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["seats.id"], name=op.f("fk_booking_seats_seat_id_seats")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_booking_seats_show_id_shows")
        ),
        sa.PrimaryKeyConstraint("booking_id", "seat_id", name=op.f("pk_booking_seats")),
    )
    op.create_index(
        "uq_booking_seats_active_seat",
        "booking_seats",
        ["show_id", "seat_id"],
        unique=True,
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("coupon_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_coupon_redemptions_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_redemptions_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_coupon_redemptions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemptions")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_coupon_redemptions_booking_id")),
    )
    op.create_index(
        "ix_coupon_redemptions_user", "coupon_redemptions", ["coupon_id", "user_id"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("gateway_ref", sa.String(length=100), nullable=True),
        sa.Column("card_token", sa.String(length=100), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("payer_name", sa.String(), nullable=True),
        sa.Column("tendered_minor", sa.BigInteger(), nullable=True),
        sa.Column("change_minor", sa.BigInteger(), nullable=True),
        sa.Column("failure_reason", sa.String(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "method IN ('card', 'upi', 'wallet', 'net_banking', 'cash')",
            name=op.f("ck_payments_method_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('AUTHORIZED', 'CAPTURED', 'VOIDED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')",
            name=op.f("ck_payments_status_valid"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded_minor <= amount_minor", name=op.f("ck_payments_refund_within_amount")
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0", name=op.f("ck_payments_refunded_minor_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_payments_booking_id_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    op.create_index("ix_payments_booking", "payments", ["booking_id"], unique=False)
    op.create_index("ix_payments_gateway_ref", "payments", ["gateway_ref"], unique=False)
    op.create_table(
        "snack_orders",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("pickup_code", sa.String(length=12), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_snack_orders_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snack_orders")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_snack_orders_booking_id")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by", sa.UUID(), nullable=True),
        sa.Column("checkin_location", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_tickets_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("booking_id", name=op.f("uq_tickets_booking_id")),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_kept_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("destination", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "destination IN ('original', 'wallet')", name=op.f("ck_refunds_destination_valid")
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'SUCCEEDED', 'FAILED')", name=op.f("ck_refunds_status_valid")
        ),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_refunds_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_refunds_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
    )
    op.create_index("ix_refunds_booking", "refunds", ["booking_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_refunds_booking", table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("tickets")
    op.drop_table("snack_orders")
    op.drop_index("ix_payments_gateway_ref", table_name="payments")
    op.drop_index("ix_payments_booking", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_coupon_redemptions_user", table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_index(
        "uq_booking_seats_active_seat",
        table_name="booking_seats",
        postgresql_where=sa.text("status = 'ACTIVE'"),
    )
    op.drop_table("booking_seats")
    op.drop_table("hold_seats")
    op.drop_index("uq_bookings_hold", table_name="bookings")
    op.drop_index("ix_bookings_user", table_name="bookings")
    op.drop_index("ix_bookings_show", table_name="bookings")
    op.drop_table("bookings")
    op.drop_index("ix_waitlist_show_status", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.drop_index(
        "ix_show_seats_hold",
        table_name="show_seats",
        postgresql_where=sa.text("hold_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_show_seats_expiry",
        table_name="show_seats",
        postgresql_where=sa.text("status = 'BLOCKED'"),
    )
    op.drop_table("show_seats")
    op.drop_index(
        "ix_holds_active_buyer", table_name="holds", postgresql_where=sa.text("status = 'ACTIVE'")
    )
    op.drop_table("holds")
    op.drop_index("ix_shows_starts_at", table_name="shows")
    op.drop_index("ix_shows_movie_starts", table_name="shows")
    op.drop_table("shows")
    op.drop_index("uq_seats_screen_label", table_name="seats")
    op.drop_table("seats")
    op.drop_table("price_rules")
    op.drop_table("user_theaters")
    op.drop_table("snack_items")
    op.drop_index("uq_screens_theater_name", table_name="screens")
    op.drop_table("screens")
    op.drop_index("ix_wallet_ledger_user", table_name="wallet_ledger")
    op.drop_table("wallet_ledger")
    op.drop_table("theaters")
    op.drop_index("uq_reviews_movie_user", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_notifications_user", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_loyalty_ledger_user", table_name="loyalty_ledger")
    op.drop_table("loyalty_ledger")
    op.drop_table("api_tokens")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_index("ix_users_phone", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_seat_transitions_show_seat", table_name="seat_transitions")
    op.drop_table("seat_transitions")
    op.drop_index(
        "ix_outbox_pending", table_name="outbox", postgresql_where=sa.text("processed_at IS NULL")
    )
    op.drop_table("outbox")
    op.drop_index(
        "ix_movies_title_trgm",
        table_name="movies",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
    )
    op.drop_table("movies")
    op.drop_table("coupons")
    op.drop_table("cities")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.execute("DROP SEQUENCE IF EXISTS seat_events_seq")
    op.execute("DROP SEQUENCE IF EXISTS lock_fence_seq")
