"""Both pools reach the same database whichever URL form BMS_DATABASE_URL uses."""

import pytest

from server.infra.database import async_url, driver_url


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://bms:secret@db.example:5433/bms?sslmode=require",
        "postgres://bms:secret@db.example:5433/bms?sslmode=require",
        "postgresql+psycopg://bms:secret@db.example:5433/bms?sslmode=require",
        "postgresql+asyncpg://bms:secret@db.example:5433/bms?sslmode=require",
    ],
)
def test_sqlalchemy_and_asyncpg_urls_name_the_same_server(given: str) -> None:
    assert async_url(given) == "postgresql+asyncpg://bms:secret@db.example:5433/bms?sslmode=require"
    assert (
        driver_url(async_url(given))
        == "postgresql://bms:secret@db.example:5433/bms?sslmode=require"
    )
