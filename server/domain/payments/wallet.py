"""The customer's stored balance (``users.wallet_balance_minor``) as a payment method.

Authorizing checks the balance; the money moves in the booking transaction itself (a guarded
``UPDATE`` plus a ``wallet_ledger`` row, with the column's CHECK >= 0 as the last guard), so a
booking that does not commit never touched the wallet. That is why capture, void and refund
here have nothing to move: a confirmed booking's wallet money comes back by crediting the
balance in the cancelling transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from server.domain.booking import queries
from server.domain.payments.gateway import (
    GatewayResult,
    Instrument,
    approved,
    declined,
    reference_for,
)
from server.domain.pricing.services import format_minor
from server.infra.database import autocommit


class WalletGateway:
    name = "wallet"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def authorize(
        self, instrument: Instrument, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        assert instrument.payer_id is not None
        async with autocommit(self.engine).connect() as conn:
            balance = await queries.wallet_balance(conn, instrument.payer_id)
        if balance < amount_minor:
            return declined(
                "insufficient_funds",
                f"Your wallet holds {format_minor(balance, currency)}, less than the "
                f"{format_minor(amount_minor, currency)} asked of it; lower that part or add "
                "another method.",
            )
        return approved(reference_for("wallet", idempotency_key), "balance is enough")

    async def capture(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        return approved(auth_id, "debited with the booking")

    async def void(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        return approved(auth_id, "nothing was debited")

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        return approved(reference_for("wallet_refund", idempotency_key), "nothing was debited")
