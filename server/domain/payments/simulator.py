"""The simulator gateway: deterministic test cards, UPI ids and banks for every path.

Cards (any future expiry, any CVV):

=====================  ===========================================================
4242424242424242       approved (any other valid number is approved too)
4000000000000002       declined
4000000000009995       declined: insufficient funds
4000000000000119       times out twice, then approved under the same idempotency key
4000000000000259       authorized, but the capture fails
4000000000000408       never answers (the gateway is down)
=====================  ===========================================================

UPI ids are approved unless the part before ``@`` is ``decline``, ``insufficient``,
``timeout`` (twice, then approved) or ``down``. Net banking knows the banks in ``BANKS``;
``DECL`` is the test bank that declines.

Its ledger lives in Redis (``bms:gw:sim:*``), so every server process sees the same tokens,
authorizations, captures and idempotent answers, like a real remote gateway would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from enum import StrEnum

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


class Behaviour(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT = "insufficient"
    TIMEOUT = "timeout"
    CAPTURE_FAILS = "capture_fails"
    DOWN = "down"


TEST_CARDS = {
    "4000000000000002": Behaviour.DECLINE,
    "4000000000009995": Behaviour.INSUFFICIENT,
    "4000000000000119": Behaviour.TIMEOUT,
    "4000000000000259": Behaviour.CAPTURE_FAILS,
    "4000000000000408": Behaviour.DOWN,
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

# Move an authorization from one state to another only if it is still in the first.
_TRANSITION = """
if redis.call('HGET', KEYS[1], 'state') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', ARGV[2])
  return 1
end
return redis.call('HGET', KEYS[1], 'state') or false
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
        done = await self._answered("authorize", idempotency_key)
        if done is not None:
            return done
        token_behaviour = None
        if instrument.card is not None:
            raw = await self.redis.get(f"{PREFIX}:tok:{instrument.card.token}")
            if raw is None:
                return await self._answer(
                    "authorize",
                    idempotency_key,
                    declined("invalid_token", "The card token is unknown or expired."),
                )
            token_behaviour = raw.decode()
        behaviour = behaviour_of(instrument, token_behaviour)
        await self._maybe_time_out(behaviour, idempotency_key)
        if behaviour is Behaviour.DECLINE:
            result = declined("declined", "The issuer declined the payment.")
        elif behaviour is Behaviour.INSUFFICIENT:
            result = declined("insufficient_funds", "The account has insufficient funds.")
        else:
            auth_id = f"auth_{uuid.uuid4().hex[:24]}"
            await self.redis.hset(
                f"{PREFIX}:auth:{auth_id}",
                mapping={
                    "state": "authorized",
                    "amount": amount_minor,
                    "currency": currency,
                    "behaviour": behaviour.value,
                },
            )
            await self.redis.expire(f"{PREFIX}:auth:{auth_id}", LEDGER_TTL_SECONDS)
            result = approved(auth_id, "authorized")
        return await self._answer("authorize", idempotency_key, result)

    async def capture(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        done = await self._answered("capture", idempotency_key)
        if done is not None:
            return done
        key = f"{PREFIX}:auth:{auth_id}"
        if await self.redis.hget(key, "behaviour") == Behaviour.CAPTURE_FAILS.value.encode():
            result = declined("capture_failed", "The bank refused to capture the authorization.")
        else:
            moved = await self._transition(keys=[key], args=["authorized", "captured"])
            if moved == 1:
                capture_id = f"cap_{uuid.uuid4().hex[:24]}"
                amount = int(await self.redis.hget(key, "amount") or 0)
                await self.redis.hset(
                    f"{PREFIX}:cap:{capture_id}", mapping={"amount": amount, "refunded": 0}
                )
                await self.redis.expire(f"{PREFIX}:cap:{capture_id}", LEDGER_TTL_SECONDS)
                result = approved(capture_id, "captured")
            else:
                result = _not_in_state(auth_id, moved, "captured")
        return await self._answer("capture", idempotency_key, result)

    async def void(self, auth_id: str, idempotency_key: str) -> GatewayResult:
        done = await self._answered("void", idempotency_key)
        if done is not None:
            return done
        key = f"{PREFIX}:auth:{auth_id}"
        moved = await self._transition(keys=[key], args=["authorized", "voided"])
        if moved == 1 or moved == b"voided":
            result = approved(auth_id, "voided")
        else:
            result = _not_in_state(auth_id, moved, "voided")
        return await self._answer("void", idempotency_key, result)

    async def refund(
        self, capture_id: str, amount_minor: int, idempotency_key: str
    ) -> GatewayResult:
        done = await self._answered("refund", idempotency_key)
        if done is not None:
            return done
        key = f"{PREFIX}:cap:{capture_id}"
        captured = int(await self.redis.hget(key, "amount") or 0)
        refunded = int(await self.redis.hincrby(key, "refunded", amount_minor))
        if refunded > captured:
            await self.redis.hincrby(key, "refunded", -amount_minor)
            result = declined("refund_exceeds_capture", "The refund is larger than what is left.")
        else:
            result = approved(f"re_{uuid.uuid4().hex[:24]}", "refunded")
        return await self._answer("refund", idempotency_key, result)

    async def _maybe_time_out(self, behaviour: Behaviour, idempotency_key: str) -> None:
        if behaviour is Behaviour.DOWN:
            raise GatewayTimeout("the simulator is down")
        if behaviour is Behaviour.TIMEOUT:
            attempts_key = f"{PREFIX}:try:{idempotency_key}"
            attempts = await self.redis.incr(attempts_key)
            await self.redis.expire(attempts_key, LEDGER_TTL_SECONDS)
            if attempts <= TRANSIENT_FAILURES:
                raise GatewayTimeout(f"attempt {attempts} timed out")

    async def _answered(self, operation: str, idempotency_key: str) -> GatewayResult | None:
        raw = await self.redis.get(f"{PREFIX}:res:{operation}:{idempotency_key}")
        return None if raw is None else GatewayResult(**json.loads(raw))

    async def _answer(
        self, operation: str, idempotency_key: str, result: GatewayResult
    ) -> GatewayResult:
        """Keep the first answer for this key; a racing twin gets that one, not its own."""
        slot = f"{PREFIX}:res:{operation}:{idempotency_key}"
        record = json.dumps(
            {
                "approved": result.approved,
                "reference": result.reference,
                "code": result.code,
                "message": result.message,
            }
        )
        if await self.redis.set(slot, record, nx=True, ex=LEDGER_TTL_SECONDS):
            return result
        return await self._answered(operation, idempotency_key) or result


def _not_in_state(auth_id: str, state: object, wanted: str) -> GatewayResult:
    if state is None:
        return declined("unknown_authorization", f"There is no authorization {auth_id}.")
    current = state.decode() if isinstance(state, bytes) else str(state)
    return declined(f"already_{current}", f"The authorization is already {current}.")
