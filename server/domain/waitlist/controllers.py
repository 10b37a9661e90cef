"""Join, check and leave the waiting list of a sold-out show."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from server.contracts import api
from server.domain.deps import AppServices, Caller
from server.domain.idempotency import idempotent
from server.domain.waitlist import services as waitlist


class WaitlistController(Controller):
    path = "/api/v1"
    tags = ["waiting list"]

    @post(
        "/shows/{show_id:uuid}/waitlist",
        summary="Join the waiting list of a sold-out show, or (staff) put a customer on it",
        description="Customers join for themselves and leave out customer. Box-office staff "
        "(clerks, theater and platform admins) must give customer: a name and an e-mail "
        "and/or phone number; the customer is found by them or kept as a guest customer, owns "
        "the entry, and is sent the offer. 403: a customer or kiosk giving customer, or a "
        "show outside the staff member's theaters; 409: seats are still free, or that person "
        "is already on the list; 422: bad input, naming the field.",
    )
    async def join(
        self,
        show_id: FromPath[uuid.UUID],
        data: api.WaitlistJoin,
        request: Request[Any, Any, Any],
        principal: Caller,
        services: AppServices,
    ) -> Response[api.WaitlistEntryOut]:
        return await idempotent(
            request, services, principal, lambda: waitlist.join(services, principal, show_id, data)
        )

    @get(
        "/waitlist",
        summary="Staff: a customer's waiting-list entries, by phone or e-mail",
        description="Give exactly one of phone (matched on its digits, with or without the "
        "country code) or email (any case). Entries for shows not yet started at the caller's "
        "theaters (platform admins: all), the soonest show first, each with its status, place "
        "in line or offered hold. Customers and kiosks get 403; 422 when neither or both are "
        "given, or one is not a phone number or e-mail address.",
        responses={403: ResponseSpec(api.Problem, description="Not box-office staff")},
    )
    async def find(
        self,
        principal: Caller,
        services: AppServices,
        phone: str | None = None,
        email: str | None = None,
    ) -> list[api.WaitlistEntryOut]:
        return await waitlist.find(services, principal, phone=phone, email=email)

    @get(
        "/waitlist/{entry_id:uuid}",
        summary="A place in line or an offer: yours, or (staff) one at your theaters",
    )
    async def status(
        self, entry_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> api.WaitlistEntryOut:
        return await waitlist.status(services, principal, entry_id)

    @delete("/waitlist/{entry_id:uuid}", summary="Leave the waiting list")
    async def leave(
        self, entry_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> None:
        await waitlist.leave(services, principal, entry_id)
