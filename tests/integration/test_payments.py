"""Payments through the real app and the simulator's Redis ledger: every failure path, split
payments that unwind, idempotent gateway calls, cash change, the wallet, card checks, UPI and
net banking, and the circuit breaker."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text, update

from server.contracts.enums import Role
from server.db.models import User
from server.domain.payments.cards import check_card
from server.domain.payments.gateway import Instrument
from server.domain.payments.simulator import SimulatorGateway
from tests.factories import auth, make_user
from tests.integration.test_checkout import (
    GOOD_CARD,
    book,
    card,
    count,
    hold_seats,
    new_buyer,
    new_world,
    pay_by_card,
)

DECLINE = "4000000000000002"
INSUFFICIENT = "4000000000009995"
TIMES_OUT_TWICE = "4000000000000119"
CAPTURE_FAILS = "4000000000000259"
GATEWAY_DOWN = "4000000000000408"
TOTAL_ONE_SEAT = 33040  # 250.00 + 30.00 fee + 18 % tax


@pytest.fixture
async def world(session, clock):
    return await new_world(session, clock)


@pytest.fixture
async def buyer(session):
    return await new_buyer(session)


@pytest.fixture
async def redis(settings):
    """Our own connection to the test Redis (the app's belongs to the app's event loop)."""
    connection = Redis.from_url(settings.redis_url)
    yield connection
    await connection.aclose()


async def payment_statuses(engine) -> list[tuple[str, str, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT method, status, refunded_minor FROM payments ORDER BY idempotency_key")
        )
        return [tuple(row) for row in rows]


async def test_a_decline_names_the_part_and_keeps_the_hold(client, engine, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    declined = await book(client, headers, hold_id, [pay_by_card(DECLINE)])
    assert declined.status_code == 402
    problem = declined.json()
    assert problem["part"] == 0 and problem["method"] == "card" and problem["reason"] == "declined"
    assert problem["detail"].startswith("The card payment was declined")
    assert "other parts" not in problem["detail"] and "Try another method" in problem["detail"]
    assert await payment_statuses(engine) == [("card", "FAILED", 0)]
    # The hold survives a decline: the buyer pays another way.
    assert (await book(client, headers, hold_id, [pay_by_card()])).status_code == 201


async def test_insufficient_funds(client, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    answer = await book(client, headers, hold_id, [pay_by_card(INSUFFICIENT)])
    assert answer.status_code == 402 and answer.json()["reason"] == "insufficient_funds"


async def test_a_timeout_is_retried_under_the_same_key(client, engine, redis, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    answer = await book(client, headers, hold_id, [pay_by_card(TIMES_OUT_TWICE)])
    assert answer.status_code == 201, answer.text
    assert await payment_statuses(engine) == [("card", "CAPTURED", 0)]
    attempts = [int(await redis.get(key)) for key in await redis.keys("bms:gw:sim:try:*")]
    assert attempts == [3]  # two timeouts, then the answer, all under one key


async def test_a_failed_capture_voids_the_authorization(client, engine, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    answer = await book(client, headers, hold_id, [pay_by_card(CAPTURE_FAILS)])
    assert answer.status_code == 402
    assert answer.json()["reason"] == "capture_failed"
    assert "could not be captured" in answer.json()["detail"]
    assert await payment_statuses(engine) == [("card", "VOIDED", 0)]


async def test_split_payment_partial_decline_voids_the_authorized_part(
    client, engine, redis, world, buyer
) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    parts = [pay_by_card(GOOD_CARD, 13040), pay_by_card(DECLINE, 20000)]
    answer = await book(client, headers, hold_id, parts)
    assert answer.status_code == 402 and answer.json()["part"] == 1
    assert "the other parts were released" in answer.json()["detail"]
    assert await payment_statuses(engine) == [("card", "VOIDED", 0), ("card", "FAILED", 0)]
    states = {await redis.get(key) for key in await redis.keys("bms:gw:sim:auth:*:state")}
    assert states == {b"voided"}


async def test_split_payment_failed_capture_refunds_the_captured_part(
    client, engine, world, buyer
) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    parts = [pay_by_card(GOOD_CARD, 13040), pay_by_card(CAPTURE_FAILS, 20000)]
    answer = await book(client, headers, hold_id, parts)
    assert answer.status_code == 402
    assert await payment_statuses(engine) == [("card", "REFUNDED", 13040), ("card", "VOIDED", 0)]


async def test_split_parts_must_add_up(client, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    short = await book(client, headers, hold_id, [pay_by_card(amount=100), pay_by_card(amount=200)])
    assert short.status_code == 422 and "must match exactly" in short.json()["detail"]
    unnamed = await book(client, headers, hold_id, [pay_by_card(), pay_by_card(amount=200)])
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "payments[0].amount_minor"
    split = await book(
        client,
        headers,
        hold_id,
        [
            pay_by_card(amount=13040),
            {"method": "upi", "upi_id": "success@upi", "amount_minor": 20000},
        ],
    )
    assert split.status_code == 201, split.text
    assert [p["amount_minor"] for p in split.json()["payments"]] == [13040, 20000]


async def test_an_idempotent_retry_charges_once(client, engine, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    first = await book(client, headers, hold_id, [pay_by_card()], key="checkout-1")
    second = await book(client, headers, hold_id, [pay_by_card()], key="checkout-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await count(engine, "SELECT count(*) FROM payments") == 1
    assert await count(engine, "SELECT count(*) FROM bookings") == 1


async def test_gateway_calls_are_idempotent(redis) -> None:
    gateway = SimulatorGateway(redis, "secret")
    checked = check_card(
        GOOD_CARD, 12, 2031, "123", "", now=datetime(2026, 11, 20, tzinfo=UTC), at="card"
    )
    instrument = Instrument(method="card", card=await gateway.tokenize(checked))
    first = await gateway.authorize(instrument, 500, "INR", "k1")
    assert first == await gateway.authorize(instrument, 500, "INR", "k1") and first.approved
    auth_id = first.reference or ""
    capture = await gateway.capture(auth_id, "k1:capture")
    assert capture == await gateway.capture(auth_id, "k1:capture")
    twice = await gateway.capture(auth_id, "another key")
    assert not twice.approved and twice.code == "already_captured"
    capture_id = capture.reference or ""
    refund = await gateway.refund(capture_id, 500, "k1:refund")
    assert refund == await gateway.refund(capture_id, 500, "k1:refund")
    too_much = await gateway.refund(capture_id, 1, "k1:refund-2")
    assert too_much.code == "refund_exceeds_capture"


# -- cash and wallet -------------------------------------------------------------------------


async def test_the_quote_promises_points_only_to_buyers_who_earn_them(
    client, session, world, buyer
) -> None:
    _, clerk_token = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    clerk = auth(clerk_token)
    guest = auth((await client.post("/api/v1/auth/guest", json={})).json()["token"])
    _, customer = buyer
    earned = {}
    for who, headers, label in [
        ("clerk", clerk, "E7"),
        ("guest", guest, "E8"),
        ("customer", customer, "E9"),
    ]:
        hold_id = await hold_seats(client, headers, world, label)
        quote = await client.post(f"/api/v1/holds/{hold_id}/quote", headers=headers)
        earned[who] = quote.json()["loyalty_points_earned"]
    assert earned == {"clerk": 0, "guest": 0, "customer": TOTAL_ONE_SEAT // 100}


async def test_cash_at_the_box_office_gives_change(client, session, engine, world, buyer) -> None:
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    hold_id = await hold_seats(client, auth(clerk), world, "E7")
    short = await book(client, auth(clerk), hold_id, [{"method": "cash", "tendered_minor": 30000}])
    assert short.status_code == 402 and short.json()["reason"] == "tendered_short"
    assert short.json()["detail"].endswith("collect at least that much. Nothing was charged.")
    paid = await book(client, auth(clerk), hold_id, [{"method": "cash", "tendered_minor": 50000}])
    assert paid.status_code == 201, paid.text
    assert paid.json()["change_minor"] == 50000 - TOTAL_ONE_SEAT
    assert paid.json()["channel"] == "box_office"
    assert paid.json()["loyalty_points_earned"] == 0  # staff do not earn points

    _, customer = buyer
    hold_id = await hold_seats(client, customer, world, "E9")
    refused = await book(client, customer, hold_id, [{"method": "cash", "tendered_minor": 50000}])
    assert refused.status_code == 403 and "box office" in refused.json()["detail"]


async def test_wallet_short_is_402_and_the_balance_is_unchanged(
    client, session, engine, world, buyer
) -> None:
    user, headers = buyer
    await session.execute(update(User).where(User.id == user.id).values(wallet_balance_minor=10000))
    await session.commit()
    hold_id = await hold_seats(client, headers, world, "E7")
    short = await book(client, headers, hold_id, [{"method": "wallet"}])
    assert short.status_code == 402 and short.json()["reason"] == "insufficient_funds"
    assert (
        await count(engine, "SELECT wallet_balance_minor FROM users WHERE id = :u", u=user.id)
        == 10000
    )

    split = await book(
        client,
        headers,
        hold_id,
        [{"method": "wallet", "amount_minor": 10000}, pay_by_card(amount=TOTAL_ONE_SEAT - 10000)],
    )
    assert split.status_code == 201, split.text
    assert (
        await count(engine, "SELECT wallet_balance_minor FROM users WHERE id = :u", u=user.id) == 0
    )
    assert (
        await count(
            engine, "SELECT sum(amount_minor) FROM wallet_ledger WHERE user_id = :u", u=user.id
        )
        == -10000
    )


# -- input checks and other methods ----------------------------------------------------------


async def test_card_input_errors_name_the_field(client, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    cases = [
        ({"number": "4242424242424241"}, "number"),
        ({"number": "42"}, "number"),
        ({"exp_month": 13}, "exp_month"),
        ({"exp_month": 10, "exp_year": 2026}, "exp_year"),
        ({"cvv": "12"}, "cvv"),
    ]
    for wrong, field in cases:
        answer = await book(client, headers, hold_id, [{"method": "card", "card": card(**wrong)}])
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == f"payments[0].card.{field}"
        assert f"payments[0].card.{field}" in answer.json()["detail"]
        assert "4242424242424241" not in answer.text


async def test_upi_and_net_banking(client, engine, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"method": "upi", "upi_id": "not an id"}, 422),
        ({"method": "upi", "upi_id": "decline@upi"}, 402),
        ({"method": "net_banking", "bank": "NOPE"}, 422),
        ({"method": "net_banking", "bank": "DECL"}, 402),
        ({"method": "bitcoin"}, 422),
        ({"method": "card"}, 422),
        ({"method": "net_banking", "bank": "hdfc"}, 201),
    ]
    for part, status in cases:
        answer = await book(client, headers, hold_id, [part])
        assert answer.status_code == status, (part, answer.text)
    assert await count(engine, "SELECT count(*) FROM payments WHERE status = 'CAPTURED'") == 1


async def test_the_circuit_breaker_stops_calling_a_failing_gateway(client, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    down = await book(client, headers, hold_id, [pay_by_card(GATEWAY_DOWN)])
    assert down.status_code == 503 and "did not answer" in down.json()["detail"]
    opened = await book(client, headers, hold_id, [pay_by_card(GATEWAY_DOWN)])
    assert opened.status_code == 503 and "stopped calling" in opened.json()["detail"]
    # While open, even a good card is not sent to that gateway; the wallet still works.
    assert (await book(client, headers, hold_id, [pay_by_card()])).status_code == 503
    assert (await book(client, headers, hold_id, [{"method": "wallet"}])).status_code == 402


# -- fraud rules -----------------------------------------------------------------------------


async def test_unusually_many_seats_are_held_for_review(client, engine, world, buyer) -> None:
    _, headers = buyer
    labels = [f"E{n}" for n in range(1, 10)]
    hold_id = await hold_seats(client, headers, world, *labels)
    answer = await book(client, headers, hold_id, [pay_by_card()])
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "REVIEW"
    assert "more than 8 seats" in answer.json()["review_reason"]
    assert answer.json()["loyalty_points_earned"] == 0
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'BOOKED'") == 9


async def test_card_velocity_holds_for_review(client, redis, settings, world, buyer) -> None:
    _, headers = buyer
    checked = check_card(
        GOOD_CARD, 12, 2031, "123", "", now=datetime(2026, 11, 20, tzinfo=UTC), at="card"
    )
    token = await SimulatorGateway(redis, settings.secret_key).tokenize(checked)
    await redis.set(f"bms:risk:card:{token.token}", 10)  # ten bookings on this card this hour
    hold_id = await hold_seats(client, headers, world, "E7")
    answer = await book(client, headers, hold_id, [pay_by_card()])
    assert answer.json()["status"] == "REVIEW"
    assert answer.json()["review_reason"] == "more than 10 bookings in an hour by this card"


async def test_fraud_thresholds_are_settings(client, world, buyer) -> None:
    _, headers = buyer
    services = client.app.state.services
    services.settings = replace(services.settings, risk_seats_before_review=2)
    hold_id = await hold_seats(client, headers, world, "E7", "E8", "E9")
    answer = await book(client, headers, hold_id, [pay_by_card()])
    assert answer.json()["status"] == "REVIEW"
    assert answer.json()["review_reason"] == "more than 2 seats in one booking"


async def test_repeated_declines_are_refused_and_recorded(client, engine, world, buyer) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    for _ in range(3):
        assert (await book(client, headers, hold_id, [pay_by_card(DECLINE)])).status_code == 402
    refused = await book(client, headers, hold_id, [pay_by_card()])
    assert refused.status_code == 403 and "too many declined payments" in refused.json()["detail"]
    async with engine.connect() as conn:
        booking = (await conn.execute(text("SELECT status, review_reason FROM bookings"))).one()
    assert tuple(booking) == ("REFUSED", "too many declined payments in the last hour")
    assert await count(engine, "SELECT count(*) FROM holds WHERE status = 'RELEASED'") == 1
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status <> 'AVAILABLE'") == 0
    assert await count(engine, "SELECT count(*) FROM payments WHERE status = 'CAPTURED'") == 0


async def test_a_short_wallet_is_no_decline_for_the_fraud_rule(
    client, engine, world, buyer
) -> None:
    _, headers = buyer
    hold_id = await hold_seats(client, headers, world, "E7")
    for _ in range(3):
        short = await book(client, headers, hold_id, [{"method": "wallet"}])
        assert short.status_code == 402 and short.json()["reason"] == "insufficient_funds"
    paid = await book(client, headers, hold_id, [pay_by_card()])
    assert paid.status_code == 201, paid.text
    assert await count(engine, "SELECT count(*) FROM payments WHERE status = 'CAPTURED'") == 1
