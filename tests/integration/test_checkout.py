"""Checkout through the real app: quote, book, read back; the quote always equals the charge;
payment after the hold expired; idempotent retries; fraud rules; the booking transaction's
rows. The helpers here are shared by test_payments.py and test_tickets.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.checkout import BookingRequest, CardIn, PaymentPart
from server.contracts.enums import Role
from server.db.models import Coupon, SnackItem, User
from server.domain.accounts.principal import Principal
from server.domain.booking import services as booking
from server.domain.errors import Conflict
from server.domain.payments import services as payments
from server.infra.state import Services
from tests.factories import World, auth, make_user, make_world

T = TypeVar("T")

GOOD_CARD = "4242424242424242"


def card(number: str = GOOD_CARD, **overrides: Any) -> dict[str, Any]:
    return {
        "number": number,
        "exp_month": 12,
        "exp_year": 2031,
        "cvv": "123",
        "name": "Ann Buyer",
    } | overrides


def pay_by_card(number: str = GOOD_CARD, amount: int | None = None) -> dict[str, Any]:
    part: dict[str, Any] = {"method": "card", "card": card(number)}
    if amount is not None:
        part["amount_minor"] = amount
    return part


async def new_world(session: AsyncSession, clock: FrozenClock) -> World:
    """A show two days after the clock's now (fixtures in test_payments/test_tickets too)."""
    return await make_world(session, starts_at=clock.now() + timedelta(days=2))


async def new_buyer(session: AsyncSession) -> tuple[User, dict[str, str]]:
    user, token = await make_user(session)
    return user, auth(token)


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await new_world(session, clock)


@pytest.fixture
async def buyer(session: AsyncSession) -> tuple[User, dict[str, str]]:
    return await new_buyer(session)


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
    defaults = {
        "code": "SAVE10",
        "kind": "percent",
        "value": 10,
        "valid_from": clock.now() - timedelta(days=1),
        "valid_until": clock.now() + timedelta(days=30),
    }
    coupon = Coupon(**(defaults | terms))
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
    assert (
        await count(
            engine,
            "SELECT count(*) FROM show_seats WHERE show_id = :s AND status = 'BOOKED'",
            **show,
        )
        == 2
    )
    assert (
        await count(
            engine,
            "SELECT count(*) FROM booking_seats WHERE show_id = :s AND status = 'ACTIVE'",
            **show,
        )
        == 2
    )
    assert (
        await count(engine, "SELECT count(*) FROM seat_transitions WHERE to_status = 'BOOKED'") == 2
    )
    assert await count(engine, "SELECT count(*) FROM holds WHERE status = 'CONVERTED'") == 1
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'booking.confirmed'") == 1
    assert await count(engine, "SELECT loyalty_points FROM users WHERE id = :u", u=user.id) == 660
    # The card number is nowhere in the database: only token, brand and last four.
    async with engine.connect() as conn:
        dumped = " ".join(str(row) for row in await conn.execute(text("SELECT * FROM payments")))
    assert GOOD_CARD not in dumped and "tok_" in dumped


