"""Release alerts ("notify me"): a signed-in customer asks to hear when a movie they cannot
book yet gets a show on sale in a city, and hears it once.

Asking is idempotent per customer, movie and city (a repeat answers the alert they have);
asking about a movie already on sale there is a 409 pointing at its shows. Guests cannot ask:
a guest session keeps no address to write to weeks later. Every server process runs the job
(``send_due``), which covers every way a show goes on sale (a schedule upload, a single
show, a sale opening at ``sale_opens_at``); the database keeps it to one e-mail per alert
(see ``queries.claim_due``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.contracts.alerts import AlertCreate, AlertOut
from server.contracts.enums import Role
from server.contracts.notifications import MovieOnSale
from server.domain.accounts.principal import Principal
from server.domain.alerts import queries
from server.domain.catalog.services import find_movie, resolve_city
from server.domain.errors import Conflict, Forbidden, Invalid, NotFound
from server.domain.notifications.outbox import enqueue_claimed
from server.domain.notifications.templates import local_time
from server.infra.state import Services

INTERVAL_SECONDS = 30.0
BATCH_SIZE = 200


def alert_out(row: Any) -> AlertOut:
    return AlertOut(
        alert_id=row.alert_id,
        movie_id=row.movie_id,
        movie_title=row.movie_title,
        release_date=row.release_date,
        city_id=row.city_id,
        city=row.city,
        created_at=row.created_at,
        notified_at=row.notified_at,
    )


def _check_customer(principal: Principal) -> None:
    if principal.role is not Role.CUSTOMER:
        raise Forbidden(
            f"Release alerts are for customer accounts; you are signed in as "
            f"{principal.role.value}."
        )
    if principal.is_guest:
        raise Forbidden(
            "Guests cannot ask for release alerts: a guest session keeps no address to write "
            "to. Log in with a customer account (POST /api/v1/auth/login) first."
        )


async def ask(
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    movie_id: uuid.UUID,
    body: AlertCreate,
) -> tuple[AlertOut, bool]:
    """The caller's alert for the movie in the city, and whether it is new."""
    _check_customer(principal)
    city_key = body.city.strip()
    if not city_key:
        raise Invalid('Give the city to watch in "city", by name or id.', field="city")
    movie = await find_movie(session, movie_id)
    city = await resolve_city(session, city_key)
    existing = await queries.alert_of(session, principal.user_id, movie.id, city.id)
    if existing is not None:
        return alert_out(existing), False
    now = clock.now()
    first = await queries.first_on_sale(session, movie.id, city.id, now)
    if first is not None:
        raise Conflict(
            f"{movie.title} is already on sale in {city.name}: the first show is "
            f"{local_time(first.starts_at, first.timezone)} at {first.theater_name}. Book it "
            f"now; GET /api/v1/shows?city={city.id}&movie_id={movie.id} lists its shows.",
            show_id=str(first.show_id),
            shows=f"/api/v1/shows?city={city.id}&movie_id={movie.id}",
        )
    created = await queries.insert_alert(session, principal.user_id, movie.id, city.id, now)
    await session.commit()
    # Not created: the same request, sent twice at once, made it first; answer that one.
    found = await queries.alert_of(session, principal.user_id, movie.id, city.id)
    if found is None:
        raise Conflict("You deleted this alert while asking for it again; ask once more.")
    return alert_out(found), created


async def mine(session: AsyncSession, principal: Principal) -> list[AlertOut]:
    return [alert_out(row) for row in await queries.alerts_of(session, principal.user_id)]


async def remove(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> None:
    if not await queries.delete_alert(session, alert_id, principal.user_id):
        raise NotFound(f"You have no release alert {alert_id}; GET /api/v1/me/alerts lists yours.")
    await session.commit()


async def send_due(services: Services, *, limit: int = BATCH_SIZE) -> int:
    """Queue the e-mail of every alert whose movie has a show on sale in its city now;
    returns how many."""
    return await enqueue_claimed(
        services.engine,
        lambda conn, batch: queries.claim_due(conn, services.clock.now(), batch),
        "release.on_sale",
        lambda alert: MovieOnSale(
            alert_id=alert.id, user_id=alert.user_id, show_id=alert.show_id, city=alert.city
        ),
        limit,
    )
