"""Sending gateway refunds, and sending them again until the gateway gives an answer.

A refund goes out after its cancelling transaction commits, under its record's own
idempotency key, and the answer is kept on the record:

- refunded: SUCCEEDED with the gateway's refund reference; the payment's refunded amount
  follows and the customer is told (``refund.issued``);
- refused: FAILED with the gateway's code and sentence; an admin may send it again
  (``reopen``) under a new key, since a refused refund moved no money;
- no answer (timeouts, or the circuit breaker is open): it stays PENDING, and the retry job
  (``send_due``, every few seconds in every server process) sends it again under the SAME key
  after an exponential backoff on the injected clock. After ``MAX_ATTEMPTS`` sends it gives
  up: FAILED with ``no_answer`` and an audit entry, for an admin to chase; reopening such a
  refund keeps its key, because the gateway may have refunded it without saying so.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.enums import RefundStatus
from server.contracts.notifications import RefundIssued
from server.domain.booking import queries as booking_queries
from server.domain.cancellation import queries
from server.domain.cancellation.queries import Attempt, RefundFilter, RefundRow
from server.domain.errors import Unavailable
from server.domain.notifications import outbox
from server.domain.payments import services as payments
from server.infra.database import autocommit
from server.infra.state import Services

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 10  # about 17 hours of trying
BATCH_SIZE = 20
# Other processes leave a claimed refund alone this long; its send records the real next
# attempt, so only a process that died mid-send makes anyone wait for the lease to run out.
LEASE = timedelta(minutes=5)
NO_ANSWER = "no_answer"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th send that got no answer."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def first_retry_at(now: datetime) -> datetime:
    """When the job may first send a new refund: the cancelling request sends it itself, so
    the job only steps in when that send never recorded an answer."""
    return now + FIRST_RETRY


async def send_due(services: Services, *, limit: int = BATCH_SIZE) -> int:
    """The background job: claim the PENDING refunds whose next attempt is due and send them;
    returns how many it sent."""
    now = services.clock.now()
    async with services.engine.begin() as conn:
        claimed = await queries.claim_due_refunds(
            conn, now=now, lease_until=now + LEASE, limit=limit
        )
    await settle(services, claimed, actor_id=None)
    return len(claimed)


async def settle(
    services: Services, refund_ids: Sequence[uuid.UUID], actor_id: uuid.UUID | None
) -> None:
    """Send PENDING gateway refunds, each under its own idempotency key (so sending one again
    after a crash or a timeout can never pay twice)."""
    if not refund_ids:
        return
    async with autocommit(services.engine).connect() as conn:
        due = await queries.refunds(
            conn, RefundFilter(refund_ids=refund_ids, statuses=[RefundStatus.PENDING.value])
        )
    for refund in due:
        await _send(services, refund, actor_id)


async def _send(services: Services, refund: RefundRow, actor_id: uuid.UUID | None) -> None:
    if refund.payment_id is None or refund.method is None:
        return  # wallet credit: done in its own transaction
    gateway = payments.gateway_for(services, refund.method)
    capture, key = refund.gateway_ref or "", refund.idempotency_key or str(refund.refund_id)
    try:
        result = await payments.with_retries(
            services, gateway, lambda: gateway.refund(capture, refund.amount_minor, key)
        )
    except Unavailable:
        await _no_answer(services, refund, gateway.name, actor_id)
        return
    now = services.clock.now()
    async with services.engine.begin() as conn:
        if not result.approved:
            refused = Attempt(
                RefundStatus.FAILED, now, failure_code=result.code, failure_reason=result.message
            )
            if await queries.record_attempt(conn, refund.refund_id, refused):
                await _audit_failure(conn, refund, actor_id, refused, key)
            return
        done = Attempt(RefundStatus.SUCCEEDED, now, reference=result.reference)
        if await queries.record_attempt(conn, refund.refund_id, done):
            await queries.mark_payment_refunded(conn, refund.payment_id, refund.amount_minor)
            event = RefundIssued(booking_id=refund.booking_id, amount_minor=refund.amount_minor)
            await outbox.enqueue(conn, "refund.issued", event)


async def _no_answer(
    services: Services, refund: RefundRow, gateway: str, actor_id: uuid.UUID | None
) -> None:
    """Another send later under the same key, or, after the last, FAILED for an admin."""
    now, attempts = services.clock.now(), refund.attempts + 1
    if attempts < MAX_ATTEMPTS:
        later = Attempt(RefundStatus.PENDING, now, next_attempt_at=now + retry_delay(attempts))
        async with services.engine.begin() as conn:
            await queries.record_attempt(conn, refund.refund_id, later)
        return
    gave_up = Attempt(
        RefundStatus.FAILED,
        now,
        failure_code=NO_ANSWER,
        failure_reason=(
            f"The {gateway} payment gateway did not answer after {attempts} attempts; send it "
            "again once the gateway is back (bms admin refunds retry, or POST "
            f"/api/v1/admin/refunds/{refund.refund_id}/retry)."
        ),
    )
    async with services.engine.begin() as conn:
        if await queries.record_attempt(conn, refund.refund_id, gave_up):
            await _audit_failure(conn, refund, actor_id, gave_up, refund.idempotency_key)


async def _audit_failure(
    conn: AsyncConnection,
    refund: RefundRow,
    actor_id: uuid.UUID | None,
    attempt: Attempt,
    key: str | None,
) -> None:
    await booking_queries.insert_audit(
        conn,
        actor_id=actor_id,
        action="refund.failed",
        entity="refund",
        entity_id=str(refund.refund_id),
        detail={"code": attempt.failure_code, "message": attempt.failure_reason, "key": key},
    )


async def reopen(
    conn: AsyncConnection, refund: RefundRow, now: datetime, actor_id: uuid.UUID
) -> bool:
    """FAILED → PENDING with its attempts reset, back in the retry job's queue, before the
    caller sends it again; audited with the admin who asked. A refusal moved no money, so it
    goes under a new key (the gateway would only repeat its refusal under the old one); a
    refund that never got an answer may have gone through, so it keeps its key. The key is
    stored before the gateway is asked, so a crash after the gateway said yes retries under
    that same key. False when it was no longer FAILED (another admin got there first)."""
    key = refund.idempotency_key or str(refund.refund_id)
    if refund.failure_code != NO_ANSWER:
        key = _next_key(key)
    if not await queries.reopen_refund(conn, refund.refund_id, key, first_retry_at(now)):
        return False
    await _audit(
        conn,
        refund,
        actor_id,
        queries.REFUND_RETRIED,
        {"key": key, "attempts_before": refund.attempts},
    )
    return True


async def settle_manually(
    conn: AsyncConnection, refund: RefundRow, note: str, now: datetime, actor_id: uuid.UUID
) -> bool:
    """A FAILED refund paid out by other means (cash at the counter, a bank transfer): it
    becomes SUCCEEDED with no gateway reference, never sent again, and records who, when and
    the note (its columns, and the audit entry in the same transaction). False when it was no
    longer FAILED."""
    if not await queries.settle_refund(conn, refund.refund_id, now=now, by=actor_id, note=note):
        return False
    await _audit(conn, refund, actor_id, queries.REFUND_SETTLED_MANUALLY, {"note": note})
    return True


async def _audit(
    conn: AsyncConnection,
    refund: RefundRow,
    actor_id: uuid.UUID,
    action: str,
    detail: dict[str, object],
) -> None:
    """An admin's action on a refund, with what it was before (the failure it had)."""
    await booking_queries.insert_audit(
        conn,
        actor_id=actor_id,
        action=action,
        entity="refund",
        entity_id=str(refund.refund_id),
        detail={
            "code": refund.code,
            "amount_minor": refund.amount_minor,
            "failure_code": refund.failure_code,
            "failure_reason": refund.failure_reason,
            **detail,
        },
    )


def _next_key(key: str) -> str:
    base, sep, attempt = key.rpartition("#")
    if sep and attempt.isdigit():
        return f"{base}#{int(attempt) + 1}"
    return f"{key}#1"