async def test_someone_elses_booking_is_not_found(client, session, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    code = (await book(client, headers, hold_id, [pay_by_card()])).json()["code"]
    _, stranger = await make_user(session)
    assert (await client.get(f"/api/v1/bookings/{code}", headers=auth(stranger))).status_code == 404
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    assert (await client.get(f"/api/v1/bookings/{code}", headers=auth(clerk))).status_code == 200


async def test_hold_of_another_buyer_or_expired_is_refused(
    client, session, clock, world, buyer
) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    _, other = await make_user(session)
    not_mine = await book(client, auth(other), hold_id, [pay_by_card()])
    assert not_mine.status_code == 409 and "not yours" in not_mine.json()["detail"]
    clock.advance(minutes=11)
    late = await book(client, headers, hold_id, [pay_by_card()])
    assert late.status_code == 409 and "nothing was charged" in late.json()["detail"]


# -- the quote is the charge -----------------------------------------------------------------


async def _set_points(session: AsyncSession, user: User, points: int) -> None:
    await session.execute(
        text("UPDATE users SET loyalty_points = :p WHERE id = :u"), {"p": points, "u": user.id}
    )
    await session.commit()


@pytest.mark.parametrize(
    ("labels", "coupon", "points", "snacks", "expected_discount", "expected_loyalty"),
    [
        # 10 % of 500.00 is 50.00, capped at 30.00.
        (("E7", "E8"), {"kind": "percent", "value": 10, "max_discount_minor": 3000}, 0, 0, 3000, 0),
        # Flat 100.00 off premium seats only: G7 (400.00) is covered, E7 is not.
        (("E7", "G7"), {"kind": "flat", "value": 10000, "seat_types": ["premium"]}, 0, 0, 10000, 0),
        # 12.5 % of 250.00 = 31.25; 7 % of 250.00 = 17.50 (half-up at whole minor units).
        (("E7",), {"kind": "percent", "value": 7}, 0, 0, 1750, 0),
        (("E7",), None, 5000, 0, 0, 5000),
        (("E7",), None, 0, 2, 0, 0),
        (
            ("E7", "G7"),
            {"kind": "percent", "value": 20, "min_amount_minor": 50000},
            1234,
            3,
            13000,
            1234,
        ),
    ],
)
async def test_the_quote_is_what_is_charged(
    client,
    session,
    engine,
    clock,
    world,
    buyer,
    labels,
    coupon,
    points,
    snacks,
    expected_discount,
    expected_loyalty,
) -> None:
    user, headers = buyer
    await _set_points(session, user, 10_000)
    extra: dict[str, Any] = {"loyalty_points": points}
    if coupon is not None:
        extra["coupon_code"] = (await add_coupon(session, clock, **coupon)).code
    if snacks:
        popcorn = await add_snack(session, world, "Popcorn", 18050)
        extra["snacks"] = [{"item_id": str(popcorn.id), "quantity": snacks}]
    hold_id = await hold_seats(client, headers, world, *labels)

    quote = await client.post(f"/api/v1/holds/{hold_id}/quote", json=extra, headers=headers)
    assert quote.status_code == 200, quote.text
    amounts = quote.json()["amounts"]
    assert amounts["discount_minor"] == expected_discount
    assert amounts["loyalty_minor"] == expected_loyalty
    assert amounts["snacks_minor"] == 18050 * snacks
    parts = [
        amounts["seats_minor"],
        amounts["convenience_fee_minor"],
        amounts["tax_minor"],
        amounts["snacks_minor"],
        -amounts["discount_minor"],
        -amounts["loyalty_minor"],
    ]
    assert sum(parts) == amounts["total_minor"]

    answer = await book(client, headers, hold_id, [pay_by_card()], **extra)
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["amounts"] == amounts
    assert [p["amount_minor"] for p in out["payments"]] == [amounts["total_minor"]]
    assert await count(engine, "SELECT total_minor FROM bookings") == amounts["total_minor"]
    earned = amounts["total_minor"] // 100
    assert out["loyalty_points_earned"] == earned
    assert (
        await count(engine, "SELECT loyalty_points FROM users WHERE id = :u", u=user.id)
        == 10_000 - points + earned
    )
    if coupon is not None:
        assert await count(engine, "SELECT used_count FROM coupons") == 1
        assert (
            await count(engine, "SELECT discount_minor FROM coupon_redemptions")
            == expected_discount
        )
    if snacks:
        assert len(out["ticket"]["snack_pickup_code"]) == 6
        assert (await client.get(f"/api/v1/bookings/{out['code']}", headers=headers)).json()[
            "snacks"
        ] == out["snacks"]


async def test_coupon_refusals_say_why(client, session, clock, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    cases = [
        ({"valid_until": datetime(2026, 11, 1, tzinfo=UTC)}, "expired"),
        ({"valid_from": datetime(2026, 12, 1, tzinfo=UTC)}, "valid from"),
        ({"min_amount_minor": 100000}, "at least 1000.00 INR"),
        ({"seat_types": ["recliner"]}, "only to recliner seats"),
        ({"total_limit": 5, "used_count": 5}, "used up"),
        ({"theater_ids": [str(uuid.uuid4())]}, "not valid at this theater"),
        ({"movie_ids": [str(uuid.uuid4())]}, "not valid for this movie"),
    ]
    for number, (terms, phrase) in enumerate(cases):
        coupon = await add_coupon(session, clock, code=f"NOPE{number}", **terms)
        quote = await client.post(
            f"/api/v1/holds/{hold_id}/quote",
            json={"coupon_code": coupon.code.lower()},
            headers=headers,
        )
        assert quote.status_code == 422 and phrase in quote.json()["detail"], quote.text


async def test_per_user_coupon_limit_and_bad_extras(client, session, clock, world, buyer) -> None:
    _, headers = buyer
    coupon = await add_coupon(session, clock, per_user_limit=1)
    first = await hold_seats(client, headers, world, "E7")
    assert (
        await book(client, headers, first, [pay_by_card()], coupon_code=coupon.code)
    ).status_code == 201
    second = await hold_seats(client, headers, world, "E8")
    url = f"/api/v1/holds/{second}/quote"
    again = await client.post(url, json={"coupon_code": coupon.code}, headers=headers)
    assert again.status_code == 422 and "already used" in again.json()["detail"]
    unknown = await client.post(url, json={"coupon_code": "NOPE" * 25_000}, headers=headers)
    assert unknown.status_code == 422 and len(unknown.json()["detail"]) < 120
    greedy = await client.post(url, json={"loyalty_points": 10**9}, headers=headers)
    assert greedy.status_code == 422 and "loyalty points" in greedy.json()["detail"]
    stranger = await client.post(
        url, json={"snacks": [{"item_id": str(uuid.uuid4())}]}, headers=headers
    )
    assert stranger.status_code == 422 and "menu" in stranger.json()["detail"]


async def test_at_the_counter_coupons_count_for_customers_not_for_the_clerk(
    client, session, clock, world
) -> None:
    """A clerk sells to one walk-up after another: a coupon limited only in total works for
    each of them; one limited per customer is refused with the reason (a walk-up has no
    account to count on), instead of counting every customer's use against the clerk."""
    _, token = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    clerk = auth(token)
    shared = await add_coupon(session, clock, code="FAMILY", total_limit=5)
    personal = await add_coupon(session, clock, code="ONCE", per_user_limit=1)
    for label in ("E7", "E8"):
        hold_id = await hold_seats(client, clerk, world, label)
        cash = {"method": "cash", "tendered_minor": 10**6}
        sold = await book(client, clerk, hold_id, [cash], coupon_code=shared.code)
        assert sold.status_code == 201, sold.text
    hold_id = await hold_seats(client, clerk, world, "E9")
    refused = await client.post(
        f"/api/v1/holds/{hold_id}/quote", json={"coupon_code": personal.code}, headers=clerk
    )
    assert refused.status_code == 422 and refused.json()["field"] == "coupon_code"
    assert "per customer" in refused.json()["detail"]
    assert "online or at a kiosk" in refused.json()["detail"]


# -- payment after the hold expired (stages driven one by one on the app's loop) -------------


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, role=Role.CUSTOMER, name=user.name, token_id=uuid.uuid4())


def _pay_until_captured(
    client: AsyncTestClient, user: User, hold_id: str, **extra: Any
) -> tuple[Any, Any, list]:
    """Price, plan and capture a card payment for the hold, stopping before confirmation."""
    on_app, principal = OnApp(client), _principal(user)
    body = BookingRequest(
        hold_id=uuid.UUID(hold_id),
        payments=[PaymentPart(method="card", card=msgspec.convert(card(), CardIn))],
        **extra,
    )
    checkout = on_app(booking.price_hold, principal, body.hold_id, body)
    plans = on_app(
        payments.plan_parts,
        principal,
        body.payments,
        total_minor=checkout.total_minor,
        currency=checkout.currency,
        theater_id=checkout.context.theater_id,
    )
    charges = on_app(booking.take_payment, principal, checkout, plans, uuid.uuid4().hex)
    return checkout, body, charges


async def test_paid_after_expiry_with_the_seats_still_free_is_confirmed(
    client, engine, clock, world, buyer
) -> None:
    user, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    checkout, body, charges = _pay_until_captured(client, user, hold_id)
    clock.advance(minutes=11)
    out = OnApp(client)(booking.confirm, _principal(user), checkout, body, charges, None)
    assert out.status == "CONFIRMED"
    assert (
        await count(
            engine,
            "SELECT count(*) FROM seat_transitions WHERE reason = 'booked after hold expired'",
        )
        == 2
    )
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'BOOKED'") == 2


async def test_paid_after_expiry_with_the_seats_gone_is_refunded(
    client, session, engine, clock, world, buyer
) -> None:
    user, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    checkout, body, charges = _pay_until_captured(client, user, hold_id)
    clock.advance(minutes=11)
    _, rival = await make_user(session)
    await hold_seats(client, auth(rival), world, "E8")
    with pytest.raises(Conflict) as refused:
        OnApp(client)(booking.confirm, _principal(user), checkout, body, charges, None)
    assert (
        "sold to someone else" in refused.value.detail
        and "refunded 660.80 INR" in refused.value.detail
    )
    assert refused.value.extra["refunded_minor"] == 66080
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT status, refunded_minor, booking_id FROM payments"))
        ).all()
    assert [tuple(r) for r in rows] == [("REFUNDED", 66080, None)]
    assert await count(engine, "SELECT count(*) FROM bookings") == 0
    assert (
        await count(engine, "SELECT count(*) FROM audit_log WHERE action = 'checkout.failed'") == 1
    )
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'BOOKED'") == 0


