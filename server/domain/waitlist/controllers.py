"""Join, check and leave the waiting list of a sold-out show."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath

from server.contracts import api
from server.domain.deps import AppServices, Caller
from server.domain.idempotency import idempotent
from server.domain.waitlist import services as waitlist


class WaitlistController(Controller):
    path = "/api/v1"
    tags = ["waiting list"]

    @post("/shows/{show_id:uuid}/waitlist", summary="Join the waiting list of a sold-out show")
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

    @get("/waitlist/{entry_id:uuid}", summary="Your place in line, or your offer")
    async def status(
        self, entry_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> api.WaitlistEntryOut:
        return await waitlist.status(services, principal, entry_id)

    @delete("/waitlist/{entry_id:uuid}", summary="Leave the waiting list")
    async def leave(
        self, entry_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> None:
        await waitlist.leave(services, principal, entry_id)
