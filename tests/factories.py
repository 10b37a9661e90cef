"""Small builders for test data, going through the same services as the product."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import Role, TokenKind
from server.db.models import City, Movie, Seat, Theater, User, UserTheater
from server.domain.accounts.security import hash_password
from server.domain.accounts.services import issue_token
from server.domain.catalog.screens import create_screen
from server.domain.schedule.services import ShowSpec, create_shows
from server.layouts.parser import load_layout

LAYOUTS = Path(__file__).resolve().parent.parent / "layouts"
DEFAULT_PRICES = {
    "regular": 25000,
    "premium": 40000,
    "recliner": 60000,
    "couple": 50000,
    "wheelchair": 25000,
    "companion": 25000,
}


@dataclass
class World:
    city_id: uuid.UUID
    theater_id: uuid.UUID
    screen_id: uuid.UUID
    movie_id: uuid.UUID
    show_ids: list[uuid.UUID]
    seats: dict[str, uuid.UUID] = field(default_factory=dict)  # label -> seat id

    @property
    def show_id(self) -> uuid.UUID:
        return self.show_ids[0]


async def make_world(
    session: AsyncSession,
    *,
    starts_at: datetime,
    layout: str = "standard-150",
    shows: int = 1,
    hold_minutes: int = 10,
    name_suffix: str = "",
) -> World:
    """A city, a theater, one screen built from a shipped layout, a movie and N shows."""
    city = City(
        name=f"Testville{name_suffix}",
        country="IN",
        timezone="Asia/Kolkata",
        currency="INR",
        tax_rate_bp=1800,
    )
    session.add(city)
    await session.flush()
    theater = Theater(
        city_id=city.id,
        name=f"Test Cinema{name_suffix}",
        address="1 Test Road",
        latitude=19.07,
        longitude=72.87,
        facilities=["parking"],
        hold_minutes=hold_minutes,
        convenience_fee_minor=3000,
    )
    session.add(theater)
    await session.flush()
    path = LAYOUTS / f"{layout}.layout"
    screen = await create_screen(
        session,
        theater_id=theater.id,
        name="Screen 1",
        formats=["2D", "3D"],
        layout=load_layout(path),
        layout_source=path.read_text(),
    )
    movie = Movie(
        title=f"Test Movie{name_suffix}",
        genres=["Drama"],
        languages=["English"],
        duration_minutes=120,
        certification="UA",
        release_date=date(2026, 11, 1),
    )
    session.add(movie)
    await session.flush()
    specs = [
        ShowSpec(
            movie_id=movie.id,
            screen_id=screen.id,
            theater_id=theater.id,
            starts_at=starts_at + timedelta(hours=3 * i),
            duration_minutes=120,
            language="English",
            format="2D",
            prices=dict(DEFAULT_PRICES),
        )
        for i in range(shows)
    ]
    show_ids = await create_shows(session, specs)
    seats = dict(
        (
            await session.execute(select(Seat.label, Seat.id).where(Seat.screen_id == screen.id))
        ).all()
    )
    await session.commit()
    return World(city.id, theater.id, screen.id, movie.id, show_ids, seats)


async def make_user(
    session: AsyncSession,
    *,
    role: Role = Role.CUSTOMER,
    email: str | None = None,
    password: str | None = "secret-pass",
    theater_ids: list[uuid.UUID] | None = None,
) -> tuple[User, str]:
    """A user with a session token; returns (user, bearer token). ``password=None`` skips
    hashing one (a tenth of a second each) where the test never logs in."""
    user = User(
        name=f"{role.value} {uuid.uuid4().hex[:6]}",
        email=email or f"{uuid.uuid4().hex[:10]}@example.test",
        role=role.value,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    await session.flush()
    for theater_id in theater_ids or []:
        session.add(UserTheater(user_id=user.id, theater_id=theater_id))
    token, _ = await issue_token(session, user, kind=TokenKind.API, name="test", expires_at=None)
    await session.commit()
    return user, token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
