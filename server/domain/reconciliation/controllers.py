"""``POST /api/v1/admin/reconciliation``: a thin handler over reconciliation.services."""

from __future__ import annotations

from litestar import Controller, post

from server.contracts.cancellation import ReconcileOut, ReconcileRequest
from server.domain.deps import AppServices, Caller
from server.domain.reconciliation import services as reconciliation


class ReconciliationController(Controller):
    path = "/api/v1/admin/reconciliation"
    tags = ["admin"]

    @post(
        "/",
        status_code=200,
        summary="Match a gateway settlement against our payments and refunds (platform admins)",
        description="Reports lines matched, missing on our side, missing at the gateway and "
        "with different amounts; `clean` is true when there is no difference.",
    )
    async def reconcile(
        self, data: ReconcileRequest, principal: Caller, services: AppServices
    ) -> ReconcileOut:
        return await reconciliation.reconcile(services, principal, data)
