"""The TUI's way to the server: a small async client that answers with contract Structs.

Every failure is one of two exceptions: ``ApiError`` when the server answered with a problem
(its ``detail`` is a sentence to show the person), ``ServerUnreachable`` when it did not answer.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import msgspec
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from server.contracts.api import (
    BestAvailableOut,
    CityOut,
    GuestRequest,
    HoldOut,
    HoldRequest,
    LoginRequest,
    MovieOut,
    Problem,
    SeatEvent,
    SeatMapOut,
    ShowOut,
    TheaterOut,
    TokenOut,
    UserOut,
    WaitlistEntryOut,
    WaitlistJoin,
)
from server.contracts.cancellation import CancellationOut, CancelRequest, RefundOut
from server.contracts.catalog import MetaOut, MovieSuggestion, ReviewOut, SnackItemOut
from server.contracts.checkout import (
    BookingOut,
    BookingRequest,
    BookingSummary,
    CustomerContact,
    QuoteOut,
    QuoteRequest,
)

API = "/api/v1"


class ApiError(Exception):
    """The server refused a request; ``detail`` says what is wrong and what to do."""

    def __init__(self, status: int, title: str, detail: str, body: dict[str, Any]) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.body = body

    @classmethod
    def from_response(cls, status: int, reason: str, content: bytes) -> ApiError:
        try:
            body = msgspec.json.decode(content)
            problem = msgspec.convert(body, Problem)
        except (msgspec.DecodeError, msgspec.ValidationError):
            detail = f"The server answered {status} {reason}; try again in a moment."
            return cls(status, reason, detail, {})
        return cls(problem.status, problem.title, problem.detail, body)


class ServerUnreachable(Exception):
    """No answer from the server: it is down, the address is wrong or the network failed."""


class ApiClient:
    """``async with ApiClient("http://localhost:8000") as api: shows = await api.shows()``.

    ``guest()`` and ``login()`` keep the token they receive for the requests that follow.
    """

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- accounts -------------------------------------------------------------------------

    async def guest(self, name: str | None = None) -> TokenOut:
        token = await self._call("POST", "/auth/guest", TokenOut, body=GuestRequest(name=name))
        self.token = token.token
        return token

    async def login(self, email: str, password: str) -> TokenOut:
        body = LoginRequest(email=email, password=password)
        token = await self._call("POST", "/auth/login", TokenOut, body=body)
        self.token = token.token
        return token

    async def me(self) -> UserOut:
        return await self._call("GET", "/me", UserOut)

    # -- catalog --------------------------------------------------------------------------

    async def snack_menu(self, theater_id: uuid.UUID) -> list[SnackItemOut]:
        return await self._call("GET", f"/theaters/{theater_id}/snacks", list[SnackItemOut])

    async def meta(self) -> MetaOut:
        """The server's version and, on demo data, the demo accounts to offer at login."""
        return await self._call("GET", "/meta", MetaOut)

    async def cities(self) -> list[CityOut]:
        return await self._call("GET", "/cities", list[CityOut])

    async def theaters(
        self, city: str | None = None, lat: float | None = None, lon: float | None = None
    ) -> list[TheaterOut]:
        params = {"city": city, "lat": lat, "lon": lon}
        return await self._call("GET", "/theaters", list[TheaterOut], params=params)

    async def movies(self, **filters: str | None) -> list[MovieOut]:
        """Filters as the server names them: city, q, language, genre, format, status, sort."""
        return await self._call("GET", "/movies", list[MovieOut], params=filters)

    async def movie(self, movie_id: uuid.UUID) -> MovieOut:
        return await self._call("GET", f"/movies/{movie_id}", MovieOut)

    async def autocomplete(self, q: str, limit: int = 8) -> list[MovieSuggestion]:
        params = {"q": q, "limit": limit}
        return await self._call("GET", "/movies/autocomplete", list[MovieSuggestion], params=params)

    async def reviews(self, movie_id: uuid.UUID, limit: int = 20) -> list[ReviewOut]:
        params = {"limit": limit}
        return await self._call(
            "GET", f"/movies/{movie_id}/reviews", list[ReviewOut], params=params
        )

    async def shows(
        self,
        city: str | None = None,
        date: date | None = None,
        movie_id: uuid.UUID | None = None,
        theater_id: uuid.UUID | None = None,
    ) -> list[ShowOut]:
        params = {"city": city, "date": date, "movie_id": movie_id, "theater_id": theater_id}
        return await self._call("GET", "/shows", list[ShowOut], params=params)

    async def show(self, show_id: uuid.UUID) -> ShowOut:
        return await self._call("GET", f"/shows/{show_id}", ShowOut)

    # -- seats ----------------------------------------------------------------------------

    async def seatmap(self, show_id: uuid.UUID) -> SeatMapOut:
        return await self._call("GET", f"/shows/{show_id}/seatmap", SeatMapOut)

    async def hold(
        self,
        show_id: uuid.UUID,
        seat_ids: list[uuid.UUID],
        *,
        accessible: bool = False,
        idempotency_key: str | None = None,
    ) -> HoldOut:
        """Hold all these seats or none; retrying with the same key never holds twice."""
        body = HoldRequest(seat_ids=seat_ids, accessible=accessible)
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return await self._call(
            "POST", f"/shows/{show_id}/holds", HoldOut, body=body, headers=headers
        )

    async def release(self, hold_id: uuid.UUID) -> None:
        await self._call("DELETE", f"/holds/{hold_id}", None)

    async def best_available(
        self,
        show_id: uuid.UUID,
        count: int,
        seat_type: str | None = None,
        *,
        accessible: bool = False,
    ) -> BestAvailableOut:
        params = {"count": count, "type": seat_type, "accessible": accessible or None}
        return await self._call(
            "GET", f"/shows/{show_id}/best-available", BestAvailableOut, params=params
        )

    async def join_waitlist(
        self,
        show_id: uuid.UUID,
        seats_wanted: int,
        seat_type: str | None = None,
        *,
        customer: CustomerContact | None = None,
    ) -> WaitlistEntryOut:
        """Join a sold-out show's waiting list; box-office staff join for ``customer``."""
        body = WaitlistJoin(seats_wanted=seats_wanted, seat_type=seat_type, customer=customer)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        return await self._call(
            "POST", f"/shows/{show_id}/waitlist", WaitlistEntryOut, body=body, headers=headers
        )

    async def find_waitlist(
        self, *, phone: str | None = None, email: str | None = None
    ) -> list[WaitlistEntryOut]:
        """Staff: a customer's waiting-list entries at their theaters, by phone or e-mail."""
        params = {"phone": phone, "email": email}
        return await self._call("GET", "/waitlist", list[WaitlistEntryOut], params=params)

    async def live(self, show_id: uuid.UUID) -> AsyncIterator[SeatEvent]:
        """The show's seat changes as they happen, until the server closes the feed.

        The first event has no seats and carries the current sequence: from then on nothing
        is missed. A dropped connection raises ServerUnreachable; reconnecting is up to you.
        """
        url = self._ws_url(f"{API}/shows/{show_id}/live")
        try:
            async with connect(url) as socket:
                async for message in socket:
                    yield msgspec.json.decode(message, type=SeatEvent)
        except InvalidStatus as exc:
            response = exc.response
            raise ApiError.from_response(
                response.status_code, response.reason_phrase, bytes(response.body or b"")
            ) from exc
        except (OSError, WebSocketException) as exc:
            raise ServerUnreachable(self._unreachable(exc)) from exc

    # -- checkout -------------------------------------------------------------------------

    async def quote(self, hold_id: uuid.UUID, request: QuoteRequest | None = None) -> QuoteOut:
        body = request or QuoteRequest()
        return await self._call("POST", f"/holds/{hold_id}/quote", QuoteOut, body=body)

    async def book(self, request: BookingRequest, *, idempotency_key: str) -> BookingOut:
        """Pay for a hold; retrying with the same key never charges twice."""
        headers = {"Idempotency-Key": idempotency_key}
        return await self._call("POST", "/bookings", BookingOut, body=request, headers=headers)

    async def booking(self, code: str) -> BookingOut:
        return await self._call("GET", f"/bookings/{code}", BookingOut)

    async def find_bookings(
        self, *, code: str | None = None, phone: str | None = None, email: str | None = None
    ) -> list[BookingSummary]:
        """Staff: bookings of their theaters by code, phone or e-mail (give one)."""
        params = {"code": code, "phone": phone, "email": email}
        return await self._call("GET", "/bookings", list[BookingSummary], params=params)

    async def cancel(
        self, code: str, request: CancelRequest, *, idempotency_key: str | None = None
    ) -> CancellationOut:
        """Quote (``confirm=False``) or cancel; retrying a cancel with the same key never
        refunds twice."""
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return await self._call(
            "POST", f"/bookings/{code}/cancel", CancellationOut, body=request, headers=headers
        )

    async def refunds(self, code: str) -> list[RefundOut]:
        return await self._call("GET", f"/bookings/{code}/refunds", list[RefundOut])

    async def ticket_art(self, code: str) -> str:
        """The ticket's QR code drawn with half-block characters, for a terminal."""
        art: bytes = await self._call("GET", f"/bookings/{code}/ticket.txt", bytes)
        return art.decode()

    async def ticket_png(self, code: str) -> bytes:
        return await self._call("GET", f"/bookings/{code}/ticket.png", bytes)

    # -- plumbing -------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        type_: Any,
        *,
        body: msgspec.Struct | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one request; decode the answer as ``type_`` (None: expect no body; bytes:
        the body as it came)."""
        headers = {**(headers or {}), **self._auth()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        query = {
            key: _query_value(value) for key, value in (params or {}).items() if value is not None
        }
        try:
            response = await self._http.request(
                method,
                API + path,
                params=query,
                headers=headers,
                content=None if body is None else msgspec.json.encode(body),
            )
        except httpx.TransportError as exc:
            raise ServerUnreachable(self._unreachable(exc)) from exc
        if response.is_error:
            raise ApiError.from_response(
                response.status_code, response.reason_phrase, response.content
            )
        if type_ is None:
            return None
        if type_ is bytes:
            return response.content
        return msgspec.json.decode(response.content, type=type_)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _ws_url(self, path: str) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = urlencode({"token": self.token}) if self.token else ""
        return urlunsplit((scheme, parts.netloc, parts.path + path, query, ""))

    def _unreachable(self, exc: Exception) -> str:
        return (
            f"Cannot reach the bms server at {self.base_url} ({exc}); check that it is "
            "running and the address is right, then try again."
        )


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
