"""``Idempotency-Key`` for every POST that creates something.

The first request with a key runs and its answer (status and body) is kept in Redis for a
day; a retry with the same key and the same body gets that answer again without running
twice; the same key with a different body is refused. While the first request is still
running, a retry gets a 409 asking it to wait.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response

from server.contracts.enums import IDEMPOTENCY_IN_PROGRESS
from server.domain.accounts.principal import Principal
from server.domain.errors import Conflict, DomainError, Invalid, problem_of
from server.infra.state import Services

TTL_SECONDS = 24 * 3600
PENDING = b"pending"
MAX_KEY_LENGTH = 200


async def idempotent(
    request: Request[Any, Any, Any],
    services: Services,
    principal: Principal,
    produce: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 201,
    still_true: Callable[[Any], Awaitable[None]] | None = None,
) -> Response[Any]:
    """``still_true``, given a kept success answer, raises a DomainError when what it says no
    longer holds (a hold since released), so a retry is not told a stale story."""
    key = request.headers.get("idempotency-key")
    if key is None:
        try:
            return Response(await produce(), status_code=status_code)
        except DomainError as exc:
            # Answered here, not raised through Litestar's exception middleware: on a sold-out
            # night most hold requests end in a 409, and that detour costs each of them CPU.
            return problem_of(exc)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} characters.")
    fingerprint = hashlib.sha256(request.method.encode() + request.url.path.encode())
    fingerprint.update(await request.body())
    digest = fingerprint.hexdigest()
    slot = f"bms:idem:{principal.user_id}:{key}"
    if not await services.redis.set(slot, PENDING, nx=True, ex=TTL_SECONDS):
        return await _replay(services, slot, digest, still_true)
    try:
        body = msgspec.to_builtins(await produce())
    except DomainError as exc:
        problem = {"title": exc.title, "status": exc.status_code, "detail": exc.detail, **exc.extra}
        await _store(services, slot, digest, exc.status_code, problem)
        raise
    except BaseException:
        await services.redis.delete(slot)  # nothing was decided: let a retry run again
        raise
    await _store(services, slot, digest, status_code, body)
    return Response(body, status_code=status_code)


async def _store(services: Services, slot: str, digest: str, status: int, body: Any) -> None:
    record = json.dumps({"digest": digest, "status": status, "body": body}, default=str)
    await services.redis.set(slot, record.encode(), ex=TTL_SECONDS)


async def _replay(
    services: Services,
    slot: str,
    digest: str,
    still_true: Callable[[Any], Awaitable[None]] | None,
) -> Response[Any]:
    stored = await services.redis.get(slot)
    if stored is None or stored == PENDING:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
            reason=IDEMPOTENCY_IN_PROGRESS,
        )
    record = json.loads(stored)
    if record["digest"] != digest:
        raise Invalid(
            "This Idempotency-Key was already used with a different request; use a new key "
            "for a new request."
        )
    if still_true is not None and record["status"] < 400:
        await still_true(record["body"])
    media = "application/problem+json" if record["status"] >= 400 else "application/json"
    headers = {"Idempotent-Replayed": "true"}
    return Response(record["body"], status_code=record["status"], media_type=media, headers=headers)
