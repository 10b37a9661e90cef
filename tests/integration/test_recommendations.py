"""Recommendations through the real app: co-bookings first, then taste, then popularity; booked
movies left out, cancelled bookings ignored, one city or all, and a problem for bad input."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.settings import Settings
from tests.factories import World, auth, make_user, make_world
from tests.integration.test_cancellation import buy, cancel
from tests.integration.test_catalog import add_movie, add_show, assert_problem

URL = "/api/v1/me/recommendations"
MUMBAI = "Testville Mumbai"
Headers = dict[str, str]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Every test booking pays with the same card; the fraud rule would hold the 11th for review.
    return replace(settings, risk_bookings_per_card=100)


@dataclass
class Town:
    """Mumbai's movies (title -> its show there) and the customers who booked them."""

    world: World
    shows: dict[str, World]
    people: dict[str, Headers]


async def customer(session: AsyncSession) -> Headers:
    _, token = await make_user(session)
    return auth(token)


async def booked(
    client: AsyncTestClient, town: Town, who: str, title: str, *labels: str
) -> dict[str, Any]:
    return await buy(client, town.people[who], town.shows[title], *labels)


@pytest.fixture
async def town(client: AsyncTestClient, session: AsyncSession, clock: FrozenClock) -> Town:
    """alice booked Interstellar; bob and carol booked it too, and both booked Arrival; bob
    booked two seats of The Notebook and gave one back, carol one of Cars. carol's The Notebook
    was cancelled.
    A clerk sold Interstellar and Cars at the counter. Test Movie Mumbai (Drama, English)
    nobody booked."""
    world = await make_world(
        session, starts_at=clock.now() + timedelta(days=1), name_suffix=" Mumbai"
    )
    movies = {
        "Interstellar": ["Sci-Fi"],
        "Arrival": ["Sci-Fi"],
        "The Notebook": ["Romance"],
        "Cars": ["Animation"],
    }
    shows = {"Test Movie Mumbai": world}
    for hours, (title, genres) in enumerate(movies.items(), start=1):
        languages = ["Hindi"] if title == "Cars" else ["English"]
        movie = await add_movie(
            session, title, date(2026, 11, 1), genres=genres, languages=languages
        )
        starts = clock.now() + timedelta(days=1, hours=3 * hours)
        show_id = await add_show(session, world, starts, movie_id=movie.id)
        shows[title] = replace(world, movie_id=movie.id, show_ids=[show_id])
    people = {name: await customer(session) for name in ("alice", "bob", "carol")}
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    people["clerk"] = auth(clerk)
    town = Town(world, shows, people)
    await booked(client, town, "alice", "Interstellar", "A1")
    for who, seat in (("bob", "B1"), ("carol", "C1")):
        await booked(client, town, who, "Interstellar", seat)
        await booked(client, town, who, "Arrival", seat)
    kept = await booked(client, town, "bob", "The Notebook", "B1", "B2")
    await booked(client, town, "carol", "Cars", "C1")
    for title in ("Interstellar", "Cars"):
        await booked(client, town, "clerk", title, "D1")
    gone = await booked(client, town, "carol", "The Notebook", "C1")
    for who, code, seats in (
        ("bob", kept["code"], [town.world.seats["B2"]]),
        ("carol", gone["code"], None),
    ):
        answer = await cancel(client, town.people[who], code, confirm=True, seats=seats)
        assert answer.status_code == 200, answer.text
    return town


