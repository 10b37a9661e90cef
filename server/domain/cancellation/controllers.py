"""Cancelling bookings and shows, and refund records: thin handlers over
cancellation.services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter

from server.contracts.api import Problem
from server.contracts.cancellation import (
    BulkCancelOut,
    BulkCancelRequest,
    CancellationOut,
    CancelRequest,
    RefundOut,
    RefundRetryOut,
    RefundRetryRequest,
    RefundSettleRequest,
    ShowCancellationOut,
    ShowCancelRequest,
)
from server.domain.admin.controllers import DateFrom, DateTo
from server.domain.cancellation import refund_desk
from server.domain.cancellation import services as cancellation
from server.domain.deps import AppServices, Caller
from server.domain.idempotency import idempotent


class CancellationController(Controller):
    path = "/api/v1"
    tags = ["cancellations"]

    @post(
        "/bookings/{code:str}/cancel",
        status_code=200,
        summary="Quote (confirm: false) or cancel (confirm: true) some or all seats",
        description="The holder, staff of the show's theater or a platform admin. The quote "
        "applies the theater's tier for the time left before the show and changes nothing; "
        "confirming cancels, frees the seats at once and refunds to the original payments "
        "(largest first) or the wallet. Send an Idempotency-Key: a retry gets the first "
        "answer. 409: already cancelled, the show started or was cancelled; 422: bad seats.",
        responses={409: ResponseSpec(Problem, description="Not cancellable now")},
    )
    async def cancel(
        self,
        code: str,
        data: CancelRequest,
        request: Request[Any, Any, Any],
        principal: Caller,
        services: AppServices,
    ) -> Response[CancellationOut]:
        return await idempotent(
            request,
            services,
            principal,
            lambda: cancellation.cancel_booking(services, principal, code, data),
            status_code=200,
        )

    @get("/bookings/{code:str}/refunds", summary="A booking's refund records and statuses")
    async def refunds(self, code: str, principal: Caller, services: AppServices) -> list[RefundOut]:
        return await cancellation.list_refunds(services, principal, code)

    @post(
        "/admin/shows/{show_id:uuid}/cancel",
        status_code=200,
        summary="Cancel a show: every booking refunded in full, fees included; re-runnable",
    )
    async def cancel_show(
        self,
        show_id: FromPath[uuid.UUID],
        data: ShowCancelRequest,
        principal: Caller,
        services: AppServices,
    ) -> ShowCancellationOut:
        return await cancellation.cancel_show(services, principal, show_id, data)

    @post(
        "/admin/cancellations",
        status_code=200,
        summary="Cancel every show of a theater or screen over local dates (dry_run previews)",
    )
    async def cancel_shows(
        self, data: BulkCancelRequest, principal: Caller, services: AppServices
    ) -> BulkCancelOut:
        return await cancellation.cancel_shows(services, principal, data)

    @get(
        "/admin/refunds",
        summary="Refund records across your theaters (FAILED unless other statuses are asked)",
        description="Theater admins see their own theaters, platform admins all. `status` "
        "repeats (`?status=FAILED&status=PENDING`); `from`/`to` are the local days the refunds "
        "were made; `code` narrows to one booking. FAILED ones were refused by the gateway or "
        "given up after it never answered (failure_code and failure_reason say which): retry "
        "one (POST /api/v1/admin/refunds/{refund_id}/retry) or settle it manually.",
    )
    async def admin_refunds(
        self,
        principal: Caller,
        services: AppServices,
        status: list[str] | None = None,
        theater_id: uuid.UUID | None = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        code: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=refund_desk.MAX_LIST)] = 200,
    ) -> list[RefundOut]:
        search = refund_desk.RefundSearch(
            statuses=status or refund_desk.NEEDING_A_HAND,
            theater_id=theater_id,
            date_from=date_from,
            date_to=date_to,
            code=code,
            limit=limit,
        )
        return await refund_desk.admin_refunds(services, principal, search)

    @post(
        "/admin/refunds/retry",
        status_code=200,
        summary="Send PENDING refunds again and FAILED ones anew",
    )
    async def retry_refunds(
        self, principal: Caller, services: AppServices, data: RefundRetryRequest | None = None
    ) -> RefundRetryOut:
        return await refund_desk.retry_refunds(services, principal, data or RefundRetryRequest())

    @post(
        "/admin/refunds/{refund_id:uuid}/retry",
        status_code=200,
        summary="Put one FAILED refund back in the retry queue (attempts reset) and send it now",
        description="Audited with you as the actor. `detail` says how the send went: "
        "refunded, back in the queue (the gateway did not answer) or refused again. 409 for a "
        "refund that is not FAILED, saying what it is doing instead.",
        responses={409: ResponseSpec(Problem, description="The refund is not FAILED")},
    )
    async def retry_refund(
        self, refund_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> RefundOut:
        return await refund_desk.retry_refund(services, principal, refund_id)

    @post(
        "/admin/refunds/{refund_id:uuid}/settle-manually",
        status_code=200,
        summary="Record that a FAILED refund was paid out by other means (cash, bank transfer)",
        description="It becomes SUCCEEDED without a gateway reference and is never sent "
        "again; the note and you as the actor are audited. Reconciliation then expects "
        "nothing of it at the gateway. 409 for a refund that is not FAILED; 422 without a note.",
        responses={409: ResponseSpec(Problem, description="The refund is not FAILED")},
    )
    async def settle_manually(
        self,
        refund_id: FromPath[uuid.UUID],
        data: RefundSettleRequest,
        principal: Caller,
        services: AppServices,
    ) -> RefundOut:
        return await refund_desk.settle_manually(services, principal, refund_id, data)
