"""The simulator gateway: deterministic test cards, UPI ids and banks for every path.

Cards (any future expiry, any CVV):

=====================  ===========================================================
4242424242424242       approved (any other valid number is approved too)
4000000000000002       declined
4000000000009995       declined: insufficient funds
4000000000000119       times out twice, then approved under the same idempotency key
4000000000000259       authorized, but the capture fails
4000000000000408       never answers (the gateway is down)
4000000000003188       approved; its refunds time out 4 times (one whole retried send),
                       then go through under the same idempotency key
4000000000003428       approved; its refunds never answer
=====================  ===========================================================

UPI ids are approved unless the part before ``@`` is ``decline``, ``insufficient``,
``timeout`` (twice, then approved), ``down``, ``refund_timeout`` or ``refund_down`` (like the
cards). Net banking knows the banks in ``BANKS``;
``DECL`` is the test bank that declines.

Its ledger lives in Redis (``bms:gw:sim:*``), so every server process sees the same tokens,
authorizations, captures and idempotent answers, like a real remote gateway would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import uuid
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis

from server.domain.payments.cards import CardDetails
from server.domain.payments.gateway import (
    CardToken,
    GatewayResult,
    GatewayTimeout,
    Instrument,
    approved,
    declined,
)

PREFIX = "bms:gw:sim"
LEDGER_TTL_SECONDS = 7 * 24 * 3600
# How many times a "timeout" instrument fails before it answers.
TRANSIENT_FAILURES = 2
# How many times a "refund_timeout" capture's refund fails before it answers: as many as one
# send with its retries makes (payments.services.MAX_ATTEMPTS), so the next send goes through.
REFUND_TRANSIENT_FAILURES = 4


class Behaviour(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT = "insufficient"
    TIMEOUT = "timeout"
    CAPTURE_FAILS = "capture_fails"
    DOWN = "down"
    REFUND_TIMEOUT = "refund_timeout"
    REFUND_DOWN = "refund_down"


TEST_CARDS = {
    "4000000000000002": Behaviour.DECLINE,
    "4000000000009995": Behaviour.INSUFFICIENT,
    "4000000000000119": Behaviour.TIMEOUT,
    "4000000000000259": Behaviour.CAPTURE_FAILS,
    "4000000000000408": Behaviour.DOWN,
    "4000000000003188": Behaviour.REFUND_TIMEOUT,
    "4000000000003428": Behaviour.REFUND_DOWN,
}
# How a capture's refunds behave, by the behaviour of what it was taken from.
REFUND_BEHAVIOURS = {
    Behaviour.REFUND_TIMEOUT: Behaviour.TIMEOUT,
    Behaviour.REFUND_DOWN: Behaviour.DOWN,
}
_BY_NAME = {behaviour.value: behaviour for behaviour in Behaviour}
BANKS = {
    "HDFC": "HDFC Bank",
    "ICIC": "ICICI Bank",
    "SBIN": "State Bank of India",
    "UTIB": "Axis Bank",
    "KKBK": "Kotak Mahindra Bank",
    "DECL": "Simulator test bank (declines)",
}

# Move an authorization from one state to another only if it is still in the first; answers
# 1 when it moved, else the state it is in (nil when there is no such authorization).
_TRANSITION = """
local state = redis.call('GET', KEYS[1])
if state == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return state
"""

# Refund part of a capture unless that would refund more than was captured; answers 1 or 0.
_REFUND = """
local captured = tonumber(redis.call('GET', KEYS[1]) or '0')
local refunded = tonumber(redis.call('GET', KEYS[2]) or '0')
if refunded + tonumber(ARGV[1]) > captured then return 0 end
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


def behaviour_of(instrument: Instrument, token_behaviour: str | None) -> Behaviour:
    if instrument.method == "card":
        return Behaviour(token_behaviour or Behaviour.APPROVE)
    if instrument.method == "upi":
        local = (instrument.upi_id or "").split("@", 1)[0].lower()
        return _BY_NAME.get(local, Behaviour.APPROVE)
    return Behaviour.DECLINE if instrument.bank == "DECL" else Behaviour.APPROVE


