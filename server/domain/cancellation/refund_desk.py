"""The refund desk: what theater and platform admins do with refund records.

- **List** them across their theaters, by status, theater, booking and local date.
- **Retry** FAILED ones (one, or all of a booking or theater): back into the retry job's
  queue with their attempts reset, sent again at once, audited (``refund.retried``) with the
  admin who asked. Only a FAILED refund can be retried one by one; anything else is a 409
  saying what it is doing instead.
- **Settle manually** a FAILED refund that was paid out by other means (cash at the box
  office, a bank transfer): it becomes SUCCEEDED without a gateway reference, is never sent
  to the gateway again, and records who, when and the note in its own columns
  (``settled_manually_at``, ``settled_manually_by``, ``settlement_note``), with an audit
  entry (``refund.settled_manually``) in the same transaction. The payment keeps what the
  gateway refunded of it, so reconciliation expects nothing of this refund at the gateway,
  and reports a gateway refund of the same capture as a possible double payment.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from server.contracts.cancellation import (
    RefundOut,
    RefundRetryOut,
    RefundRetryRequest,
    RefundSettleRequest,
)
from server.contracts.enums import RefundStatus, Role
from server.domain.accounts.guards import require_role, require_theater
from server.domain.accounts.principal import Principal
from server.domain.cancellation import queries, refunds
from server.domain.cancellation.queries import RefundFilter, RefundRow
from server.domain.errors import Conflict, Invalid, NotFound
from server.infra.database import autocommit
from server.infra.state import Services

STATUSES = tuple(status.value for status in RefundStatus)
NEEDING_A_HAND = (RefundStatus.FAILED.value,)
MAX_NOTE_LENGTH = 300
MAX_LIST = 1000


@dataclass(frozen=True, slots=True)
class RefundSearch:
    """``GET /api/v1/admin/refunds``: FAILED ones unless other statuses are asked for; dates
    are the local days the refunds were made, on each theater's clock."""

    statuses: Sequence[str] = NEEDING_A_HAND
    theater_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    code: str | None = None
    limit: int = 200


async def refunds_out(services: Services, where: RefundFilter, *, staff: bool) -> list[RefundOut]:
    """The records as the API shows them; who settled one manually, and their note, only
    to staff."""
    async with autocommit(services.engine).connect() as conn:
        rows = await queries.refunds(conn, where)
    return [
        RefundOut(
            refund_id=r.refund_id,
            code=r.code,
            amount_minor=r.amount_minor,
            destination=r.destination,
            status=r.status,
            reason=r.reason,
            created_at=r.created_at,
            payment_id=r.payment_id,
            method=r.method,
            fee_kept_minor=r.fee_kept_minor,
            completed_at=r.completed_at,
            gateway_refund_ref=r.gateway_refund_ref,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at if r.status == RefundStatus.PENDING else None,
            failure_code=r.failure_code,
            failure_reason=r.failure_reason,
            currency=r.currency,
            theater_id=r.theater_id,
            theater_name=r.theater_name,
            settled_manually=r.settled_manually_at is not None,
            settled_manually_at=r.settled_manually_at,
            settled_by=r.settled_by if staff else None,
            settlement_note=r.settlement_note if staff else None,
        )
        for r in rows
    ]


def _admin_filter(
    principal: Principal, theater_id: uuid.UUID | None, statuses: Sequence[str]
) -> RefundFilter:
    """Refunds of one theater, or of every theater the admin runs."""
    require_role(principal, Role.THEATER_ADMIN)
    if theater_id is not None:
        require_theater(principal, theater_id)
        return RefundFilter(statuses=statuses, theater_ids=[theater_id])
    theaters = None if principal.is_platform_admin else principal.theater_ids
    return RefundFilter(statuses=statuses, theater_ids=theaters)


async def _booking_id(conn: AsyncConnection, principal: Principal, code: str) -> uuid.UUID:
    booking = await queries.booking(conn, code, lock=False)
    if booking is None or not principal.can_act_for(booking.theater_id):
        raise NotFound(f"There is no booking {code.strip().upper()} in your theaters.")
    return booking.booking_id


async def admin_refunds(
    services: Services, principal: Principal, search: RefundSearch
) -> list[RefundOut]:
    """The refunds in the statuses asked for across the admin's theaters, oldest first."""
    statuses = [status.strip().upper() for status in search.statuses]
    unknown = [status for status in statuses if status not in STATUSES]
    if unknown:
        raise Invalid(
            f"status must be one of {', '.join(STATUSES)}, not {unknown[0]!r}.", field="status"
        )
    if search.date_from and search.date_to and search.date_from > search.date_to:
        raise Invalid(f"from {search.date_from} is after to {search.date_to}.", field="from")
    if not 1 <= search.limit <= MAX_LIST:
        raise Invalid(f"limit must be 1 to {MAX_LIST}.", field="limit")
    where = replace(
        _admin_filter(principal, search.theater_id, statuses),
        date_from=search.date_from,
        date_to=search.date_to,
        limit=search.limit,
    )
    if search.code:
        async with autocommit(services.engine).connect() as conn:
            where = replace(where, booking_id=await _booking_id(conn, principal, search.code))
    return await refunds_out(services, where, staff=True)


