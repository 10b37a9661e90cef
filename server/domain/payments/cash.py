"""Cash at the box office: the clerk enters what the customer handed over; the change is the
difference. Nothing is remote, so nothing can time out; references are derived from the
idempotency key, so a retried call answers the same."""

from __future__ import annotations

from server.domain.payments.gateway import (
    GatewayResult,
    Instrument,
    approved,
    declined,
    reference_for,
)
from server.domain.pricing.services import format_minor


class CashGateway:
    name = "cash"

    async def authorize(
        self, instrument: Instrument, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        tendered = instrument.tendered_minor or 0
        if tendered < amount_minor:
            return declined(
                "tendered_short",
                f"Cash tendered ({format_minor(tendered, currency)}) is less than the "
                f"{format_minor(amount_minor, currency)} due; collect at least that much.",
            )
        return GatewayResult(
            approved=True,
            reference=reference_for("cash", idempotency_key),
            code="approved",
            message="cash received",
            change_minor=tendered - amount_minor,
        )

    async def capture(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        return approved(auth_id, "cash kept in the drawer")

    async def void(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        return approved(auth_id, "hand the cash back to the customer")

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        return approved(reference_for("cashback", idempotency_key), "pay the refund out in cash")
