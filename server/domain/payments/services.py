"""Taking a (split) payment: check every part, authorize them all, capture them all, and unwind
what was done when any part fails, so a failed checkout never leaves money taken.

Gateway calls that time out are retried with jittered exponential backoff under the same
idempotency key (so a retry can never charge twice). A circuit breaker per gateway stops
calling one that keeps timing out and answers 503 for a while instead.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

from server.contracts.checkout import PaymentPart
from server.contracts.enums import PaymentMethod, PaymentStatus, Role
from server.domain.accounts.principal import Principal
from server.domain.errors import DomainError, Forbidden, Invalid, PaymentRequired, Unavailable
from server.domain.inventory.strategies.base import backoff
from server.domain.payments import simulator
from server.domain.payments.cards import check_card
from server.domain.payments.cash import CashGateway
from server.domain.payments.gateway import (
    CardGateway,
    GatewayResult,
    GatewayTimeout,
    Instrument,
    PaymentGateway,
)
from server.domain.payments.wallet import WalletGateway
from server.domain.pricing.services import format_minor
from server.infra.state import Services

MAX_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.25
# The breaker opens after this many timeouts within the window, for OPEN_SECONDS.
BREAKER_FAILURES = 5
BREAKER_WINDOW_SECONDS = 30
BREAKER_OPEN_SECONDS = 30
# How long a process trusts its last look at another process's breaker verdict.
BREAKER_RECHECK_SECONDS = 1.0
UPI_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,255}@[a-z][a-z0-9]{1,63}$")
T = TypeVar("T")
METHODS = ", ".join(method.value for method in PaymentMethod)


@dataclass(frozen=True, slots=True)
class PartPlan:
    """One checked payment part, ready for its gateway."""

    index: int
    method: str
    amount_minor: int
    gateway: PaymentGateway
    instrument: Instrument
    payer_name: str | None = None


@dataclass
class Charge:
    """What happened to one part at its gateway."""

    plan: PartPlan
    idempotency_key: str
    status: PaymentStatus | None = None
    auth_ref: str | None = None
    capture_ref: str | None = None
    failure: str | None = None
    # The gateway's reason code when it declined (declined, insufficient_funds, …).
    decline_code: str | None = None
    change_minor: int | None = None
    captured_at: datetime | None = None
    payment_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def reference(self) -> str | None:
        return self.capture_ref or self.auth_ref

    def key(self, operation: str) -> str:
        return f"{self.idempotency_key}:{operation}"


@dataclass
class Unwound(Exception):
    """A part failed and the others were voided or refunded; ``error`` is what to answer."""

    error: DomainError
    charges: list[Charge] = field(default_factory=list)


# -- choosing and checking parts -------------------------------------------------------------


def card_gateway(services: Services) -> CardGateway:
    """The gateway for cards, UPI and net banking: the simulator (the only remote one)."""
    gateway: CardGateway | None = services.extras.get("card_gateway")
    if gateway is None:
        gateway = simulator.SimulatorGateway(services.redis, services.secret)
        services.extras["card_gateway"] = gateway
    return gateway


def gateway_for(services: Services, method: str) -> PaymentGateway:
    if method == PaymentMethod.CASH:
        return CashGateway()
    if method == PaymentMethod.WALLET:
        return WalletGateway(services.engine)
    return card_gateway(services)


async def plan_parts(
    services: Services,
    principal: Principal,
    parts: Sequence[PaymentPart],
    *,
    total_minor: int,
    currency: str,
    theater_id: uuid.UUID,
) -> list[PartPlan]:
    """Check every part (amounts add up exactly, each method has what it needs) and tokenize
    cards, or raise Invalid/Forbidden naming the part; nothing is charged here."""
    amounts = _amounts(parts, total_minor, currency)
    plans = []
    for index, (part, amount) in enumerate(zip(parts, amounts, strict=True)):
        where = f"payments[{index}]"
        instrument = await _instrument(services, principal, part, where, theater_id)
        plans.append(
            PartPlan(
                index=index,
                method=part.method,
                amount_minor=amount,
                gateway=gateway_for(services, part.method),
                instrument=instrument,
                payer_name=(part.payer_name or (part.card.name if part.card else None)) or None,
            )
        )
    return plans


def _amounts(parts: Sequence[PaymentPart], total_minor: int, currency: str) -> list[int]:
    if not parts:
        if total_minor == 0:
            return []
        raise Invalid(
            f"payments is empty; add at least one part paying "
            f"{format_minor(total_minor, currency)}.",
            field="payments",
        )
    if total_minor == 0:
        raise Invalid("Nothing is due for this booking; send an empty payments list.")
    if len(parts) == 1 and parts[0].amount_minor is None:
        return [total_minor]
    for index, part in enumerate(parts):
        if part.amount_minor is None or part.amount_minor <= 0:
            raise Invalid(
                f"payments[{index}].amount_minor must be a positive amount when the payment "
                "is split.",
                field=f"payments[{index}].amount_minor",
            )
    amounts = [part.amount_minor or 0 for part in parts]
    if sum(amounts) != total_minor:
        raise Invalid(
            f"The payment parts add up to {format_minor(sum(amounts), currency)} but the total "
            f"is {format_minor(total_minor, currency)}; they must match exactly.",
            field="payments",
            total_minor=total_minor,
        )
    return amounts


async def _instrument(
    services: Services, principal: Principal, part: PaymentPart, where: str, theater_id: uuid.UUID
) -> Instrument:
    method = part.method
    if method == PaymentMethod.CARD:
        card = part.card
        if card is None:
            raise Invalid(f"{where}.card is needed to pay by card.", field=f"{where}.card")
        details = check_card(
            card.number,
            card.exp_month,
            card.exp_year,
            card.cvv,
            card.name,
            now=services.clock.now(),
            at=f"{where}.card",
        )
        gateway = card_gateway(services)
        token = await with_retries(services, gateway, lambda: gateway.tokenize(details))
        return Instrument(method=method, card=token)
    if method == PaymentMethod.UPI:
        upi_id = (part.upi_id or "").strip().lower()
        if not UPI_ID.match(upi_id):
            raise Invalid(
                f"{where}.upi_id must look like name@bank (e.g. success@upi).",
                field=f"{where}.upi_id",
            )
        return Instrument(method=method, upi_id=upi_id)
    if method == PaymentMethod.NET_BANKING:
        bank = (part.bank or "").strip().upper()
        if bank not in simulator.BANKS:
            raise Invalid(
                f"{where}.bank must be one of {', '.join(simulator.BANKS)}.",
                field=f"{where}.bank",
            )
        return Instrument(method=method, bank=bank)
    if method == PaymentMethod.WALLET:
        return Instrument(method=method, payer_id=principal.user_id)
    if method == PaymentMethod.CASH:
        _check_box_office(principal, theater_id)
        if part.tendered_minor is None or part.tendered_minor < 0:
            raise Invalid(
                f"{where}.tendered_minor is the cash handed over; it is needed for cash.",
                field=f"{where}.tendered_minor",
            )
        return Instrument(method=method, tendered_minor=part.tendered_minor)
    raise Invalid(f"{where}.method {method!r} is unknown; use one of {METHODS}.", field=where)


def _check_box_office(principal: Principal, theater_id: uuid.UUID) -> None:
    if principal.role is not Role.CLERK and not principal.is_platform_admin:
        raise Forbidden("Cash is taken only at the box office, by a clerk.")
    if not principal.can_act_for(theater_id):
        raise Forbidden("Cash is taken only by a clerk of the show's theater.")


# -- authorize, capture, unwind --------------------------------------------------------------


async def collect(
    services: Services, plans: Sequence[PartPlan], *, currency: str, attempt: str
) -> list[Charge]:
    """Authorize every part, then capture every part. On any failure, void what was
    authorized and refund what was captured, then raise Unwound with the answer to give."""
    charges = [Charge(plan, f"{attempt}:{plan.index}") for plan in plans]
    for charge in charges:
        await _step(services, charges, charge, "authorize", currency)
    for charge in charges:
        await _step(services, charges, charge, "capture", currency)
    return charges


async def _step(
    services: Services, charges: list[Charge], charge: Charge, operation: str, currency: str
) -> None:
    plan = charge.plan
    if operation == "authorize":
        call = partial(
            plan.gateway.authorize,
            plan.instrument,
            plan.amount_minor,
            currency,
            charge.key("authorize"),
        )
    else:
        call = partial(plan.gateway.capture, charge.auth_ref or "", charge.key("capture"))
    error: DomainError
    try:
        result = await with_retries(services, plan.gateway, call)
    except Unavailable as down:
        charge.failure, error = down.detail, down
    else:
        if result.approved:
            _record(charge, operation, result, services.clock.now())
            return
        charge.failure, charge.decline_code = result.message, result.code
        error = _declined(plan, result, operation, parts=len(charges))
    if operation == "authorize":
        charge.status = PaymentStatus.FAILED
    # A failed capture leaves the part AUTHORIZED, so unwinding voids it with the others.
    await unwind(services, charges)
    raise Unwound(error, charges)


def _record(charge: Charge, operation: str, result: GatewayResult, now: datetime) -> None:
    if operation == "authorize":
        charge.status = PaymentStatus.AUTHORIZED
        charge.auth_ref = result.reference
        charge.change_minor = result.change_minor
    else:
        charge.status = PaymentStatus.CAPTURED
        charge.capture_ref = result.reference
        charge.captured_at = now


# Declines whose own message already says what to do (collect more cash, lower the wallet part).
_SELF_EXPLAINED = frozenset({("cash", "tendered_short"), ("wallet", "insufficient_funds")})


def _declined(
    plan: PartPlan, result: GatewayResult, operation: str, *, parts: int
) -> PaymentRequired:
    stage = "was declined" if operation == "authorize" else "could not be captured"
    if parts == 1:
        what, released = f"The {plan.method} payment", ""
    else:
        what, released = (
            f"Payment part {plan.index + 1} ({plan.method})",
            "; the other parts were released",
        )
    next_step = "" if (plan.method, result.code) in _SELF_EXPLAINED else " Try another method."
    return PaymentRequired(
        f"{what} {stage}: {result.message} Nothing was charged{released}.{next_step}",
        part=plan.index,
        method=plan.method,
        reason=result.code,
    )


async def unwind(services: Services, charges: Sequence[Charge]) -> None:
    """Void authorized parts and refund captured ones. A part the gateway would not release
    keeps its status and says why in ``failure``, for reconciliation to chase."""
    for charge in charges:
        try:
            await _release(services, charge)
        except Unavailable as down:
            charge.failure = f"{charge.failure or ''} Releasing it failed: {down.detail}".strip()


async def _release(services: Services, charge: Charge) -> None:
    gateway = charge.plan.gateway
    if charge.status is PaymentStatus.AUTHORIZED and charge.auth_ref:
        auth_ref = charge.auth_ref
        await with_retries(services, gateway, lambda: gateway.void(auth_ref, charge.key("void")))
        charge.status = PaymentStatus.VOIDED
    elif charge.status is PaymentStatus.CAPTURED and charge.capture_ref:
        capture_ref, amount = charge.capture_ref, charge.plan.amount_minor
        await with_retries(
            services, gateway, lambda: gateway.refund(capture_ref, amount, charge.key("refund"))
        )
        charge.status = PaymentStatus.REFUNDED


# -- retries and the circuit breaker ---------------------------------------------------------


class Breaker:
    """Per gateway, shared through Redis: BREAKER_FAILURES timeouts within the window open
    it for BREAKER_OPEN_SECONDS on every process. Each process remembers the verdict for a
    second so a healthy gateway costs no extra Redis call per payment. Real (monotonic and
    Redis) time, not the business clock: this is about a remote system's health."""

    def __init__(self, services: Services, name: str) -> None:
        self.redis = services.redis
        self.name = name
        self.open_until = 0.0
        self.checked_at = -BREAKER_RECHECK_SECONDS

    @classmethod
    def of(cls, services: Services, name: str) -> Breaker:
        breakers: dict[str, Breaker] = services.extras.setdefault("breakers", {})
        if name not in breakers:
            breakers[name] = cls(services, name)
        return breakers[name]

    async def check(self) -> None:
        now = time.monotonic()
        if now - self.checked_at >= BREAKER_RECHECK_SECONDS and self.open_until <= now:
            self.checked_at = now
            remaining_ms = await self.redis.pttl(f"bms:cb:{self.name}:open")
            if remaining_ms > 0:
                self.open_until = now + remaining_ms / 1000
        if self.open_until > now:
            wait = int(self.open_until - now) + 1
            raise Unavailable(
                f"The {self.name} payment gateway keeps timing out, so we stopped calling it "
                f"for a while; nothing was charged. Try again in {wait} s or pay another way.",
                retry_after_seconds=wait,
            )

    async def failed(self) -> None:
        counter = f"bms:cb:{self.name}:failures"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, BREAKER_WINDOW_SECONDS, nx=True)
            failures, _ = await pipe.execute()
        if failures >= BREAKER_FAILURES:
            await self.redis.set(f"bms:cb:{self.name}:open", b"1", ex=BREAKER_OPEN_SECONDS)
            await self.redis.delete(counter)
            self.open_until = time.monotonic() + BREAKER_OPEN_SECONDS


async def with_retries(
    services: Services, gateway: PaymentGateway, call: Callable[[], Awaitable[T]]
) -> T:
    """Run one gateway call, retrying timeouts with backoff (the call reuses its idempotency
    key, so a retry never doubles a charge). Unavailable when it never answered."""
    breaker = Breaker.of(services, gateway.name)
    for attempt in range(MAX_ATTEMPTS):
        await breaker.check()
        try:
            return await call()
        except GatewayTimeout:
            await breaker.failed()
            if attempt + 1 < MAX_ATTEMPTS:
                await backoff(attempt, BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS)
    raise Unavailable(
        f"The {gateway.name} payment gateway did not answer after {MAX_ATTEMPTS} tries; nothing "
        "was charged. Try again in a minute or pay another way.",
        retry_after_seconds=30,
    )