async def test_the_last_coupon_use_goes_to_one_buyer_only(
    client, session, engine, clock, world
) -> None:
    coupon = await add_coupon(session, clock, total_limit=1)
    paid = []
    for label in ("E1", "E2", "E3", "E4"):
        user, headers = await new_buyer(session)
        hold_id = await hold_seats(client, headers, world, label)
        # Every buyer passes the quote's check (0 of 1 used) and pays ...
        paid.append((user, *_pay_until_captured(client, user, hold_id, coupon_code=coupon.code)))
    # ... then all confirm at once, racing for the one use.
    on_app = OnApp(client)
    running = [
        on_app.portal.start_task_soon(
            partial(
                booking.confirm, on_app.services, _principal(user), checkout, body, charges, None
            )
        )
        for user, checkout, body, charges in paid
    ]
    outcomes = [future.exception() or future.result() for future in running]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(losers) == 3, outcomes
    assert all("used up" in loser.detail and "refunded" in loser.detail for loser in losers)
    assert await count(engine, "SELECT used_count FROM coupons") == 1
    assert await count(engine, "SELECT count(*) FROM coupon_redemptions") == 1
    assert await count(engine, "SELECT count(*) FROM bookings WHERE status = 'CONFIRMED'") == 1
    assert await count(engine, "SELECT count(*) FROM payments WHERE status = 'REFUNDED'") == 3


