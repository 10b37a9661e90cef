"""The public catalog through the real app: places, movies, search, reviews, show listings."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.db.models import City, Movie, Theater
from server.domain.catalog.services import forget_lists
from server.domain.schedule.services import ShowSpec, create_shows
from server.settings import Settings
from tests.factories import DEFAULT_PRICES, World, auth, make_user, make_world

# The test clock stands at 2026-11-20 09:00 UTC, which is 14:30 in Kolkata and 09:00 in London.


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


async def add_movie(session: AsyncSession, title: str, released: date, **fields) -> Movie:
    movie = Movie(
        title=title,
        genres=fields.pop("genres", ["Drama"]),
        languages=fields.pop("languages", ["English"]),
        duration_minutes=fields.pop("duration_minutes", 110),
        certification="U",
        release_date=released,
        **fields,
    )
    session.add(movie)
    await session.commit()
    return movie


async def add_show(session: AsyncSession, world: World, starts_at: datetime, **fields) -> uuid.UUID:
    spec = ShowSpec(
        movie_id=fields.pop("movie_id", world.movie_id),
        screen_id=world.screen_id,
        theater_id=world.theater_id,
        starts_at=starts_at,
        duration_minutes=120,
        language="English",
        format=fields.pop("format", "2D"),
        prices=dict(DEFAULT_PRICES),
        sale_opens_at=fields.pop("sale_opens_at", None),
    )
    [show_id] = await create_shows(session, [spec])
    await session.commit()
    return show_id


async def move(session: AsyncSession, world: World, *, lat: float, lon: float, tz: str) -> None:
    theater = await session.get(Theater, world.theater_id)
    city = await session.get(City, world.city_id)
    assert theater and city
    theater.latitude, theater.longitude, city.timezone = lat, lon, tz
    await session.commit()


@pytest.fixture
async def mumbai(session: AsyncSession, clock: FrozenClock) -> World:
    return await make_world(
        session, starts_at=clock.now() + timedelta(days=1), name_suffix=" Mumbai"
    )


@pytest.fixture
async def london(session: AsyncSession, clock: FrozenClock) -> World:
    world = await make_world(
        session, starts_at=clock.now() + timedelta(days=1, hours=1), name_suffix=" London"
    )
    await move(session, world, lat=51.5076, lon=-0.1106, tz="Europe/London")
    return world


# -- cities and theaters --------------------------------------------------------------------


async def test_cities_and_theaters_by_city_and_distance(
    client: AsyncTestClient, mumbai: World, london: World
) -> None:
    cities = (await client.get("/api/v1/cities")).json()
    assert [c["name"] for c in cities] == ["Testville London", "Testville Mumbai"]
    assert {c["timezone"] for c in cities} == {"Asia/Kolkata", "Europe/London"}

    by_name = (await client.get("/api/v1/theaters", params={"city": "testville london"})).json()
    by_id = (await client.get("/api/v1/theaters", params={"city": str(london.city_id)})).json()
    assert [t["name"] for t in by_name] == [t["name"] for t in by_id] == ["Test Cinema London"]
    assert by_name[0]["distance_km"] is None

    # From Paris, London is nearer than Mumbai.
    nearby = (await client.get("/api/v1/theaters", params={"lat": 48.8566, "lon": 2.3522})).json()
    assert [t["theater_id"] for t in nearby] == [str(london.theater_id), str(mumbai.theater_id)]
    assert 330 < nearby[0]["distance_km"] < 350
    assert nearby[1]["distance_km"] > 6000


async def test_theater_questions_that_cannot_be_answered(
    client: AsyncTestClient, mumbai: World
) -> None:
    assert (
        "Nowhere"
        in assert_problem(await client.get("/api/v1/theaters", params={"city": "Nowhere"}), 404)[
            "detail"
        ]
    )
    assert_problem(await client.get("/api/v1/theaters", params={"lat": 19.0}), 422)
    assert_problem(await client.get("/api/v1/theaters", params={"lat": 91, "lon": 0}), 422)
    assert_problem(await client.get("/api/v1/theaters", params={"lat": "north", "lon": 0}), 400)
    assert_problem(await client.get(f"/api/v1/theaters/{uuid.uuid4()}"), 404)
    assert_problem(await client.get("/api/v1/theaters/not-a-uuid"), 404)


async def test_theater_detail_lists_its_screens_with_capacity(
    client: AsyncTestClient, mumbai: World
) -> None:
    detail = (await client.get(f"/api/v1/theaters/{mumbai.theater_id}")).json()
    assert detail["name"] == "Test Cinema Mumbai"
    assert detail["city"] == "Testville Mumbai"
    [screen] = detail["screens"]
    assert screen["screen_id"] == str(mumbai.screen_id)
    assert screen["seats_total"] == 150
    assert screen["layout_name"] == "Standard 150"


# -- movies ---------------------------------------------------------------------------------


@pytest.fixture
async def movies(session: AsyncSession, mumbai: World) -> dict[str, Movie]:
    """Test Movie Mumbai plays (2D, released); the others have no shows."""
    return {
        "upcoming": await add_movie(session, "Comet Season", date(2026, 12, 25)),
        "tamil": await add_movie(
            session,
            "Rasam and Revenge",
            date(2026, 10, 1),
            languages=["Tamil", "Telugu"],
            genres=["Action", "Comedy"],
            cast_members=[{"name": "Priya Raman", "role": "Janani"}],
        ),
    }


async def titles(client: AsyncTestClient, **params: str) -> list[str]:
    response = await client.get("/api/v1/movies", params=params)
    assert response.status_code == 200, response.text
    return [m["title"] for m in response.json()]


async def test_movie_filters(client: AsyncTestClient, movies: dict[str, Movie]) -> None:
    everything = ["Comet Season", "Rasam and Revenge", "Test Movie Mumbai"]
    assert await titles(client, sort="title") == everything
    assert await titles(client, status="now_showing") == ["Test Movie Mumbai"]
    assert await titles(client, status="upcoming") == ["Comet Season"]
    # A city lists what plays there, and upcoming movies everywhere.
    assert await titles(client, city="Testville Mumbai") == ["Test Movie Mumbai"]
    assert await titles(client, city="Testville Mumbai", status="upcoming") == ["Comet Season"]
    assert await titles(client, language="tamil") == ["Rasam and Revenge"]
    assert await titles(client, genre="COMEDY") == ["Rasam and Revenge"]
    assert await titles(client, format="2d") == ["Test Movie Mumbai"]
    assert await titles(client, format="IMAX") == []
    assert await titles(client, sort="release") == [
        "Comet Season",
        "Test Movie Mumbai",
        "Rasam and Revenge",
    ]


async def test_movie_search_covers_title_typos_cast_and_genre(
    client: AsyncTestClient, movies: dict[str, Movie]
) -> None:
    assert await titles(client, q="comet") == ["Comet Season"]
    assert await titles(client, q="Comit Seasun") == ["Comet Season"]  # trigram similarity
    assert await titles(client, q="priya") == ["Rasam and Revenge"]  # cast name
    assert await titles(client, q="action") == ["Rasam and Revenge"]  # genre
    assert await titles(client, q="100%") == []  # LIKE wildcards are plain text


async def test_bad_movie_filters_are_problems(client: AsyncTestClient, movies) -> None:
    assert (
        "now_showing"
        in assert_problem(await client.get("/api/v1/movies", params={"status": "soon"}), 422)[
            "detail"
        ]
    )
    assert_problem(await client.get("/api/v1/movies", params={"sort": "length"}), 422)
    assert_problem(await client.get("/api/v1/movies", params={"format": "8K"}), 422)
    assert_problem(await client.get("/api/v1/movies", params={"city": "Atlantis"}), 404)
    assert_problem(await client.get(f"/api/v1/movies/{uuid.uuid4()}"), 404)


async def test_autocomplete_puts_prefix_matches_first(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    for title in ("Lone Star", "Stardom Rising", "Star Dust", "Moon River"):
        await add_movie(session, title, date(2025, 5, 1))
    response = await client.get("/api/v1/movies/autocomplete", params={"q": "star"})
    found = response.json()
    assert [m["title"] for m in found] == ["Star Dust", "Stardom Rising", "Lone Star"]
    assert found[0]["year"] == 2025 and uuid.UUID(found[0]["movie_id"])
    one = await client.get("/api/v1/movies/autocomplete", params={"q": "sta", "limit": 1})
    assert len(one.json()) == 1
    assert (await client.get("/api/v1/movies/autocomplete", params={"q": " "})).json() == []
    assert_problem(await client.get("/api/v1/movies/autocomplete", params={"limit": 0}), 400)


# -- reviews --------------------------------------------------------------------------------


async def test_reviews_rate_once_per_customer_and_update_the_average(
    client: AsyncTestClient, session: AsyncSession, mumbai: World, clock: FrozenClock
) -> None:
    url = f"/api/v1/movies/{mumbai.movie_id}/reviews"
    _, alice = await make_user(session)
    _, bob = await make_user(session)
    listed = (await client.get("/api/v1/movies")).json()
    assert listed[0]["rating"] is None

    first = await client.post(url, json={"rating": 8, "text": " Loved it "}, headers=auth(alice))
    assert first.status_code == 201, first.text
    assert first.json()["text"] == "Loved it"
    again = await client.post(url, json={"rating": 3}, headers=auth(alice))
    assert "already reviewed" in assert_problem(again, 409)["detail"]
    clock.advance(minutes=5)
    assert (await client.post(url, json={"rating": 7}, headers=auth(bob))).status_code == 201

    movie = (await client.get(f"/api/v1/movies/{mumbai.movie_id}")).json()
    assert (movie["rating"], movie["rating_count"]) == (7.5, 2)
    # The cached list is refreshed by a new review.
    assert (await client.get("/api/v1/movies")).json()[0]["rating"] == 7.5

    newest_first = (await client.get(url)).json()
    assert [r["rating"] for r in newest_first] == [7, 8]
    page = (await client.get(url, params={"limit": 1, "offset": 1})).json()
    assert [r["rating"] for r in page] == [8]


async def test_review_rules(client: AsyncTestClient, session: AsyncSession, mumbai: World) -> None:
    url = f"/api/v1/movies/{mumbai.movie_id}/reviews"
    _, carol = await make_user(session)
    assert_problem(await client.post(url, json={"rating": 11}, headers=auth(carol)), 422)
    assert_problem(await client.post(url, json={"rating": 0}, headers=auth(carol)), 422)
    long_text = {"rating": 5, "text": "x" * 2001}
    assert_problem(await client.post(url, json=long_text, headers=auth(carol)), 422)
    assert_problem(await client.post(url, json={"rating": 5}), 401)
    guest = (await client.post("/api/v1/auth/guest", json={})).json()["token"]
    assert_problem(await client.post(url, json={"rating": 5}, headers=auth(guest)), 403)
    missing = f"/api/v1/movies/{uuid.uuid4()}/reviews"
    assert_problem(await client.post(missing, json={"rating": 5}, headers=auth(carol)), 404)
    assert_problem(await client.get(missing), 404)
    movie = (await client.get(f"/api/v1/movies/{mumbai.movie_id}")).json()
    assert movie["rating_count"] == 0


# -- shows ----------------------------------------------------------------------------------


async def test_show_dates_are_local_to_each_city(
    client: AsyncTestClient, session: AsyncSession, mumbai: World, london: World
) -> None:
    # 19:00 UTC on the 20th is 00:30 on the 21st in Kolkata but still the 20th in London.
    late_mumbai = await add_show(session, mumbai, datetime(2026, 11, 20, 19, 0, tzinfo=UTC))
    late_london = await add_show(session, london, datetime(2026, 11, 20, 23, 30, tzinfo=UTC))

    async def on(day: str, **params: str) -> set[str]:
        response = await client.get("/api/v1/shows", params={"date": day, **params})
        assert response.status_code == 200, response.text
        return {s["show_id"] for s in response.json()}

    assert await on("2026-11-20") == {str(late_london)}
    assert await on("2026-11-21", city="Testville Mumbai") == {
        str(late_mumbai),
        str(mumbai.show_id),
    }
    assert await on("2026-11-21", city="Testville London") == {str(london.show_id)}
    assert await on("2026-11-22") == set()


async def test_show_seat_counts_are_live_and_expired_holds_count_as_free(
    client: AsyncTestClient, session: AsyncSession, mumbai: World, clock: FrozenClock
) -> None:
    _, alice = await make_user(session)
    seats = [str(mumbai.seats[label]) for label in ("E5", "E6", "E7")]
    hold = await client.post(
        f"/api/v1/shows/{mumbai.show_id}/holds", json={"seat_ids": seats}, headers=auth(alice)
    )
    assert hold.status_code == 201, hold.text
    show = (await client.get(f"/api/v1/shows/{mumbai.show_id}")).json()
    assert (show["seats_total"], show["seats_available"]) == (150, 147)
    assert show["currency"] == "INR" and show["prices"]["regular"] == DEFAULT_PRICES["regular"]
    assert show["title"] == "Test Movie Mumbai" and show["screen_name"] == "Screen 1"

    clock.advance(minutes=11)  # past the 10-minute hold
    listed = (await client.get("/api/v1/shows", params={"movie_id": str(mumbai.movie_id)})).json()
    assert [(s["show_id"], s["seats_available"]) for s in listed] == [(str(mumbai.show_id), 150)]


async def test_show_filters_and_nearest_first(
    client: AsyncTestClient, session: AsyncSession, mumbai: World, london: World, clock
) -> None:
    await add_show(session, mumbai, clock.now() - timedelta(hours=3))  # already over
    await add_show(session, mumbai, clock.now() + timedelta(days=20))  # beyond two weeks

    async def shows(**params: str) -> list[str]:
        response = await client.get("/api/v1/shows", params=params)
        assert response.status_code == 200, response.text
        return [s["show_id"] for s in response.json()]

    # Without a date: the shows still to come in the next 14 days, soonest first.
    assert await shows() == [str(mumbai.show_id), str(london.show_id)]
    assert await shows(theater_id=str(london.theater_id)) == [str(london.show_id)]
    assert await shows(movie_id=str(london.movie_id)) == [str(london.show_id)]
    assert await shows(city=str(mumbai.city_id)) == [str(mumbai.show_id)]
    near_london = await shows(lat="51.5", lon="-0.12")
    assert near_london == [str(london.show_id), str(mumbai.show_id)]


async def test_bad_show_queries_are_problems(client: AsyncTestClient, mumbai: World) -> None:
    assert (
        "YYYY-MM-DD"
        in assert_problem(await client.get("/api/v1/shows", params={"date": "2026-13-45"}), 422)[
            "detail"
        ]
    )
    assert_problem(await client.get("/api/v1/shows", params={"date": "tomorrow"}), 422)
    assert_problem(await client.get("/api/v1/shows", params={"movie_id": "nope"}), 400)
    assert_problem(await client.get("/api/v1/shows", params={"city": "Nowhere"}), 404)
    assert_problem(await client.get("/api/v1/shows", params={"movie_id": str(uuid.uuid4())}), 404)
    assert_problem(await client.get("/api/v1/shows", params={"theater_id": str(uuid.uuid4())}), 404)
    assert_problem(await client.get("/api/v1/shows", params={"lon": "72.8"}), 422)
    assert_problem(await client.get(f"/api/v1/shows/{uuid.uuid4()}"), 404)
    for beyond in ("9999-12-31", "0001-01-01"):
        detail = assert_problem(await client.get("/api/v1/shows", params={"date": beyond}), 422)
        assert "from 2000-01-01 to 2099-12-31" in detail["detail"]


async def test_a_nul_character_anywhere_is_a_problem_before_any_statement(
    client: AsyncTestClient, session: AsyncSession, mumbai: World
) -> None:
    """PostgreSQL text cannot hold U+0000: every request carrying one is refused up front."""
    _, carol = await make_user(session)
    review = f"/api/v1/movies/{mumbai.movie_id}/reviews"
    answers = {
        "city": await client.get("/api/v1/shows", params={"city": "a\x00b"}),
        "q": await client.get("/api/v1/movies/autocomplete", params={"q": "a\x00b"}),
        "path": await client.get("/api/v1/bookings/AB%00CD", headers=auth(carol)),
        "name": await client.post("/api/v1/auth/guest", json={"name": "a\x00b"}),
        "text": await client.post(
            review, json={"rating": 5, "text": "a\x00b"}, headers=auth(carol)
        ),
    }
    for where, answer in answers.items():
        detail = assert_problem(answer, 422)["detail"]
        assert where in detail and "NUL character" in detail, detail
    # An escaped backslash before "u0000" is text, not a NUL.
    fine = await client.post(review, json={"rating": 5, "text": "a\\u0000b"}, headers=auth(carol))
    assert fine.status_code == 201, fine.text
    assert (await client.get(f"/api/v1/movies/{mumbai.movie_id}")).json()["rating_count"] == 1


# -- caching and meta -----------------------------------------------------------------------


async def test_catalog_lists_are_cached_briefly(
    client: AsyncTestClient, session: AsyncSession, mumbai: World, settings: Settings
) -> None:
    assert len((await client.get("/api/v1/cities")).json()) == 1
    session.add(City(name="Pune", country="IN", timezone="Asia/Kolkata", currency="INR"))
    await session.commit()
    assert len((await client.get("/api/v1/cities")).json()) == 1  # served from the cache
    redis = Redis.from_url(settings.redis_url or "")
    await forget_lists(redis)
    await redis.aclose()
    assert len((await client.get("/api/v1/cities")).json()) == 2


async def test_meta_lists_no_accounts_without_the_demo(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    await make_user(session, email="someone@example.test")
    meta = (await client.get("/api/v1/meta")).json()
    assert meta == {"version": meta["version"], "demo": False, "demo_accounts": []}
    assert meta["version"]