async def retry_refunds(
    services: Services, principal: Principal, body: RefundRetryRequest
) -> RefundRetryOut:
    """Send every PENDING refund (of a booking or theater) again now, and reopen and send
    every FAILED one."""
    where = _admin_filter(
        principal, body.theater_id, [RefundStatus.PENDING.value, RefundStatus.FAILED.value]
    )
    now = services.clock.now()
    async with services.engine.begin() as conn:
        if body.booking_code:
            where = replace(where, booking_id=await _booking_id(conn, principal, body.booking_code))
        due = await queries.refunds(conn, where)
        for refund in due:
            if refund.status == RefundStatus.FAILED:
                await refunds.reopen(conn, refund, now, principal.user_id)
    ids = [refund.refund_id for refund in due]
    await refunds.settle(services, ids, principal.user_id)
    after = await refunds_out(services, RefundFilter(refund_ids=ids), staff=True) if ids else []
    statuses = [refund.status for refund in after]
    return RefundRetryOut(
        attempted=len(after),
        succeeded=statuses.count(RefundStatus.SUCCEEDED),
        pending=statuses.count(RefundStatus.PENDING),
        failed=statuses.count(RefundStatus.FAILED),
        refunds=after,
    )


# -- one refund -------------------------------------------------------------------------------


async def _admin_refund(
    conn: AsyncConnection, principal: Principal, refund_id: uuid.UUID
) -> RefundRow:
    require_role(principal, Role.THEATER_ADMIN)
    found = await queries.refunds(conn, RefundFilter(refund_ids=[refund_id]))
    if not found or not principal.can_act_for(found[0].theater_id):
        raise NotFound(f"There is no refund {refund_id} in your theaters.")
    return found[0]


def _not_failed(refund: RefundRow, action: str) -> Conflict:
    """Why a refund that is not FAILED cannot be retried or settled by hand."""
    when = f"{refund.completed_at:%Y-%m-%d %H:%M} UTC" if refund.completed_at else "earlier"
    if refund.status == RefundStatus.PENDING:
        upcoming = refund.next_attempt_at
        later = f", next at {upcoming:%Y-%m-%d %H:%M} UTC" if upcoming else ""
        attempts = f"{refund.attempts} attempt{'' if refund.attempts == 1 else 's'}"
        doing = (
            f"it is still being sent to the gateway ({attempts} so far{later}). "
            f"Only a FAILED refund can be {action}; wait until it succeeds or fails."
        )
    elif refund.settled_manually_at is not None:
        doing = f"it was settled manually on {when}; there is nothing left to do."
    elif refund.gateway_refund_ref:
        doing = (
            f"the gateway refunded it on {when} (reference {refund.gateway_refund_ref}); "
            "there is nothing left to do."
        )
    else:
        doing = f"it was paid on {when} ({refund.destination}); there is nothing left to do."
    return Conflict(
        f"Refund {refund.refund_id} of booking {refund.code} is {refund.status}, not FAILED: "
        f"{doing}",
        reason="not_failed",
        refund_status=refund.status,
    )


async def retry_refund(services: Services, principal: Principal, refund_id: uuid.UUID) -> RefundOut:
    """One FAILED refund back into the retry queue with its attempts reset, and sent at
    once; the answer says how that send went."""
    async with services.engine.begin() as conn:
        refund = await _admin_refund(conn, principal, refund_id)
        reopened = refund.status == RefundStatus.FAILED and await refunds.reopen(
            conn, refund, services.clock.now(), principal.user_id
        )
        if not reopened:
            raise _not_failed(await _admin_refund(conn, principal, refund_id), "retried")
    await refunds.settle(services, [refund_id], principal.user_id)
    [after] = await refunds_out(services, RefundFilter(refund_ids=[refund_id]), staff=True)
    after.detail = _retried(after)
    return after


def _retried(refund: RefundOut) -> str:
    if refund.status == RefundStatus.SUCCEEDED:
        return f"The gateway refunded it (reference {refund.gateway_refund_ref})."
    if refund.status == RefundStatus.PENDING:
        upcoming = refund.next_attempt_at
        later = f" at {upcoming:%Y-%m-%d %H:%M} UTC" if upcoming else ""
        return (
            "The gateway did not answer; it is back in the retry queue and is sent again"
            f"{later}, with backoff, up to {refunds.MAX_ATTEMPTS} times."
        )
    return f"The gateway refused it again: {refund.failure_reason}"


async def settle_manually(
    services: Services, principal: Principal, refund_id: uuid.UUID, body: RefundSettleRequest
) -> RefundOut:
    """Record that a FAILED refund was paid out by other means."""
    note = " ".join(body.note.split())
    if not note:
        raise Invalid(
            "note: say how the money was paid out, e.g. 'cash at the box office, receipt 1182'.",
            field="note",
        )
    if len(note) > MAX_NOTE_LENGTH:
        raise Invalid(f"note: at most {MAX_NOTE_LENGTH} characters.", field="note")
    async with services.engine.begin() as conn:
        refund = await _admin_refund(conn, principal, refund_id)
        settled = refund.status == RefundStatus.FAILED and await refunds.settle_manually(
            conn, refund, note, services.clock.now(), principal.user_id
        )
        if not settled:
            raise _not_failed(await _admin_refund(conn, principal, refund_id), "settled manually")
    [after] = await refunds_out(services, RefundFilter(refund_ids=[refund_id]), staff=True)
    after.detail = "Recorded as paid out by other means; it is never sent to the gateway again."
    if refund.failure_code == refunds.NO_ANSWER:
        after.detail += (
            " The gateway never answered it, so it may have gone through there after all: if "
            f"a settlement file shows a refund of capture {refund.gateway_ref}, reconciliation "
            "reports it as a possible double payment."
        )
    return after