class SimulatorGateway:
    name = "simulator"

    def __init__(self, redis: Redis, secret: str) -> None:
        self.redis = redis
        self._secret = secret.encode()
        self._transition = redis.register_script(_TRANSITION)
        self._refund = redis.register_script(_REFUND)

    async def tokenize(self, card: CardDetails) -> CardToken:
        # The same card always gets the same token (like a vault's card fingerprint), so
        # velocity rules can count uses of one card without ever storing its number.
        digest = hmac.new(self._secret, card.number.encode(), hashlib.sha256).hexdigest()
        token = CardToken(token=f"tok_{digest[:24]}", brand=card.brand, last4=card.last4)
        behaviour = TEST_CARDS.get(card.number, Behaviour.APPROVE)
        await self.redis.set(f"{PREFIX}:tok:{token.token}", behaviour.value, ex=LEDGER_TTL_SECONDS)
        return token

    async def authorize(
        self, instrument: Instrument, amount_minor: int, currency: str, idempotency_key: str
    ) -> GatewayResult:
        token_key = f"{PREFIX}:tok:{instrument.card.token}" if instrument.card else None
        done, (token_behaviour,) = await self._recall("authorize", idempotency_key, token_key)
        if done is not None:
            return done
        if instrument.card is not None and token_behaviour is None:
            unknown = declined("invalid_token", "The card token is unknown or expired.")
            return await self._keep("authorize", idempotency_key, unknown)
        behaviour = behaviour_of(instrument, token_behaviour)
        await self._maybe_time_out(behaviour, idempotency_key)
        if behaviour is Behaviour.DECLINE:
            return await self._keep(
                "authorize",
                idempotency_key,
                declined("declined", "The issuer declined the payment."),
            )
        if behaviour is Behaviour.INSUFFICIENT:
            insufficient = declined("insufficient_funds", "The account has insufficient funds.")
            return await self._keep("authorize", idempotency_key, insufficient)
        auth_id = f"auth_{uuid.uuid4().hex[:24]}"
        record = json.dumps({"amount": amount_minor, "behaviour": behaviour.value})
        return await self._keep(
            "authorize",
            idempotency_key,
            approved(auth_id, "authorized"),
            {f"{PREFIX}:auth:{auth_id}": record, f"{PREFIX}:auth:{auth_id}:state": "authorized"},
        )

    async def capture(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        done, (raw,) = await self._recall("capture", idempotency_key, f"{PREFIX}:auth:{auth_id}")
        if done is not None:
            return done
        authorization: dict[str, Any] = json.loads(raw) if raw else {"amount": 0, "behaviour": ""}
        if authorization["behaviour"] == Behaviour.CAPTURE_FAILS:
            failed = declined("capture_failed", "The bank refused to capture the authorization.")
            return await self._keep("capture", idempotency_key, failed)
        moved = await self._transition(
            keys=[f"{PREFIX}:auth:{auth_id}:state"], args=["authorized", "captured"]
        )
        if moved != 1:
            return await self._keep("capture", idempotency_key, _not_in_state(auth_id, moved))
        capture_id = f"cap_{uuid.uuid4().hex[:24]}"
        return await self._keep(
            "capture",
            idempotency_key,
            approved(capture_id, "captured"),
            {
                f"{PREFIX}:cap:{capture_id}": str(int(authorization["amount"])),
                f"{PREFIX}:cap:{capture_id}:behaviour": authorization["behaviour"],
            },
        )

    async def void(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        done, _ = await self._recall("void", idempotency_key)
        if done is not None:
            return done
        moved = await self._transition(
            keys=[f"{PREFIX}:auth:{auth_id}:state"], args=["authorized", "voided"]
        )
        if moved == 1 or moved == b"voided":
            return await self._keep("void", idempotency_key, approved(auth_id, "voided"))
        return await self._keep("void", idempotency_key, _not_in_state(auth_id, moved))

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        behaviour_key = f"{PREFIX}:cap:{capture_id}:behaviour"
        done, (behaviour,) = await self._recall("refund", idempotency_key, behaviour_key)
        if done is not None:
            return done
        refunds = REFUND_BEHAVIOURS.get(
            Behaviour(behaviour or Behaviour.APPROVE), Behaviour.APPROVE
        )
        await self._maybe_time_out(refunds, idempotency_key, failures=REFUND_TRANSIENT_FAILURES)
        keys = [f"{PREFIX}:cap:{capture_id}", f"{PREFIX}:cap:{capture_id}:refunded"]
        if await self._refund(keys=keys, args=[amount_minor, LEDGER_TTL_SECONDS]):
            result = approved(f"re_{uuid.uuid4().hex[:24]}", "refunded")
        else:
            result = declined("refund_exceeds_capture", "The refund is larger than what is left.")
        return await self._keep("refund", idempotency_key, result)

    async def _maybe_time_out(
        self, behaviour: Behaviour, idempotency_key: str, failures: int = TRANSIENT_FAILURES
    ) -> None:
        if behaviour is Behaviour.DOWN:
            raise GatewayTimeout("the simulator is down")
        if behaviour is Behaviour.TIMEOUT:
            attempts_key = f"{PREFIX}:try:{idempotency_key}"
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(attempts_key)
                pipe.expire(attempts_key, LEDGER_TTL_SECONDS)
                attempts, _ = await pipe.execute()
            if attempts <= failures:
                raise GatewayTimeout(f"attempt {attempts} timed out")

    async def _recall(
        self, operation: str, idempotency_key: str, *keys: str | None
    ) -> tuple[GatewayResult | None, list[str | None]]:
        """The answer already given under this key (if any), and ``keys``' values, in one
        round trip (a None key reads as None)."""
        wanted = [_slot(operation, idempotency_key), *(key for key in keys if key)]
        stored, *values = await self.redis.mget(wanted)
        found = iter(values)
        extra = [_text(next(found)) if key else None for key in keys]
        return (None if stored is None else GatewayResult(**json.loads(stored))), extra

    async def _keep(
        self,
        operation: str,
        idempotency_key: str,
        result: GatewayResult,
        writes: dict[str, str] | None = None,
    ) -> GatewayResult:
        """Write the ledger entries and keep this as the answer for the key, in one round
        trip; a racing twin that answered first wins, and its answer is returned instead."""
        slot = _slot(operation, idempotency_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            for key, value in (writes or {}).items():
                pipe.set(key, value, ex=LEDGER_TTL_SECONDS)
            pipe.set(slot, json.dumps(dataclasses.asdict(result)), nx=True, ex=LEDGER_TTL_SECONDS)
            kept = (await pipe.execute())[-1]
        if kept:
            return result
        earlier, _ = await self._recall(operation, idempotency_key)
        return earlier or result


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _slot(operation: str, idempotency_key: str) -> str:
    return f"{PREFIX}:res:{operation}:{idempotency_key}"


def _not_in_state(auth_id: str, state: object) -> GatewayResult:
    if state is None:
        return declined("unknown_authorization", f"There is no authorization {auth_id}.")
    current = state.decode() if isinstance(state, bytes) else str(state)
    return declined(f"already_{current}", f"The authorization is already {current}.")