async def recommended(client: AsyncTestClient, headers: Headers, **params: Any) -> list[Any]:
    answer = await client.get(URL, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return [(r["movie"]["title"], r["score"], r["reason"]) for r in answer.json()]


async def test_people_who_booked_what_you_booked_come_first(
    client: AsyncTestClient, town: Town
) -> None:
    # alice's taste from Interstellar: Sci-Fi and English, a quarter point per match.
    assert await recommended(client, town.people["alice"], city=MUMBAI) == [
        ("Arrival", 2.5, "Booked by people who also booked Interstellar"),
        # One co-booking each: bob still has a seat for The Notebook; carol has none.
        ("The Notebook", 1.25, "Booked by people who also booked Interstellar"),
        # The clerk's counter sales are walk-ins' choices, not a co-booking.
        ("Cars", 1.0, "Booked by people who also booked Interstellar"),
        ("Test Movie Mumbai", 0.25, "Because you booked English movies before"),
    ]
    # Co-bookings add up over your movies: carol booked Cars and both of bob's Sci-Fi movies.
    # When they tie, the reason names the first by title.
    assert await recommended(client, town.people["bob"]) == [
        ("Cars", 2.0, "Booked by people who also booked Arrival"),
        ("Test Movie Mumbai", 0.25, "Because you booked English movies before"),
    ]
    # A cancelled booking is no booking: carol is offered The Notebook again.
    assert await recommended(client, town.people["carol"]) == [
        ("The Notebook", 2.25, "Booked by people who also booked Arrival"),
        ("Test Movie Mumbai", 0.25, "Because you booked English movies before"),
    ]


async def test_without_history_popularity_decides_and_stated_likes_count(
    client: AsyncTestClient, session: AsyncSession, clock: FrozenClock, town: Town
) -> None:
    guest = auth((await client.post("/api/v1/auth/guest", json={})).json()["token"])
    answer = await client.get(URL, params={"city": MUMBAI}, headers=guest)
    assert answer.status_code == 200, answer.text
    found = [(r["movie"]["title"], r["tickets_sold"], r["reason"]) for r in answer.json()]
    assert found == [
        # Every ticket counts for popularity, counter sales included; ties go by title.
        ("Interstellar", 4, "Popular in Testville Mumbai"),
        ("Arrival", 2, "Popular in Testville Mumbai"),
        ("Cars", 2, "Popular in Testville Mumbai"),
        ("The Notebook", 1, "Popular in Testville Mumbai"),
        ("Test Movie Mumbai", 0, "Now showing in Testville Mumbai"),
    ]
    assert {r["score"] for r in answer.json()} == {0}
    assert answer.json()[0]["movie"]["genres"] == ["Sci-Fi"]

    # Another city, by name in any case or by id; without one, every city.
    london = await make_world(
        session, starts_at=clock.now() + timedelta(days=2), name_suffix=" London"
    )
    in_london = [("Test Movie London", 0, "Now showing in Testville London")]
    assert await recommended(client, guest, city="testville london") == in_london
    assert await recommended(client, guest, city=str(london.city_id)) == in_london
    assert await recommended(client, guest, limit=2) == [
        ("Interstellar", 0, "Popular right now"),
        ("Arrival", 0, "Popular right now"),
    ]
    everywhere = await recommended(client, guest)
    assert [title for title, _, _ in everywhere][-2:] == ["Test Movie London", "Test Movie Mumbai"]

    # Genres and languages in the profile, in any case, count half a co-booking each.
    user, token = await make_user(session)
    user.preferences = {"contact_email": "kept@example.com"}
    await session.commit()
    said = {"genres": [" romance", "Drama", "ROMANCE"], "languages": ["hindi"]}
    saved = await client.put("/api/v1/me/preferences", json=said, headers=auth(token))
    assert saved.json() == {"genres": ["romance", "Drama"], "languages": ["hindi"]}, saved.text
    assert (await client.get("/api/v1/me/preferences", headers=auth(token))).json() == saved.json()
    await session.refresh(user)
    assert user.preferences["contact_email"] == "kept@example.com"
    too_long = {"genres": ["x" * 41]}
    assert_problem(
        await client.put("/api/v1/me/preferences", json=too_long, headers=auth(token)), 400
    )
    assert await recommended(client, auth(token), city=MUMBAI, limit=3) == [
        ("Cars", 0.5, "Because you like Hindi"),  # more tickets than The Notebook
        ("The Notebook", 0.5, "Because you like Romance"),
        ("Test Movie Mumbai", 0.5, "Because you like Drama"),
    ]


async def test_bad_requests_are_problems(client: AsyncTestClient, session: AsyncSession) -> None:
    assert "log in" in assert_problem(await client.get(URL), 401)["detail"]
    headers = await customer(session)
    missing = assert_problem(
        await client.get(URL, params={"city": "Atlantis"}, headers=headers), 404
    )
    assert "Atlantis" in missing["detail"]
    for limit in ("0", "51", "many"):
        assert_problem(await client.get(URL, params={"limit": limit}, headers=headers), 400)
    assert await recommended(client, headers) == []
