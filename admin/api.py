"""A small synchronous client for the bms HTTP API whose failures read as one actionable line.

Problem-details responses become ``ApiError("403 Forbidden: <the server's sentence>")``; a
server that cannot be reached becomes a CliError naming the URL and how to fix it.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any, TypeVar

import httpx
import msgspec

from admin.config import SERVER_URL_ENV, Credentials, credentials, server_url
from admin.output import CliError
from server.contracts import api

T = TypeVar("T")

TIMEOUT_SECONDS = 15.0


class ApiError(CliError):
    """The server refused a request; ``detail`` is its sentence saying what to do."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.detail = detail


class AdminApi:
    def __init__(self, base_url: str, auth: Credentials | None) -> None:
        self.base_url = base_url
        self.auth = auth
        headers = {"Authorization": f"Bearer {auth.token}"} if auth else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT_SECONDS)

    def __enter__(self) -> AdminApi:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._http.close()

    def get(self, path: str, result: type[T], **params: Any) -> T:
        """GET with query parameters; None leaves one out, a list repeats it."""
        query = {
            key: [str(item) for item in value] if isinstance(value, list) else str(value)
            for key, value in params.items()
            if value is not None
        }
        return self._decode(self._send("GET", path, params=query), result)

    def post(self, path: str, result: type[T], body: msgspec.Struct | None = None) -> T:
        return self._write("POST", path, result, body)

    def patch(self, path: str, result: type[T], body: msgspec.Struct) -> T:
        return self._write("PATCH", path, result, body)

    def _write(self, method: str, path: str, result: type[T], body: msgspec.Struct | None) -> T:
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        return self._decode(self._send(method, path, content=content, headers=headers), result)

    def delete(self, path: str) -> None:
        self._send("DELETE", path)

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **options)
        except httpx.ConnectError:
            raise CliError(
                f"cannot reach the bms server at {self.base_url}; start it with `bms serve` "
                f"or set {SERVER_URL_ENV}"
            ) from None
        except httpx.TimeoutException:
            raise CliError(
                f"the bms server at {self.base_url} did not answer within "
                f"{TIMEOUT_SECONDS:g} s; check {self.base_url}/health/ready and try again"
            ) from None
        except httpx.HTTPError as exc:
            raise CliError(
                f"talking to {self.base_url} failed ({exc}); check {SERVER_URL_ENV}"
            ) from None
        if response.is_error:
            raise self._problem(response)
        return response

    def _problem(self, response: httpx.Response) -> ApiError:
        try:
            problem = msgspec.json.decode(response.content, type=api.Problem)
        except msgspec.DecodeError:
            return ApiError(
                response.status_code,
                response.reason_phrase,
                f"{self.base_url} did not answer like a bms server; check {SERVER_URL_ENV}",
            )
        detail = problem.detail
        if response.status_code == 401 and self.auth is not None:
            detail = f"{detail} (the token came from {self.auth.source})"
        return ApiError(problem.status, problem.title, detail)

    def _decode(self, response: httpx.Response, result: type[T]) -> T:
        if result is type(None):
            return None
        try:
            return msgspec.json.decode(response.content, type=result)
        except msgspec.DecodeError:
            raise CliError(
                f"{self.base_url} sent an answer this CLI does not understand for "
                f"{response.request.method} {response.request.url.path}; are the server and "
                "the CLI the same bms version?"
            ) from None


def connect(*, authenticated: bool = True) -> AdminApi:
    """A client for BMS_SERVER_URL, carrying the stored or BMS_TOKEN token when asked to."""
    url = server_url()
    return AdminApi(url, credentials(url) if authenticated else None)


def as_uuid(ref: str) -> uuid.UUID | None:
    """The id when ``ref`` is one; None when it is a name, an e-mail or another reference."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None
