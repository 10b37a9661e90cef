"""Release alerts ("notify me") through the real HTTP API and the real database and SMTP
server: create, repeat, list and delete an alert, the errors, and the one e-mail per alert
when the movie's first show goes on sale in the city, also when two job runs race."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.db.models import City, Movie, ReleaseAlert
from server.domain.alerts import services as alerts
from server.domain.notifications import worker
from server.infra.state import Services
from tests.factories import auth, make_user, make_world
from tests.integration.test_catalog import add_movie, add_show
from tests.integration.test_notifications import one
from tests.mailbox import Mailbox


async def upcoming_movie(session: AsyncSession) -> Movie:
    return await add_movie(session, "Dune: Part Three", date(2026, 12, 18))


async def other_city(session: AsyncSession) -> City:
    city = City(name="Othertown", country="IN", timezone="Asia/Kolkata", currency="INR")
    session.add(city)
    await session.commit()
    return city


async def signed_in(session: AsyncSession, role: Role = Role.CUSTOMER) -> dict[str, str]:
    _, token = await make_user(session, role=role, password=None)
    return auth(token)


async def test_an_alert_is_created_once_listed_and_deleted_by_its_owner(
    client: AsyncTestClient, session: AsyncSession, clock: FrozenClock
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=2))
    dune = await upcoming_movie(session)
    ann, bob = await signed_in(session), await signed_in(session)
    url = f"/api/v1/movies/{dune.id}/alerts"

    created = await client.post(url, json={"city": "testville"}, headers=ann)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert == {
        "alert_id": alert["alert_id"],
        "movie_id": str(dune.id),
        "movie_title": "Dune: Part Three",
        "release_date": "2026-12-18",
        "city_id": str(world.city_id),
        "city": "Testville",
        "created_at": "2026-11-20T09:00:00Z",
        "notified_at": None,
    }
    # Asking again (by the city's id this time) answers the same alert.
    again = await client.post(url, json={"city": str(world.city_id)}, headers=ann)
    assert again.status_code == 200, again.text
    assert again.json() == alert
    assert (await client.get("/api/v1/me/alerts", headers=ann)).json() == [alert]
    assert (await client.get("/api/v1/me/alerts", headers=bob)).json() == []

    path = f"/api/v1/alerts/{alert['alert_id']}"
    not_hers = await client.delete(path, headers=bob)
    assert not_hers.status_code == 404
    assert "GET /api/v1/me/alerts lists yours" in not_hers.json()["detail"]
    assert (await client.delete(path, headers=ann)).status_code == 204
    assert (await client.get("/api/v1/me/alerts", headers=ann)).json() == []
    assert (await client.delete(path, headers=ann)).status_code == 404


async def test_bad_alert_requests_get_clear_problems(
    client: AsyncTestClient, session: AsyncSession, clock: FrozenClock
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=2))
    dune = await upcoming_movie(session)
    othertown = await other_city(session)
    ann = await signed_in(session)
    guest = (await client.post("/api/v1/auth/guest", json={})).json()["token"]
    clerk = await signed_in(session, Role.CLERK)
    dune_url = f"/api/v1/movies/{dune.id}/alerts"

    async def problem(url: str, body: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        answer = await client.post(url, json=body, headers=headers)
        assert answer.headers["content-type"].startswith("application/problem+json")
        return answer.status_code, answer.json()["detail"]

    status, detail = await problem(dune_url, {"city": "Testville"}, {})
    assert status == 401 and "bearer token" in detail
    status, detail = await problem(dune_url, {"city": "Testville"}, auth(guest))
    assert status == 403 and "Guests cannot ask for release alerts" in detail
    status, detail = await problem(dune_url, {"city": "Testville"}, clerk)
    assert status == 403 and "for customer accounts; you are signed in as clerk" in detail
    status, detail = await problem(f"/api/v1/movies/{uuid.uuid4()}/alerts", {"city": "x"}, ann)
    assert status == 404 and "There is no movie" in detail
    status, detail = await problem(dune_url, {"city": "Atlantis"}, ann)
    assert status == 404 and "There is no city 'Atlantis'" in detail
    status, detail = await problem(dune_url, {"city": "  "}, ann)
    assert status == 422 and '"city"' in detail

    # Test Movie is on sale in Testville: book it instead, and here is where.
    on_sale = await client.post(
        f"/api/v1/movies/{world.movie_id}/alerts", json={"city": "Testville"}, headers=ann
    )
    assert on_sale.status_code == 409
    conflict = on_sale.json()
    assert conflict["detail"].startswith(
        "Test Movie is already on sale in Testville: the first show is "
        "Sun 22 Nov 2026, 14:30 IST at Test Cinema."
    )
    assert conflict["show_id"] == str(world.show_id)
    assert conflict["shows"] == f"/api/v1/shows?city={world.city_id}&movie_id={world.movie_id}"
    # Elsewhere it is not on sale, so it can be awaited there.
    elsewhere = await client.post(
        f"/api/v1/movies/{world.movie_id}/alerts", json={"city": othertown.name}, headers=ann
    )
    assert elsewhere.status_code == 201, elsewhere.text


async def test_one_email_per_alert_when_a_show_goes_on_sale_even_with_two_runs_at_once(
    services: Services,
    providers,
    session: AsyncSession,
    engine: AsyncEngine,
    clock: FrozenClock,
    mailbox: Mailbox,
) -> None:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=2))
    dune = await upcoming_movie(session)
    othertown = await other_city(session)
    waiting = {}
    for name, city_id in [("ann", world.city_id), ("bob", world.city_id), ("cyd", othertown.id)]:
        user, _ = await make_user(session, email=f"{name}@example.test", password=None)
        alert = ReleaseAlert(
            user_id=user.id, movie_id=dune.id, city_id=city_id, created_at=clock.now()
        )
        session.add(alert)
        await session.commit()
        waiting[name] = alert.id
    assert await alerts.send_due(services) == 0

    # Scheduled in Testville, with its sale opening tomorrow: not bookable yet.
    opens = clock.now() + timedelta(days=1)
    monday = clock.now() + timedelta(days=3)  # Mon 23 Nov, 14:30 in Mumbai
    await add_show(session, world, monday, movie_id=dune.id, sale_opens_at=opens)
    assert await alerts.send_due(services) == 0

    clock.set(opens)
    # Two runs at once, each on its own connection, one alert a batch so both find work.
    runs = await asyncio.gather(*(alerts.send_due(services, limit=1) for _ in range(2)))
    assert sum(runs) == 2
    assert await alerts.send_due(services) == 0
    events = await one(engine, "SELECT count(*) AS n FROM outbox WHERE topic = 'release.on_sale'")
    assert events.n == 2

    assert await worker.drain(services, providers) == 2
    assert sorted(m["To"] for m in mailbox.messages) == ["ann@example.test", "bob@example.test"]
    [to_ann] = mailbox.to("ann@example.test")
    assert to_ann["Subject"] == "Dune: Part Three is on sale in Testville"
    body = to_ann.get_content()
    assert "When      Mon 23 Nov 2026, 14:30 IST" in body
    assert "Where     Test Cinema, Screen 1" in body
    notified = await one(
        engine,
        "SELECT count(*) FILTER (WHERE notified_at = :opens) AS sent,"
        " count(*) FILTER (WHERE notified_at IS NULL) AS waiting FROM release_alerts",
        opens=opens,
    )
    assert (notified.sent, notified.waiting) == (2, 1)  # cyd waits for Othertown
