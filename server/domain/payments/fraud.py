"""Fraud rules (docs/checkout.md): velocity per buyer, card token and client address, unusually
many seats, and repeated declines, counted per hour in Redis (``bms:risk:*``).

``assess`` counts a checkout and gives the verdict; the checkout decides what a verdict does
(hold the booking for review, or record it REFUSED). The thresholds are settings
(``BMS_RISK_*``), so a cinema can tune them without a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.contracts.enums import PaymentMethod, PaymentStatus
from server.domain.accounts.principal import Principal
from server.domain.payments.services import Charge, PartPlan
from server.infra.state import Services

WINDOW_SECONDS = 3600
DECLINE_CODES = {"declined", "insufficient_funds"}
TOO_MANY_DECLINES = "too many declined payments in the last hour"


@dataclass(frozen=True, slots=True)
class Velocity:
    """A counter of checkouts within the window, and how many are normal."""

    key: str
    limit: int
    who: str

    @classmethod
    def of(cls, kind: str, value: object, limit: int) -> Velocity:
        return cls(f"bms:risk:{kind}:{value}", limit, kind)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``refusal``: refuse the checkout, with why; else ``review``: hold the booking for
    review, with why; both None: clean."""

    refusal: str | None = None
    review: str | None = None


def _decline_keys(principal: Principal, tokens: Sequence[str]) -> list[str]:
    return [f"bms:risk:declines:{who}" for who in (principal.user_id, *tokens)]


def _card_tokens(plans: Sequence[PartPlan] | Sequence[Charge]) -> list[str]:
    instruments = [p.instrument if isinstance(p, PartPlan) else p.plan.instrument for p in plans]
    return sorted({i.card.token for i in instruments if i.card is not None})


async def assess(
    services: Services,
    principal: Principal,
    plans: Sequence[PartPlan],
    *,
    seat_count: int,
    client_address: str,
) -> Verdict:
    """Count this checkout against its buyer, cards and address, and apply the rules."""
    settings = services.settings
    tokens = _card_tokens(plans)
    velocities = [Velocity.of("card", token, settings.risk_bookings_per_card) for token in tokens]
    if not principal.is_staff:
        # A box-office till sells to a queue of strangers from one login and one address.
        velocities.append(Velocity.of("buyer", principal.user_id, settings.risk_bookings_per_buyer))
        velocities.append(
            Velocity.of("address", client_address, settings.risk_bookings_per_address)
        )
    async with services.redis.pipeline(transaction=False) as pipe:
        for velocity in velocities:
            _count_in_window(pipe, velocity.key)
        for key in _decline_keys(principal, tokens):
            pipe.get(key)
        answers = await pipe.execute()
    counts = answers[: 2 * len(velocities) : 2]
    declines = [int(n or 0) for n in answers[2 * len(velocities) :]]
    if max(declines) >= settings.risk_declines_before_refusal:
        return Verdict(refusal=TOO_MANY_DECLINES)
    reasons = [
        f"more than {velocity.limit} bookings in an hour by this {velocity.who}"
        for velocity, count in zip(velocities, counts, strict=True)
        if count > velocity.limit
    ]
    if seat_count > settings.risk_seats_before_review:
        reasons.append(f"more than {settings.risk_seats_before_review} seats in one booking")
    return Verdict(review="; ".join(reasons) or None)


def _count_in_window(pipe: Any, key: str) -> None:
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS, nx=True)


async def note_declines(
    services: Services, principal: Principal, charges: Sequence[Charge]
) -> None:
    """Count declined parts against the buyer and the declined cards. A wallet part refused
    by our own balance check is no issuer's decline and no sign of fraud: a buyer who finds
    the wallet short and pays by card must not be locked out for it."""
    declined = [
        c
        for c in charges
        if c.status is PaymentStatus.FAILED
        and c.decline_code in DECLINE_CODES
        and c.plan.method != PaymentMethod.WALLET
    ]
    if not declined:
        return
    async with services.redis.pipeline(transaction=False) as pipe:
        for key in _decline_keys(principal, _card_tokens(declined)):
            _count_in_window(pipe, key)
        await pipe.execute()
