"""Cancelling bookings and shows, and refund records: thin handlers over
cancellation.services."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from server.contracts.api import Problem
from server.contracts.cancellation import (
    BulkCancelOut,
    BulkCancelRequest,
    CancellationOut,
    CancelRequest,
    RefundOut,
    RefundRetryOut,
    RefundRetryRequest,
    ShowCancellationOut,
    ShowCancelRequest,
)
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
        summary="Refund records in one status across your theaters (FAILED by default)",
        description="Theater admins see their own theaters, platform admins all; FAILED ones "
        "were refused by the gateway or given up after it never answered (failure_reason "
        "says which) and wait for POST /api/v1/admin/refunds/retry.",
    )
    async def admin_refunds(
        self,
        principal: Caller,
        services: AppServices,
        status: str = "FAILED",
        theater_id: uuid.UUID | None = None,
    ) -> list[RefundOut]:
        return await cancellation.admin_refunds(services, principal, status, theater_id)

    @post(
        "/admin/refunds/retry",
        status_code=200,
        summary="Send PENDING refunds again and FAILED ones anew",
    )
    async def retry_refunds(
        self, principal: Caller, services: AppServices, data: RefundRetryRequest | None = None
    ) -> RefundRetryOut:
        return await cancellation.retry_refunds(services, principal, data or RefundRetryRequest())
