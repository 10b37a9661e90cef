"""Refunds the gateway did not answer, retried by the background job on the injected clock:
under the same idempotency key, with exponential backoff, until the gateway answers or the
job gives up (FAILED, with the reason, for an admin). The simulator's refund test cards play
the gateway; its own ledger shows nothing is refunded twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.contracts.enums import Role
from server.domain.cancellation import refunds
from tests.factories import auth, make_user
from tests.integration.test_cancellation import (
    SEAT_BACK,
    before_show,
    buy,
    buyer,
    cancel,
    ok,
    redis,
    refunded_at_gateway,
    world,
)
from tests.integration.test_checkout import OnApp, count, pay_by_card
from tests.polling import eventually

__all__ = ["buyer", "redis", "world"]  # fixtures shared with the cancellation tests

REFUNDS_TIME_OUT_FOUR_TIMES = "4000000000003188"
REFUNDS_NEVER_ANSWER = "4000000000003428"


async def refund_row(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT status, attempts, next_attempt_at, idempotency_key,"
                    " gateway_refund_ref, failure_code, failure_reason FROM refunds"
                )
            )
        ).one()


async def until(engine: AsyncEngine, check: Any, seconds: float = 15) -> Any:
    """The refund row once ``check`` holds for it (the app's own job may be the one sending)."""

    async def matching() -> Any:
        row = await refund_row(engine)
        return row if check(row) else None

    return await eventually(matching, "the refund row to change", seconds)


async def test_the_background_job_sends_again_after_the_backoff_under_the_same_key(
    client, engine, redis, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(
        client, headers, world, "E7", payments=[pay_by_card(REFUNDS_TIME_OUT_FOUR_TIMES)]
    )
    before_show(clock, booked["starts_at"], hours=30)
    done = ok(await cancel(client, headers, booked["code"], confirm=True))
    [pending] = done["refunds"]
    assert (pending["status"], pending["attempts"]) == ("PENDING", 1)
    first = await refund_row(engine)
    assert first.next_attempt_at == clock.now() + refunds.retry_delay(1)

    # Nobody calls anything: the app's job sends it once the clock passes the backoff.
    clock.advance(refunds.retry_delay(1))
    row = await until(engine, lambda row: row.status != "PENDING")
    assert (row.status, row.attempts, row.idempotency_key) == (
        "SUCCEEDED",
        2,
        first.idempotency_key,
    )
    assert row.gateway_refund_ref.startswith("re_") and row.next_attempt_at is None
    assert await refunded_at_gateway(redis, engine, booked["code"]) == [SEAT_BACK]
    listed = await client.get(f"/api/v1/bookings/{booked['code']}/refunds", headers=headers)
    assert listed.json()[0]["gateway_refund_ref"] == row.gateway_refund_ref
    assert await count(engine, "SELECT count(*) FROM outbox WHERE topic = 'refund.issued'") == 1


async def test_a_refund_never_answered_is_given_up_with_the_reason_then_reopened_under_its_key(
    client, session, engine, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7", payments=[pay_by_card(REFUNDS_NEVER_ANSWER)])
    before_show(clock, booked["starts_at"], hours=30)
    ok(await cancel(client, headers, booked["code"], confirm=True))
    key = (await refund_row(engine)).idempotency_key
    on_app = OnApp(client)

    for attempts in range(1, refunds.MAX_ATTEMPTS):
        row = await refund_row(engine)
        assert (row.status, row.attempts) == ("PENDING", attempts)
        assert row.next_attempt_at == clock.now() + refunds.retry_delay(attempts)
        clock.advance(refunds.retry_delay(attempts) - refunds.FIRST_RETRY / 2)
        assert on_app(refunds.send_due) == 0  # not due yet: the backoff doubles each time
        clock.advance(refunds.FIRST_RETRY / 2)
        on_app(refunds.send_due)
        await until(engine, lambda row, sent=attempts + 1: row.attempts == sent)

    row = await refund_row(engine)
    assert (row.status, row.attempts, row.failure_code) == (
        "FAILED",
        refunds.MAX_ATTEMPTS,
        refunds.NO_ANSWER,
    )
    assert f"did not answer after {refunds.MAX_ATTEMPTS} attempts" in row.failure_reason
    assert await count(engine, "SELECT count(*) FROM audit_log WHERE action = 'refund.failed'") == 1
    clock.advance(hours=24)
    assert on_app(refunds.send_due) == 0  # given up: the job leaves it to an admin

    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    seen = await client.get("/api/v1/admin/refunds", headers=auth(manager))
    [failed] = seen.json()
    assert (failed["code"], failed["status"]) == (booked["code"], "FAILED")
    assert "did not answer" in failed["failure_reason"]
    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    assert (await client.get("/api/v1/admin/refunds", headers=auth(stranger))).json() == []
    bad = await client.get("/api/v1/admin/refunds?status=LOST", headers=auth(manager))
    assert bad.status_code == 422 and "status must be one of" in bad.json()["detail"]
    retried = ok(
        await client.post(
            "/api/v1/admin/refunds/retry",
            json={"booking_code": booked["code"]},
            headers=auth(manager),
        )
    )
    # It may have gone through unseen, so it is asked again under its own key, never a new one.
    assert (retried["attempted"], retried["pending"]) == (1, 1)
    row = await refund_row(engine)
    assert (row.idempotency_key, row.attempts, row.failure_reason) == (key, 1, None)


async def test_concurrent_jobs_never_send_one_refund_twice(
    client, engine, clock, world, buyer
) -> None:
    _, headers = buyer
    booked = await buy(client, headers, world, "E7", payments=[pay_by_card(REFUNDS_NEVER_ANSWER)])
    before_show(clock, booked["starts_at"], hours=30)
    ok(await cancel(client, headers, booked["code"], confirm=True))
    clock.advance(refunds.retry_delay(1))
    on_app = OnApp(client)

    async def both() -> list[int]:
        return list(
            await asyncio.gather(
                refunds.send_due(on_app.services), refunds.send_due(on_app.services)
            )
        )

    sent = on_app.portal.call(both)
    assert sum(sent) <= 1  # the claim skips what another job holds (the app's own may win)
    row = await until(engine, lambda row: row.attempts == 2)
    assert (row.status, row.attempts) == ("PENDING", 2)


@pytest.mark.parametrize(
    ("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (9, 256), (10, 360), (20, 360)]
)
def test_the_backoff_doubles_up_to_six_hours(attempts: int, minutes: int) -> None:
    assert refunds.retry_delay(attempts) == timedelta(minutes=minutes)
