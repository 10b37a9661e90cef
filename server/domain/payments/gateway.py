"""The payment gateway interface, shaped like real ones (Stripe, Razorpay, Adyen).

authorize → capture, or void an authorization, or refund a capture. Every call carries a
mandatory idempotency key, and a repeated call with the same key returns the same result
without moving money twice. A gateway answers declines as results (``approved=False`` with a
code and a sentence) and raises ``GatewayTimeout`` when it did not answer: the caller retries
that under the same key.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Protocol

from server.domain.payments.cards import CardDetails


class GatewayTimeout(Exception):
    """The gateway did not answer in time; the call may be retried under the same key."""


@dataclass(frozen=True, slots=True)
class CardToken:
    token: str
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """What is being charged: a card token, a UPI id, a bank, the buyer's wallet, or cash."""

    method: str
    card: CardToken | None = None
    upi_id: str | None = None
    bank: str | None = None
    payer_id: uuid.UUID | None = None
    tendered_minor: int | None = None


@dataclass(frozen=True, slots=True)
class GatewayResult:
    approved: bool
    # The authorization, capture or refund id (what the next call refers to).
    reference: str | None
    # "approved", or why not: declined, insufficient_funds, capture_failed, tendered_short, …
    code: str
    message: str
    change_minor: int | None = None


def reference_for(prefix: str, idempotency_key: str) -> str:
    """A reference that is the same for every retry of one call, by construction."""
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


def approved(reference: str, message: str = "approved") -> GatewayResult:
    return GatewayResult(True, reference, "approved", message)


def declined(code: str, message: str) -> GatewayResult:
    return GatewayResult(False, None, code, message)


class PaymentGateway(Protocol):
    name: str

    async def authorize(
        self, instrument: Instrument, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult: ...

    async def capture(self, auth_id: str, idempotency_key: str) -> GatewayResult: ...

    async def void(self, auth_id: str, idempotency_key: str) -> GatewayResult: ...

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult: ...


class CardGateway(PaymentGateway, Protocol):
    """A gateway that also vaults cards: the number goes in, a token comes out."""

    async def tokenize(self, card: CardDetails) -> CardToken: ...
