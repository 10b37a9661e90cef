"""Domain errors. Each becomes an RFC 9457 problem-details response with a human sentence."""

from __future__ import annotations

from typing import Any

from litestar import Response

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class Invalid(DomainError):
    status_code = 422
    title = "Invalid request"


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"


class PaymentRequired(DomainError):
    status_code = 402
    title = "Payment failed"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"


class Unavailable(DomainError):
    status_code = 503
    title = "Service unavailable"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def problem_of(exc: DomainError) -> Response[dict[str, Any]]:
    return problem(exc.status_code, exc.title, exc.detail, **exc.extra)
