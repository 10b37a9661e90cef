"""Cancelling bookings through the real app, database and simulator: the policy's boundaries
on the injected clock, quote == result, partial-cancellation arithmetic, wallet and original
refunds, loyalty and coupon reversal, freed seats back on sale and offered to the waiting
list, a refund the gateway does not take kept and retried, show cancellation and who may."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.channels import ChannelsPlugin
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.api import SeatEvent
from server.contracts.enums import Role
from server.db.models import User
from server.domain.payments.gateway import GatewayResult, GatewayTimeout, declined
from server.domain.payments.simulator import SimulatorGateway
from tests.factories import World, auth, make_user
from tests.integration.test_checkout import (
    add_coupon,
    book,
    count,
    hold_seats,
    new_buyer,
    new_world,
    pay_by_card,
)
from tests.polling import eventually

ONE_SEAT = 33040  # 250.00 + 30.00 fee + 18 % tax on 280.00 (50.40)
SEAT_BACK = 29500  # 250.00 + its tax share 50.40 × 250/280 = 45.00; the 30.00 fee is kept
Headers = dict[str, str]


@pytest.fixture
async def world(session: AsyncSession, clock: FrozenClock) -> World:
    return await new_world(session, clock)


@pytest.fixture
async def buyer(session: AsyncSession) -> tuple[User, Headers]:
    return await new_buyer(session)


@pytest.fixture
async def redis(settings: Any) -> Any:
    connection = Redis.from_url(settings.redis_url)
    yield connection
    await connection.aclose()


async def buy(
    client: AsyncTestClient, headers: Headers, world: World, *labels: str, **extra: Any
) -> dict[str, Any]:
    hold_id = await hold_seats(client, headers, world, *labels)
    answer = await book(client, headers, hold_id, extra.pop("payments", [pay_by_card()]), **extra)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def cancel(
    client: AsyncTestClient,
    headers: Headers,
    code: str,
    *,
    confirm: bool,
    seats: list[uuid.UUID] | None = None,
    refund_to: str = "original",
    key: str | None = None,
) -> Any:
    body: dict[str, Any] = {"refund_to": refund_to, "confirm": confirm}
    if seats is not None:
        body["seat_ids"] = [str(seat) for seat in seats]
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return await client.post(f"/api/v1/bookings/{code}/cancel", json=body, headers=headers)


def ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def before_show(clock: FrozenClock, starts_at: str, **delta: float) -> None:
    """Set the clock to this long before the show."""
    clock.set(datetime.fromisoformat(starts_at) - timedelta(**delta))


async def refunded_at_gateway(redis: Redis, engine: AsyncEngine, code: str) -> list[int]:
    """What the simulator's own ledger says it refunded of each capture of a booking."""
    async with engine.connect() as conn:
        refs = (
            await conn.execute(
                text(
                    "SELECT p.gateway_ref FROM payments p JOIN bookings b ON b.id = p.booking_id"
                    " WHERE b.code = :code AND p.method = 'card' ORDER BY p.amount_minor DESC"
                ),
                {"code": code},
            )
        ).scalars()
        keys = [f"bms:gw:sim:cap:{ref}:refunded" for ref in refs]
    return [int(value or 0) for value in await redis.mget(keys)]


async def booking_row(engine: AsyncEngine, code: str) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT status, total_minor, refunded_minor, cancelled_at IS NOT NULL AS gone,"
                    " (SELECT coalesce(sum(amount_minor), 0) FROM refunds r"
                    "   WHERE r.booking_id = b.id) AS in_records"
                    " FROM bookings b WHERE code = :code"
                ),
                {"code": code},
            )
        ).one()


