"""Refunds the gateway did not answer, retried by the background job on the injected clock:
under the same idempotency key, with exponential backoff, until the gateway answers or the
job gives up (FAILED, with the reason, for an admin). The simulator's refund test cards play
the gateway; its own ledger shows nothing is refunded twice."""

from __future__ import annotations

import asyncio
import uuid
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
from tests.integration.test_checkout import GOOD_CARD, OnApp, count, pay_by_card
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


async def bought_and_cancelled(
    client: Any, headers: dict[str, str], clock: Any, world: Any, card: str = GOOD_CARD
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seat E7 bought with ``card``, then cancelled 30 h before the show (a full refund of
    the seat): the booking and the cancellation's answer."""
    booked = await buy(client, headers, world, "E7", payments=[pay_by_card(card)])
    before_show(clock, booked["starts_at"], hours=30)
    return booked, ok(await cancel(client, headers, booked["code"], confirm=True))


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
    booked, done = await bought_and_cancelled(
        client, headers, clock, world, REFUNDS_TIME_OUT_FOUR_TIMES
    )
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
    booked, _ = await bought_and_cancelled(client, headers, clock, world, REFUNDS_NEVER_ANSWER)
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
    await bought_and_cancelled(client, headers, clock, world, REFUNDS_NEVER_ANSWER)
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


# -- an admin's hand on one refund -------------------------------------------------------------


async def give_up(engine: AsyncEngine, code: str = refunds.NO_ANSWER) -> Any:
    """The refund row as the job leaves it once it gave up (10 sends without an answer, as
    the test above walks through), or as a gateway refusal leaves it."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE refunds SET status = 'FAILED', attempts = :max, next_attempt_at = NULL,"
                " completed_at = now(), failure_code = :code, failure_reason = 'gave up'"
            ),
            {"max": refunds.MAX_ATTEMPTS, "code": code},
        )
    return await refund_row(engine)


async def refund_id(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return str(await conn.scalar(text("SELECT id FROM refunds")))


async def audit(engine: AsyncEngine, action: str) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT actor_id, entity_id, detail FROM audit_log WHERE action = :a ORDER BY id"),
            {"a": action},
        )
        return list(rows)


async def test_an_admin_retries_one_failed_refund_and_it_goes_through_under_its_key(
    client, session, engine, redis, clock, world, buyer
) -> None:
    _, headers = buyer
    booked, _ = await bought_and_cancelled(
        client, headers, clock, world, REFUNDS_TIME_OUT_FOUR_TIMES
    )
    failed = await give_up(engine)
    refund = await refund_id(engine)
    manager, token = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id]
    )
    url = f"/api/v1/admin/refunds/{refund}/retry"

    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    assert (await client.post(url, headers=auth(stranger))).status_code == 404
    assert (await client.post(url, headers=headers)).status_code == 403
    unknown = await client.post(f"/api/v1/admin/refunds/{uuid.uuid4()}/retry", headers=auth(token))
    assert unknown.status_code == 404 and "no refund" in unknown.json()["detail"]

    retried = ok(await client.post(url, headers=auth(token)))
    # Given up for want of an answer, it may have gone through: the same key, attempts reset.
    assert (retried["status"], retried["attempts"]) == ("SUCCEEDED", 1)
    assert retried["gateway_refund_ref"].startswith("re_")
    assert (
        retried["detail"] == f"The gateway refunded it (reference {retried['gateway_refund_ref']})."
    )
    assert (await refund_row(engine)).idempotency_key == failed.idempotency_key
    assert await refunded_at_gateway(redis, engine, booked["code"]) == [SEAT_BACK]
    [entry] = await audit(engine, "refund.retried")
    assert (entry.actor_id, entry.entity_id) == (manager.id, refund)
    assert entry.detail["failure_code"] == refunds.NO_ANSWER
    assert entry.detail["attempts_before"] == refunds.MAX_ATTEMPTS

    again = await client.post(url, headers=auth(token))
    assert again.status_code == 409 and again.json()["reason"] == "not_failed"
    assert "is SUCCEEDED, not FAILED: the gateway refunded it on" in again.json()["detail"]


async def test_a_refused_refund_retried_is_asked_anew_and_refused_again(
    client, session, engine, clock, world, buyer
) -> None:
    _, headers = buyer
    await bought_and_cancelled(client, headers, clock, world)
    # More than the capture has left: the simulator refuses it, whatever the key.
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE refunds SET amount_minor = amount_minor * 2, status = 'FAILED',"
                " failure_code = 'refund_exceeds_capture', gateway_refund_ref = NULL,"
                " idempotency_key = 'refused-once'"
            )
        )
    _, token = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    retried = ok(
        await client.post(
            f"/api/v1/admin/refunds/{await refund_id(engine)}/retry", headers=auth(token)
        )
    )
    assert (retried["status"], retried["failure_code"]) == ("FAILED", "refund_exceeds_capture")
    assert retried["detail"].startswith("The gateway refused it again: ")
    # A refusal moved no money, so it was asked under a new key.
    assert (await refund_row(engine)).idempotency_key == "refused-once#1"


async def test_a_pending_refund_is_neither_retried_nor_settled_by_hand(
    client, session, engine, clock, world, buyer
) -> None:
    _, headers = buyer
    await bought_and_cancelled(client, headers, clock, world, REFUNDS_NEVER_ANSWER)
    _, token = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    refund = await refund_id(engine)
    retry = await client.post(f"/api/v1/admin/refunds/{refund}/retry", headers=auth(token))
    settle = await client.post(
        f"/api/v1/admin/refunds/{refund}/settle-manually",
        json={"note": "cash"},
        headers=auth(token),
    )
    for refused, verb in ((retry, "retried"), (settle, "settled manually")):
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert "is PENDING, not FAILED: it is still being sent to the gateway" in detail
        assert "(1 attempt so far, next at 2026-11-21 03:01 UTC)" in detail
        assert f"Only a FAILED refund can be {verb}" in detail
    assert (await refund_row(engine)).status == "PENDING"
    assert await audit(engine, "refund.retried") == []


async def test_an_admin_settles_a_failed_refund_by_hand_and_it_is_never_sent_again(
    client, session, engine, redis, clock, world, buyer
) -> None:
    _, headers = buyer
    booked, _ = await bought_and_cancelled(client, headers, clock, world, REFUNDS_NEVER_ANSWER)
    await give_up(engine)
    refund = await refund_id(engine)
    manager, token = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id]
    )
    url = f"/api/v1/admin/refunds/{refund}/settle-manually"

    blank = await client.post(url, json={"note": "  "}, headers=auth(token))
    assert blank.status_code == 422 and "say how the money was paid out" in blank.json()["detail"]
    too_long = await client.post(url, json={"note": "x" * 301}, headers=auth(token))
    assert too_long.status_code == 422
    _, stranger = await make_user(session, role=Role.THEATER_ADMIN)
    assert (
        await client.post(url, json={"note": "cash"}, headers=auth(stranger))
    ).status_code == 404

    settled = ok(
        await client.post(
            url, json={"note": "cash at the box office, receipt 1182"}, headers=auth(token)
        )
    )
    assert (settled["status"], settled["settled_manually"]) == ("SUCCEEDED", True)
    assert (settled["settled_by"], settled["settlement_note"]) == (
        manager.name,
        "cash at the box office, receipt 1182",
    )
    assert settled["gateway_refund_ref"] is None and settled["failure_code"] is None
    assert "may have gone through there after all" in settled["detail"]
    # Recorded on the refund itself (what the listings and reconciliation read), and
    # audited, in the one transaction that made it SUCCEEDED.
    async with engine.connect() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT completed_at, settled_manually_at, settled_manually_by,"
                    " settlement_note FROM refunds"
                )
            )
        ).one()
    assert tuple(columns) == (
        clock.now(),
        clock.now(),
        manager.id,
        "cash at the box office, receipt 1182",
    )
    assert settled["settled_manually_at"] is not None
    [entry] = await audit(engine, "refund.settled_manually")
    assert (entry.actor_id, entry.entity_id) == (manager.id, refund)
    assert entry.detail["note"] == "cash at the box office, receipt 1182"
    assert entry.detail["failure_code"] == refunds.NO_ANSWER
    # Nothing moved at the gateway, and nothing ever will.
    assert await refunded_at_gateway(redis, engine, booked["code"]) == [0]
    assert await count(engine, "SELECT refunded_minor FROM payments") == 0
    clock.advance(hours=24)
    assert OnApp(client)(refunds.send_due) == 0

    # The customer sees it paid, not who paid it or the note.
    [theirs] = (
        await client.get(f"/api/v1/bookings/{booked['code']}/refunds", headers=headers)
    ).json()
    assert (theirs["status"], theirs["settled_manually"]) == ("SUCCEEDED", True)
    assert theirs["settlement_note"] is None and theirs["settled_by"] is None
    again = await client.post(url, json={"note": "twice?"}, headers=auth(token))
    assert again.status_code == 409 and "it was settled manually on" in again.json()["detail"]
    retry = await client.post(f"/api/v1/admin/refunds/{refund}/retry", headers=auth(token))
    assert retry.status_code == 409 and "settled manually" in retry.json()["detail"]


async def test_admins_list_refunds_by_status_theater_day_and_booking(
    client, session, engine, clock, world, buyer
) -> None:
    _, headers = buyer
    first = await buy(client, headers, world, "E7")
    second = await buy(client, headers, world, "E8", payments=[pay_by_card(REFUNDS_NEVER_ANSWER)])
    before_show(clock, first["starts_at"], hours=30)  # 2026-11-21 in Mumbai
    ok(await cancel(client, headers, first["code"], confirm=True))
    clock.advance(minutes=1)
    ok(await cancel(client, headers, second["code"], confirm=True))
    _, token = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])

    async def listed(query: str) -> list[tuple[str, str]]:
        answer = await client.get(f"/api/v1/admin/refunds?{query}", headers=auth(token))
        assert answer.status_code == 200, answer.text
        return [(refund["code"], refund["status"]) for refund in answer.json()]

    assert await listed("") == []  # FAILED ones unless asked
    both = [(first["code"], "SUCCEEDED"), (second["code"], "PENDING")]
    assert await listed("status=SUCCEEDED&status=pending") == both
    assert await listed(f"status=PENDING&theater_id={world.theater_id}") == both[1:]
    assert await listed(f"status=SUCCEEDED&status=PENDING&code={second['code']}") == both[1:]
    day = "status=SUCCEEDED&status=PENDING&from={}&to={}"
    assert await listed(day.format("2026-11-21", "2026-11-21")) == both
    assert await listed(day.format("2026-11-22", "2026-11-30")) == []
    assert await listed("status=SUCCEEDED&status=PENDING&limit=1") == both[:1]
    [one] = (await client.get("/api/v1/admin/refunds?status=SUCCEEDED", headers=auth(token))).json()
    async with engine.connect() as conn:
        theater = await conn.scalar(text("SELECT name FROM theaters"))
    assert (one["currency"], one["theater_name"], one["theater_id"]) == (
        "INR",
        theater,
        str(world.theater_id),
    )

    for query, problem in (
        ("status=LOST", "status must be one of"),
        ("from=2026-11-22&to=2026-11-21", "is after"),
        ("code=NOPE1234", "no booking NOPE1234"),
    ):
        answer = await client.get(f"/api/v1/admin/refunds?{query}", headers=auth(token))
        assert answer.status_code in (404, 422) and problem in answer.json()["detail"], query
    assert (await client.get("/api/v1/admin/refunds", headers=headers)).status_code == 403
