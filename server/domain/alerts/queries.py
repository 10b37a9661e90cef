"""SQL for release alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from server.db.models import City, Movie, ReleaseAlert

# A show a customer can book now: scheduled, not started, and its sale open.
ON_SALE = """
       sh.status = 'SCHEDULED' AND sh.starts_at > :now
   AND (sh.sale_opens_at IS NULL OR sh.sale_opens_at <= :now)
"""


def first_on_sale_sql(movie: str, city: str) -> str:
    """The first show on sale of the movie in the city, given as SQL expressions."""
    return f"""
    SELECT sh.id AS show_id, sh.starts_at, t.name AS theater_name, c.timezone
      FROM shows sh
      JOIN theaters t ON t.id = sh.theater_id
      JOIN cities c ON c.id = t.city_id
     WHERE sh.movie_id = {movie} AND t.city_id = {city} AND {ON_SALE}
     ORDER BY sh.starts_at, sh.id
     LIMIT 1
    """


async def first_on_sale(
    session: AsyncSession, movie_id: uuid.UUID, city_id: uuid.UUID, now: datetime
) -> Row[Any] | None:
    rows = await session.execute(
        text(first_on_sale_sql(":movie", ":city")),
        {"movie": movie_id, "city": city_id, "now": now},
    )
    return rows.first()


def _alerts() -> Any:
    return (
        select(
            ReleaseAlert.id.label("alert_id"),
            ReleaseAlert.movie_id,
            Movie.title.label("movie_title"),
            Movie.release_date,
            ReleaseAlert.city_id,
            City.name.label("city"),
            ReleaseAlert.created_at,
            ReleaseAlert.notified_at,
        )
        .join(Movie, Movie.id == ReleaseAlert.movie_id)
        .join(City, City.id == ReleaseAlert.city_id)
    )


async def alert_of(
    session: AsyncSession, user_id: uuid.UUID, movie_id: uuid.UUID, city_id: uuid.UUID
) -> Row[Any] | None:
    query = _alerts().where(
        ReleaseAlert.user_id == user_id,
        ReleaseAlert.movie_id == movie_id,
        ReleaseAlert.city_id == city_id,
    )
    return (await session.execute(query)).first()


async def alerts_of(session: AsyncSession, user_id: uuid.UUID) -> list[Row[Any]]:
    """A user's alerts, newest first."""
    query = _alerts().where(ReleaseAlert.user_id == user_id)
    rows = await session.execute(query.order_by(ReleaseAlert.created_at.desc(), ReleaseAlert.id))
    return list(rows)


async def insert_alert(
    session: AsyncSession,
    user_id: uuid.UUID,
    movie_id: uuid.UUID,
    city_id: uuid.UUID,
    now: datetime,
) -> bool:
    """Whether a new alert was written; False when the user has this one already (the unique
    index decides, so two requests at once make one alert)."""
    written = await session.execute(
        insert(ReleaseAlert)
        .values(user_id=user_id, movie_id=movie_id, city_id=city_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "movie_id", "city_id"])
        .returning(ReleaseAlert.id)
    )
    return written.first() is not None


async def delete_alert(session: AsyncSession, alert_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    deleted = await session.execute(
        delete(ReleaseAlert)
        .where(ReleaseAlert.id == alert_id, ReleaseAlert.user_id == user_id)
        .returning(ReleaseAlert.id)
    )
    return deleted.first() is not None


# Picks the alerts whose movie now has a show on sale in their city and marks them notified
# in one statement, so each is picked once however many processes run the job at once
# (SKIP LOCKED passes over rows another run is marking; one it marked and committed meanwhile
# fails the ``notified_at IS NULL`` re-check the lock makes).
CLAIM_DUE = text(
    f"""
    WITH due AS (
        SELECT a.id, first.show_id
          FROM release_alerts a,
               LATERAL ({first_on_sale_sql("a.movie_id", "a.city_id")}) first
         WHERE a.notified_at IS NULL
         ORDER BY a.created_at, a.id
         LIMIT :limit
           FOR UPDATE OF a SKIP LOCKED
    )
    UPDATE release_alerts a SET notified_at = :now
      FROM due, cities c
     WHERE a.id = due.id AND a.notified_at IS NULL AND c.id = a.city_id
    RETURNING a.id, a.user_id, due.show_id, c.name AS city
    """
)


async def claim_due(conn: AsyncConnection, now: datetime, limit: int) -> list[Row[Any]]:
    return list(await conn.execute(CLAIM_DUE, {"now": now, "limit": limit}))