# -- the policy on the clock -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "percent", "refund"),
    [
        ({"hours": 24, "minutes": 1}, 100, SEAT_BACK),
        ({"hours": 23, "minutes": 59}, 50, 12500 + 2250),
        ({"hours": 6, "minutes": 1}, 50, 12500 + 2250),
        ({"hours": 5, "minutes": 59}, 0, 0),
    ],
)
async def test_refund_percentage_at_the_policy_boundaries_and_quote_equals_result(
    client, engine, redis, clock, world, buyer, left, percent, refund
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7")
    before_show(clock, booked["starts_at"], **left)

    quote = ok(await cancel(client, headers, booked["code"], confirm=False))
    assert quote["confirmed"] is False and quote["booking_status"] == "CONFIRMED"
    assert (quote["quote"]["refund_percent"], quote["quote"]["refund_minor"]) == (percent, refund)
    assert quote["quote"]["fee_kept_minor"] == 3000
    assert await booking_row(engine, booked["code"]) == ("CONFIRMED", ONE_SEAT, 0, False, 0)

    done = ok(await cancel(client, headers, booked["code"], confirm=True))
    assert done["quote"] == quote["quote"]
    assert (done["confirmed"], done["booking_status"]) == (True, "CANCELLED")
    assert done["amounts"]["refunded_minor"] == refund
    assert await booking_row(engine, booked["code"]) == (
        "CANCELLED",
        ONE_SEAT,
        refund,
        True,
        refund,
    )
    statuses = {r["status"] for r in done["refunds"]}
    assert statuses == {"SUCCEEDED"}
    assert await refunded_at_gateway(redis, engine, booked["code"]) == [refund]


async def test_who_may_cancel_and_when(client, session, clock, world, buyer) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7")
    _, stranger = await new_buyer(session)
    assert (await cancel(client, stranger, booked["code"], confirm=False)).status_code == 404
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    assert (await cancel(client, auth(clerk), booked["code"], confirm=False)).status_code == 200
    _, foreign = await make_user(session, role=Role.THEATER_ADMIN)  # of no theater here
    assert (await cancel(client, auth(foreign), booked["code"], confirm=False)).status_code == 404
    # Anyone at a lobby kiosk could type a stranger's code from a ticket.
    _, kiosk = await make_user(session, role=Role.KIOSK, theater_ids=[world.theater_id])
    assert (await cancel(client, auth(kiosk), booked["code"], confirm=True)).status_code == 404
    seen = await client.get(f"/api/v1/bookings/{booked['code']}", headers=auth(kiosk))
    assert seen.status_code == 404
    bad = await cancel(client, headers, booked["code"], confirm=False, refund_to="cash")
    assert bad.status_code == 422 and "refund_to" in bad.json()["detail"]
    stray = await cancel(client, headers, booked["code"], confirm=False, seats=[uuid.uuid4()])
    assert stray.status_code == 422 and "not in this booking" in stray.json()["detail"]

    before_show(clock, booked["starts_at"], minutes=-1)
    started = await cancel(client, headers, booked["code"], confirm=True)
    assert started.status_code == 409 and "started" in started.json()["detail"]


async def test_a_walk_up_sale_is_refunded_the_way_it_was_paid_never_to_the_clerks_wallet(
    client, session, engine, clock, world
) -> None:
    clerk_user, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    sold = await buy(client, auth(clerk), world, "E7", payments=[pay_by_card()])
    before_show(clock, sold["starts_at"], hours=30)
    to_wallet = await cancel(client, auth(clerk), sold["code"], confirm=True, refund_to="wallet")
    assert to_wallet.status_code == 422, to_wallet.text
    assert "no bms wallet" in to_wallet.json()["detail"]
    done = ok(await cancel(client, auth(clerk), sold["code"], confirm=True))
    assert [r["destination"] for r in done["refunds"]] == ["original"]
    wallet = "SELECT wallet_balance_minor FROM users WHERE id = :u"
    assert await count(engine, wallet, u=clerk_user.id) == 0
    async with engine.connect() as conn:
        reasons = (await conn.scalars(text("SELECT reason FROM refunds"))).all()
    assert reasons and all(r.startswith("cancelled by clerk") for r in reasons), reasons


async def test_a_ticket_used_at_the_door_cannot_be_cancelled(
    client, session, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7")
    before_show(clock, booked["starts_at"], hours=2)
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    scan = {"payload": booked["ticket"]["qr_payload"], "location": "Door 1"}
    admitted = await client.post("/api/v1/checkin", json=scan, headers=auth(clerk))
    assert admitted.status_code == 200, admitted.text
    for who in (headers, auth(clerk)):
        refused = await cancel(client, who, booked["code"], confirm=False)
        assert refused.status_code == 409 and refused.json()["reason"] == "already_used"
        assert "Door 1" in refused.json()["detail"]


# -- partial cancellations -------------------------------------------------------------------


async def test_partial_cancellations_add_up_and_never_refund_more_than_was_paid(
    client, session, engine, redis, clock, world, buyer
) -> None:
    user, headers = buyer
    await add_coupon(session, clock, code="TENOFF", value=10, total_limit=5)
    booked = await buy(client, headers, world, "E7", "E8", "G7", coupon_code="TENOFF")
    amounts = booked["amounts"]
    # 250 + 250 + 400 = 900.00, fees 90.00, tax 18 % of 990.00 = 178.20, coupon −90.00.
    assert (amounts["discount_minor"], amounts["total_minor"]) == (9000, 107820)
    seats = {seat["label"]: seat["seat_id"] for seat in booked["seats"]}
    code = booked["code"]

    before_show(clock, booked["starts_at"], hours=30)
    first = ok(await cancel(client, headers, code, confirm=True, seats=[seats["E7"]], key="k1"))
    line = first["quote"]["seats"][0]
    # (250.00 − 25.00 coupon share) + 178.20 × 250/990 = 225.00 + 45.00.
    assert (line["discount_share_minor"], line["refund_minor"]) == (2500, 27000)
    assert first["booking_status"] == "PARTIALLY_CANCELLED"
    replay = await cancel(client, headers, code, confirm=True, seats=[seats["E7"]], key="k1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == first
    again = await cancel(client, headers, code, confirm=True, seats=[seats["E7"]])
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    assert await count(engine, "SELECT used_count FROM coupons") == 1  # a partial cancel keeps it

    before_show(clock, booked["starts_at"], hours=10)
    second = ok(await cancel(client, headers, code, confirm=True, seats=[seats["G7"]]))
    # 50 %: (400.00 − 40.00) / 2 + 178.20 × 200/990 = 180.00 + 36.00.
    assert second["quote"]["refund_minor"] == 21600

    last = ok(await cancel(client, headers, code, confirm=True))
    assert [s["label"] for s in last["quote"]["seats"]] == ["E8"]
    assert (last["booking_status"], last["quote"]["whole_booking"]) == ("CANCELLED", True)
    refunded = 27000 + 21600 + last["quote"]["refund_minor"]
    status, total, refunded_minor, gone, in_records = await booking_row(engine, code)
    assert (status, total, refunded_minor, in_records) == ("CANCELLED", 107820, refunded, refunded)
    assert refunded <= total and gone
    assert await refunded_at_gateway(redis, engine, code) == [refunded]
    assert (
        await count(engine, "SELECT count(*) FROM seat_transitions WHERE to_status = 'AVAILABLE'")
        == 3
    )
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'BOOKED'") == 0
    assert await count(engine, "SELECT used_count FROM coupons") == 0
    assert (
        await count(engine, "SELECT count(*) FROM coupon_redemptions WHERE reversed_at IS NOT NULL")
        == 1
    )
    # Points follow the money kept: 1 per full 100.00 still paid; the ledger adds up.
    kept_points = (total - refunded) // 100
    assert await count(engine, "SELECT loyalty_points FROM users WHERE id = :u", u=user.id) == (
        kept_points
    )
    assert (
        await count(engine, "SELECT sum(points) FROM loyalty_ledger WHERE user_id = :u", u=user.id)
        == kept_points
    )
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'booking.cancelled'") == 3


async def test_loyalty_points_already_spent_are_taken_from_the_refund(
    client, session, engine, clock, world, buyer
) -> None:
    user, headers = buyer
    booked = await buy(client, headers, world, "E7")
    assert booked["loyalty_points_earned"] == 330
    await session.execute(
        text("UPDATE users SET loyalty_points = 30 WHERE id = :u"), {"u": user.id}
    )
    await session.commit()
    before_show(clock, booked["starts_at"], hours=48)
    done = ok(await cancel(client, headers, booked["code"], confirm=True))
    quote = done["quote"]
    # Keeps (330.40 − 295.00) // 1.00 = 35 points: 295 reversed, 30 held, 265 owed.
    assert (quote["loyalty_points_reversed"], quote["shortfall_deducted_minor"]) == (295, 265)
    assert quote["refund_minor"] == SEAT_BACK - 265
    assert await count(engine, "SELECT loyalty_points FROM users WHERE id = :u", u=user.id) == 0
    # The shortfall is one more positive ledger row of the booking: it still reads as it was.
    again = await client.get(f"/api/v1/bookings/{booked['code']}", headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["loyalty_points_earned"] == 330


# -- where the money goes --------------------------------------------------------------------


async def test_refund_to_the_wallet_or_to_the_original_payments(
    client, session, engine, redis, clock, world, buyer
) -> None:
    user, headers = buyer
    to_wallet = await buy(client, headers, world, "E7")
    await session.execute(
        text("UPDATE users SET wallet_balance_minor = 10000 WHERE id = :u"), {"u": user.id}
    )
    await session.commit()
    split = await buy(
        client,
        headers,
        world,
        "E8",
        payments=[
            {"method": "wallet", "amount_minor": 10000},
            pay_by_card(amount=ONE_SEAT - 10000),
        ],
    )
    before_show(clock, to_wallet["starts_at"], hours=30)

    wallet = ok(await cancel(client, headers, to_wallet["code"], confirm=True, refund_to="wallet"))
    assert [(r["destination"], r["status"], r["amount_minor"]) for r in wallet["refunds"]] == [
        ("wallet", "SUCCEEDED", SEAT_BACK)
    ]
    assert await refunded_at_gateway(redis, engine, to_wallet["code"]) == [0]
    assert (
        await count(engine, "SELECT wallet_balance_minor FROM users WHERE id = :u", u=user.id)
        == SEAT_BACK
    )
    assert (
        await count(engine, "SELECT count(*) FROM wallet_ledger WHERE refund_id IS NOT NULL") == 1
    )

    original = ok(await cancel(client, headers, split["code"], confirm=True))
    # Largest payment first: the card's 230.40, then the wallet part takes the rest.
    parts = [(r["method"], r["status"], r["amount_minor"]) for r in original["refunds"]]
    assert parts == [("card", "SUCCEEDED", ONE_SEAT - 10000), ("wallet", "SUCCEEDED", 6460)]
    assert await refunded_at_gateway(redis, engine, split["code"]) == [ONE_SEAT - 10000]
    assert (
        await count(engine, "SELECT wallet_balance_minor FROM users WHERE id = :u", u=user.id)
        == SEAT_BACK + 6460
    )
    assert (
        await count(engine, "SELECT count(*) FROM payments WHERE status = 'PARTIALLY_REFUNDED'")
        == 1
    )
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'refund.issued'") == 3
    listed = (await client.get(f"/api/v1/bookings/{split['code']}/refunds", headers=headers)).json()
    assert [r["refund_id"] for r in listed] == [r["refund_id"] for r in original["refunds"]]


class FlakyRefunds(SimulatorGateway):
    """The simulator whose refunds, for now, time out or are refused."""

    mode: str | None = None

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        if self.mode == "timeout":
            raise GatewayTimeout("the gateway did not answer")
        if self.mode == "refuse":
            return declined("refund_refused", "The issuer refused the refund.")
        return await super().refund(capture_id, amount_minor, idempotency_key)


async def test_a_refund_the_gateway_does_not_take_is_kept_and_retried(
    client, session, engine, redis, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7")
    services = client.app.state.services
    flaky = FlakyRefunds(services.redis, services.secret)
    services.extras["card_gateway"] = flaky
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    retry = {"booking_code": booked["code"]}
    before_show(clock, booked["starts_at"], hours=30)

    flaky.mode = "timeout"
    done = ok(await cancel(client, headers, booked["code"], confirm=True))
    assert [r["status"] for r in done["refunds"]] == ["PENDING"]
    assert "not confirmed" in done["detail"] and done["booking_status"] == "CANCELLED"
    assert await booking_row(engine, booked["code"]) == (
        "CANCELLED",
        ONE_SEAT,
        SEAT_BACK,
        True,
        SEAT_BACK,
    )

    flaky.mode = "refuse"
    refused = ok(
        await client.post("/api/v1/admin/refunds/retry", json=retry, headers=auth(manager))
    )
    assert (refused["attempted"], refused["failed"]) == (1, 1)
    assert await count(engine, "SELECT count(*) FROM audit_log WHERE action = 'refund.failed'") == 1

    flaky.mode = None
    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    foreign = await client.post("/api/v1/admin/refunds/retry", json=retry, headers=auth(stranger))
    assert foreign.status_code == 404
    sent = ok(await client.post("/api/v1/admin/refunds/retry", json=retry, headers=auth(manager)))
    assert (sent["attempted"], sent["succeeded"]) == (1, 1)
    async with engine.connect() as conn:
        key = await conn.scalar(text("SELECT idempotency_key FROM refunds"))
    assert key.endswith("#1")  # a refusal moved no money: asked again under a new key
    assert await refunded_at_gateway(redis, engine, booked["code"]) == [SEAT_BACK]
    nothing = ok(await client.post("/api/v1/admin/refunds/retry", json={}, headers=auth(manager)))
    assert nothing["attempted"] == 0


# -- freed seats -----------------------------------------------------------------------------


async def first_available(subscriber: Any) -> SeatEvent:
    """The first AVAILABLE event (the sale's BOOKED one may still be on its way)."""
    async for raw in subscriber.iter_events():
        event = msgspec.json.decode(raw, type=SeatEvent)
        if any(change.status == "AVAILABLE" for change in event.seats):
            return event
    raise AssertionError("the feed ended")


async def test_freed_seats_are_announced_and_sellable_at_once(
    client, session, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7", "E8")
    e7 = world.seats["E7"]
    channels = client.app.plugins.get(ChannelsPlugin)
    async with channels.start_subscription([f"show:{world.show_id}"]) as subscriber:
        ok(await cancel(client, headers, booked["code"], confirm=True, seats=[e7]))
        event = await asyncio.wait_for(first_available(subscriber), 5)
    assert [(c.seat_id, c.status) for c in event.seats] == [(e7, "AVAILABLE")]
    _, second = await new_buyer(session)
    assert await hold_seats(client, second, world, "E7")


async def test_a_waitlisted_buyer_is_offered_the_freed_seat(
    client, session, engine, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7")
    owner, _ = await make_user(session)
    await session.execute(
        text(
            """
            WITH h AS (
                INSERT INTO holds (id, show_id, buyer_id, status, kind, channel, expires_at)
                VALUES (gen_random_uuid(), :show, :owner, 'ACTIVE', 'group', 'box_office',
                        now() + interval '30 days') RETURNING id)
            UPDATE show_seats SET status = 'BLOCKED', hold_id = (SELECT id FROM h),
                   held_until = now() + interval '30 days'
             WHERE show_id = :show AND status = 'AVAILABLE' AND NOT accessible_only
            """
        ),
        {"show": world.show_id, "owner": owner.id},
    )
    await session.commit()
    _, waiting = await make_user(session)
    joined = await client.post(
        f"/api/v1/shows/{world.show_id}/waitlist", json={"seats_wanted": 1}, headers=auth(waiting)
    )
    assert joined.status_code == 201, joined.text
    ok(await cancel(client, headers, booked["code"], confirm=True))
    entry = await client.get(f"/api/v1/waitlist/{joined.json()['entry_id']}", headers=auth(waiting))
    assert entry.json()["status"] == "OFFERED"
    assert (
        await count(
            engine,
            "SELECT count(*) FROM show_seats WHERE seat_id = :seat AND status = 'BLOCKED'",
            seat=world.seats["E7"],
        )
        == 1
    )


# -- the theater cancels a show --------------------------------------------------------------


async def mailed(data_dir: Path, subject: str, times: int) -> None:
    """Wait for the notifications job to have e-mailed ``subject`` ``times`` times."""
    log = data_dir / "notifications" / "email.log"

    async def sent() -> bool:
        return log.exists() and log.read_text().count(f"Subject: {subject}") >= times

    await eventually(sent, f"{subject!r} e-mailed {times} times")


async def test_a_cancelled_show_refunds_everyone_in_full_including_fees(
    client, session, engine, redis, clock, world, buyer, tmp_path
) -> None:
    _, headers = buyer
    first = await buy(client, headers, world, "E7", "E8")
    _, other = await new_buyer(session)
    second = await buy(client, other, world, "G7")
    before_show(clock, first["starts_at"], hours=10)
    ok(await cancel(client, headers, first["code"], confirm=True, seats=[world.seats["E7"]]))

    url = f"/api/v1/admin/shows/{world.show_id}/cancel"
    body = {"reason": "projector failure"}
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    _, foreign = await make_user(session, role=Role.THEATER_ADMIN)
    assert (await client.post(url, json=body, headers=auth(foreign))).status_code == 403
    assert (await client.post(url, json=body, headers=headers)).status_code == 403

    report = ok(await client.post(url, json=body, headers=auth(manager)))
    assert (report["newly_cancelled"], report["bookings_refunded"]) == (True, 2)
    for booked in (first, second):
        status, total, refunded, _, in_records = await booking_row(engine, booked["code"])
        assert (status, refunded, in_records) == ("CANCELLED", total, total)
        assert sum(await refunded_at_gateway(redis, engine, booked["code"])) == total
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'show.cancelled'") == 2
    await mailed(tmp_path, "Show cancelled", 2)
    await mailed(tmp_path, "Seats cancelled in booking", 1)
    assert await count(engine, "SELECT count(*) FROM outbox WHERE last_error IS NOT NULL") == 0
    assert await count(engine, "SELECT count(*) FROM shows WHERE status = 'CANCELLED'") == 1
    assert await count(engine, "SELECT count(*) FROM show_seats WHERE status = 'UNAVAILABLE'") == 2
    late = await cancel(client, other, second["code"], confirm=False)
    assert late.status_code == 409

    again = ok(await client.post(url, json=body, headers=auth(manager)))
    assert (again["newly_cancelled"], again["bookings_refunded"], again["bookings_skipped"]) == (
        False,
        0,
        2,
    )
    assert again["refund_minor"] == 0
