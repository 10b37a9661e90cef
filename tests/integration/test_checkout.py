"""Checkout through the real app: quote, book, read back; the quote always equals the charge;
payment after the hold expired; idempotent retries; fraud rules; the booking transaction's
rows. The helpers here are shared by test_payments.py and test_tickets.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.checkout import BookingRequest, PaymentPart
from server.contracts.enums import Role
from server.db.models import Coupon, SnackItem, User
from server.domain.booking import services as booking
from server.domain.errors import Conflict
from server.infra.state import Services
from tests.factories import World, auth, make_user, make_world

T = TypeVar("T")

GOOD_CARD = "4242424242424242"


def card(number: str = GOOD_CARD, **overrides: Any) -> dict[str, Any]:
    return {"number": number, "exp_month": 12, "exp_year": 2031, "cvv": "123", "name": "Ann Buyer"} | overrides


def pay_by_card(number: str = GOOD_CARD, amount: int | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"method": "card", "card": card(number)}
    if amount is not None:
        part["amount_minor"] = amount
    return part


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await make_world(session, starts_at=clock.now() + timedelta(days=2))


@pytest.fixture
async def buyer(session: AsyncSession) -> tuple[User, dict[str, str]]:
    user, token = await make_user(session)
    return user, auth(token)


async def hold_seats(
    client: AsyncTestClient, headers: dict[str, str], world: World, *labels: str
) -> str:
    answer = await client.post(
        f"/api/v1/shows/{world.show_id}/holds",
        json={"seat_ids": [str(world.seats[label]) for label in labels]},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["hold_id"])


async def book(
    client: AsyncTestClient,
    headers: dict[str, str],
    hold_id: str,
    payments: list[dict[str, Any]],
    *,
    key: str | None = None,
    **extra: Any,
) -> Any:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    body = {"hold_id": hold_id, "payments": payments, **extra}
    return await client.post("/api/v1/bookings", json=body, headers=headers)


async def count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text(sql), params) or 0)


class OnApp:
    """Calls into the app's services on the app's own event loop (the test client serves the
    app from a thread; its database and Redis connections belong to that loop)."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.portal = client.blocking_portal
        self.services: Services = client.app.state.services

    def __call__(self, service: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        return self.portal.call(partial(service, self.services, *args, **kwargs))


async def add_coupon(session: AsyncSession, clock: FrozenClock, **terms: Any) -> Coupon:
    coupon = Coupon(
        code=terms.pop("code", "SAVE10"),
        kind=terms.pop("kind", "percent"),
        value=terms.pop("value", 10),
        valid_from=clock.now() - timedelta(days=1),
        valid_until=clock.now() + timedelta(days=30),
        **terms,
    )
    session.add(coupon)
    await session.commit()
    return coupon


async def add_snack(session: AsyncSession, world: World, name: str, price: int) -> SnackItem:
    item = SnackItem(theater_id=world.theater_id, name=name, price_minor=price)
    session.add(item)
    await session.commit()
    return item


# -- the happy path --------------------------------------------------------------------------


async def test_quote_then_book_then_read_back(client, engine, world, buyer) -> None:
    user, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    quote = await client.post(f"/api/v1/holds/{hold_id}/quote", headers=headers)
    assert quote.status_code == 200, quote.text
    amounts = quote.json()["amounts"]
    # 2 × 250.00 seats, 2 × 30.00 fee, 18 % tax on 560.00 = 100.80.
    assert amounts == {
        "currency": "INR",
        "seats_minor": 50000,
        "convenience_fee_minor": 6000,
        "tax_minor": 10080,
        "snacks_minor": 0,
        "discount_minor": 0,
        "loyalty_minor": 0,
        "total_minor": 66080,
        "refunded_minor": 0,
    }
    assert [s["label"] for s in quote.json()["seats"]] == ["E7", "E8"]

    answer = await book(
        client, headers, hold_id, [pay_by_card()], contact={"email": "ann@example.test"}
    )
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["status"] == "CONFIRMED"
    assert out["amounts"] == amounts
    assert [s["label"] for s in out["seats"]] == ["E7", "E8"]
    assert out["payments"][0]["card_last4"] == "4242" and out["payments"][0]["status"] == "CAPTURED"
    assert out["ticket"]["qr_payload"].count(".") == 1
    assert out["loyalty_points_earned"] == 660

    again = await client.get(f"/api/v1/bookings/{out['code']}", headers=headers)
    assert again.status_code == 200
    assert again.json() == out

    show = {"s": world.show_id}
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE show_id = :s AND status = 'BOOKED'", **show) == 2
    assert await count(engine, "SELECT count(*) FROM booking_seats WHERE show_id = :s AND status = 'ACTIVE'", **show) == 2
    assert await count(engine, "SELECT count(*) FROM seat_transitions WHERE to_status = 'BOOKED'") == 2
    assert await count(engine, "SELECT count(*) FROM holds WHERE status = 'CONVERTED'") == 1
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'booking.confirmed'") == 1
    assert await count(engine, "SELECT loyalty_points FROM users WHERE id = :u", u=user.id) == 660
    # The card number is nowhere in the database: only token, brand and last four.
    async with engine.connect() as conn:
        dumped = " ".join(
            str(row) for row in await conn.execute(text("SELECT * FROM payments"))
        )
    assert GOOD_CARD not in dumped and "tok_" in dumped


async def test_someone_elses_booking_is_not_found(client, session, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    code = (await book(client, headers, hold_id, [pay_by_card()])).json()["code"]
    _, stranger = await make_user(session)
    assert (await client.get(f"/api/v1/bookings/{code}", headers=auth(stranger))).status_code == 404
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    assert (await client.get(f"/api/v1/bookings/{code}", headers=auth(clerk))).status_code == 200


async def test_hold_of_another_buyer_or_expired_is_refused(client, session, clock, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    _, other = await make_user(session)
    not_mine = await book(client, auth(other), hold_id, [pay_by_card()])
    assert not_mine.status_code == 409 and "not yours" in not_mine.json()["detail"]
    clock.advance(minutes=11)
    late = await book(client, headers, hold_id, [pay_by_card()])
    assert late.status_code == 409 and "nothing was charged" in late.json()["detail"]
