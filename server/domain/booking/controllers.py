"""Quotes for holds and bookings: thin handlers over booking.services."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from litestar import Controller, Request, Response, Router, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from server.contracts.api import Problem
from server.contracts.checkout import (
    BookingOut,
    BookingRequest,
    BookingSummary,
    QuoteOut,
    QuoteRequest,
)
from server.domain.accounts.principal import Principal
from server.domain.booking import services as booking
from server.domain.deps import AppServices, Caller
from server.domain.idempotency import idempotent


class QuoteController(Controller):
    path = "/holds"
    tags = ["checkout"]

    @post(
        "/{hold_id:uuid}/quote",
        status_code=200,
        summary="Price a hold: seats, fee, tax, coupon, points, snacks and the total",
    )
    async def quote(
        self,
        hold_id: FromPath[uuid.UUID],
        principal: Caller,
        services: AppServices,
        data: QuoteRequest | None = None,
    ) -> QuoteOut:
        return await booking.quote(services, principal, hold_id, data or QuoteRequest())


def _attempt(principal: Principal, request: Request[Any, Any, Any]) -> str:
    """The checkout's name at the payment gateways: derived from the Idempotency-Key when
    there is one, so even a retry that outlives the stored answer cannot charge twice."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{principal.user_id}:{key}".encode()).hexdigest()[:32]


class BookingController(Controller):
    path = "/bookings"
    tags = ["checkout"]

    @post(
        "/",
        summary="Pay for a hold and confirm the booking; the answer carries the ticket",
        description="Send an Idempotency-Key header: a retry with the same key is answered "
        "with the first answer and never charges twice. 402: a payment part was declined "
        "(the others were released); 409: the hold expired, is not yours, or its seats are "
        "gone (any money taken was refunded); 422: bad input, naming the field.",
        responses={
            402: ResponseSpec(Problem, description="A payment part was declined"),
            409: ResponseSpec(Problem, description="The hold or its seats are gone"),
        },
    )
    async def book(
        self,
        data: BookingRequest,
        request: Request[Any, Any, Any],
        principal: Caller,
        services: AppServices,
    ) -> Response[BookingOut]:
        attempt = _attempt(principal, request)
        address = request.client.host if request.client else "unknown"
        return await idempotent(
            request,
            services,
            principal,
            lambda: booking.book(
                services, principal, data, attempt=attempt, client_address=address
            ),
        )

    @get(
        "/",
        summary="Staff: find bookings of your theaters by code, phone or e-mail",
        description="Give exactly one of code, phone (matched on its digits, with or without "
        "the country code) or email (any case). Clerks and theater admins see their own "
        "theaters' bookings, platform admins every theater's; customers and kiosks get 403. "
        "At most 50, the latest show first. 422: none or several given, or not a code, "
        "phone number or e-mail address.",
        responses={403: ResponseSpec(Problem, description="Not box-office staff")},
    )
    async def lookup(
        self,
        principal: Caller,
        services: AppServices,
        code: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> list[BookingSummary]:
        return await booking.lookup(services, principal, code=code, phone=phone, email=email)

    @get("/{code:str}", summary="A booking: its owner, staff of its theater, or a platform admin")
    async def get_booking(self, code: str, principal: Caller, services: AppServices) -> BookingOut:
        return await booking.get_booking(services, principal, code)


booking_router = Router(path="/api/v1", route_handlers=[QuoteController, BookingController])