async def test_the_snack_menu_lists_what_is_on_sale_and_a_quote_takes_it(
    client, session, world, buyer
) -> None:
    _, headers = buyer
    popcorn = await add_snack(session, world, "Popcorn", 18050)
    gone = await add_snack(session, world, "Nachos", 15000)
    gone.available = False
    await session.commit()

    menu = await client.get(f"/api/v1/theaters/{world.theater_id}/snacks")
    assert menu.status_code == 200, menu.text
    assert [(item["name"], item["price_minor"], item["currency"]) for item in menu.json()] == [
        ("Popcorn", 18050, "INR")
    ]
    hold_id = await hold_seats(client, headers, world, "F7")
    item_id = menu.json()[0]["item_id"]
    snacks = [{"item_id": item_id, "quantity": 2}]
    quote = await client.post(
        f"/api/v1/holds/{hold_id}/quote", json={"snacks": snacks}, headers=headers
    )
    assert quote.json()["amounts"]["snacks_minor"] == 2 * popcorn.price_minor

    missing = await client.get(f"/api/v1/theaters/{uuid.uuid4()}/snacks")
    assert missing.status_code == 404
    assert "GET /api/v1/theaters lists them" in missing.json()["detail"]


async def test_a_booking_the_database_cannot_write_in_time_is_refunded_and_answered_busy(
    client, engine, world, buyer
) -> None:
    """The card is charged, then the confirming write waits past lock_timeout on a seat row
    somebody else holds locked: the buyer gets a 503 to retry, and the money goes back."""
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    async with engine.connect() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM show_seats WHERE seat_id = :seat FOR UPDATE"),
            {"seat": world.seats["E7"]},
        )
        answer = await book(client, headers, hold_id, [pay_by_card()])
        await blocker.rollback()
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "2"
    async with engine.connect() as conn:
        payments_left = (await conn.execute(text("SELECT status FROM payments"))).scalars().all()
    assert payments_left == ["REFUNDED"]
    assert await count(engine, "SELECT count(*) FROM bookings") == 0
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'BOOKED'") == 0
