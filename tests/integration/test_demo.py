"""The demo data: complete, loaded once, safe to load again, and usable through the API.

Loading takes a few seconds, so one test loads it and checks everything on that one copy.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.db.models import City, Coupon, Movie, Review, Screen, Show, SnackItem, Theater, User
from server.demo import DEMO_PASSWORD, load_demo
from tests.conftest import Backend
from tests.factories import make_user, make_world

DAYS = 14


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def days_with_shows(session: AsyncSession) -> dict[str, set]:
    """Per screen, the local dates (on its city's clock) that have at least one show."""
    rows = await session.execute(
        text(
            """
            SELECT sc.id::text, (sh.starts_at AT TIME ZONE c.timezone)::date
            FROM shows sh JOIN screens sc ON sc.id = sh.screen_id
            JOIN theaters t ON t.id = sc.theater_id JOIN cities c ON c.id = t.city_id
            """
        )
    )
    found: dict[str, set] = {}
    for screen_id, day in rows:
        found.setdefault(screen_id, set()).add(day)
    return found


async def assert_every_screen_plays_every_day(session: AsyncSession, clock: FrozenClock) -> None:
    zones = dict(
        (
            await session.execute(
                select(Screen.id, City.timezone)
                .join(Theater, Theater.id == Screen.theater_id)
                .join(City, City.id == Theater.city_id)
            )
        ).all()
    )
    found = await days_with_shows(session)
    for screen_id, zone in zones.items():
        today = clock.now().astimezone(ZoneInfo(zone)).date()
        wanted = {today + timedelta(days=i) for i in range(DAYS)}
        assert wanted <= found[str(screen_id)], (
            f"screen {screen_id} misses {wanted - found[str(screen_id)]}"
        )


async def assert_catalog_is_complete(session: AsyncSession, clock: FrozenClock) -> None:
    assert await count(session, City) == 3
    assert await count(session, Theater) == 8
    assert await count(session, Screen) == 16
    assert await count(session, Movie) == 40
    assert 2 <= await count(session, Coupon) <= 3
    assert len(set(await session.scalars(select(City.timezone)))) >= 2
    today = clock.now().date()
    upcoming = await session.scalar(select(func.count()).where(Movie.release_date > today))
    assert 0 < (upcoming or 0) < 40
    # Every theater has a snack menu.
    menus = await session.scalar(select(func.count(func.distinct(SnackItem.theater_id))))
    assert menus == 8
    # Ratings on the movies add up to the reviews.
    reviews = await count(session, Review)
    assert reviews > 0
    assert await session.scalar(select(func.sum(Movie.rating_count))) == reviews


async def assert_shows_fit_their_screens(session: AsyncSession) -> None:
    wrong_format = await session.scalar(
        text(
            "SELECT count(*) FROM shows sh JOIN screens sc ON sc.id = sh.screen_id "
            "WHERE NOT sh.format = ANY(sc.formats)"
        )
    )
    assert wrong_format == 0
    unpriced_seats = await session.scalar(
        text(
            "SELECT count(*) FROM shows sh JOIN seats se ON se.screen_id = sh.screen_id "
            "WHERE NOT sh.prices ? se.seat_type"
        )
    )
    assert unpriced_seats == 0
    unsold = await session.scalar(
        text("SELECT count(*) FROM show_seats WHERE status <> 'AVAILABLE'")
    )
    assert unsold == 0


async def assert_every_role_has_a_scoped_user(session: AsyncSession) -> None:
    demo_users = (await session.scalars(select(User).where(User.email.like("%@demo.bms")))).all()
    assert {u.role for u in demo_users} == {r.value for r in Role}
    unscoped_staff = await session.scalar(
        text(
            "SELECT count(*) FROM users u WHERE u.role IN ('clerk', 'kiosk', 'theater_admin') "
            "AND NOT EXISTS (SELECT 1 FROM user_theaters ut WHERE ut.user_id = u.id)"
        )
    )
    assert unscoped_staff == 0


async def test_demo_loads_everything_and_loading_again_is_safe(
    client: AsyncTestClient, session: AsyncSession, backend: Backend, clock: FrozenClock
) -> None:
    summary = await load_demo(backend.database_url, now=clock.now())
    assert summary.startswith("demo data loaded: 3 cities, 8 theaters, 16 screens, 40 movies")
    await assert_catalog_is_complete(session, clock)
    await assert_every_screen_plays_every_day(session, clock)
    await assert_shows_fit_their_screens(session)
    await assert_every_role_has_a_scoped_user(session)

    # Again on the same day: nothing to add, nothing duplicated.
    shows, users = await count(session, Show), await count(session, User)
    again = await load_demo(backend.database_url, now=clock.now())
    assert again.startswith("demo data already present; scheduled 0 shows")
    assert (await count(session, Show), await count(session, User)) == (shows, users)

    # Three days later: only the three new days at the end of the window are scheduled.
    clock.advance(days=3)
    later = await load_demo(backend.database_url, now=clock.now())
    added = await count(session, Show) - shows
    assert added > 0 and f"scheduled {added} shows" in later
    await assert_every_screen_plays_every_day(session, clock)
    assert await count(session, Movie) == 40

    # A newcomer logs in with a demo account listed by /meta; real accounts stay unlisted.
    await make_user(session, email="real.person@example.test")
    meta = (await client.get("/api/v1/meta")).json()
    assert meta["demo"] is True
    listed = {a["email"]: a for a in meta["demo_accounts"]}
    assert "real.person@example.test" not in listed
    assert listed["admin@demo.bms"] == {
        "email": "admin@demo.bms",
        "password": DEMO_PASSWORD,
        "role": "platform_admin",
        "note": listed["admin@demo.bms"]["note"],
    }
    for email, role in (("admin@demo.bms", "platform_admin"), ("clerk@demo.bms", "clerk")):
        login = await client.post(
            "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
        )
        assert login.status_code == 201, login.text
        assert login.json()["role"] == role
    assert len(login.json()["theater_ids"]) == 1

    # The catalog reads the demo data: tomorrow in London, prices in pence.
    london_tomorrow = (clock.now().astimezone(ZoneInfo("Europe/London")) + timedelta(days=1)).date()
    listing = await client.get(
        "/api/v1/shows", params={"city": "London", "date": london_tomorrow.isoformat()}
    )
    assert listing.status_code == 200
    assert listing.json() and {s["currency"] for s in listing.json()} == {"GBP"}
    playing = (
        await client.get("/api/v1/movies", params={"city": "Mumbai", "status": "now_showing"})
    ).json()
    assert playing


async def test_demo_is_not_loaded_over_other_data(
    session: AsyncSession, backend: Backend, clock: FrozenClock
) -> None:
    await make_world(session, starts_at=clock.now() + timedelta(days=1))
    summary = await load_demo(backend.database_url, now=clock.now())
    assert summary.startswith("demo data not loaded")
    assert await count(session, City) == 1
    assert await count(session, Movie) == 1
