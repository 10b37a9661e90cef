"""Database layer: the typed ORM models, the engine and the Alembic migrations."""
