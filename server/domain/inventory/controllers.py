"""Seat maps, holds and best-available suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter

from server.contracts import api
from server.contracts.enums import Role
from server.domain.accounts.guards import require_role
from server.domain.deps import AppServices, Caller
from server.domain.idempotency import idempotent
from server.domain.inventory import services as inventory


class SeatMapController(Controller):
    path = "/api/v1/shows/{show_id:uuid}"
    tags = ["inventory"]

    @get("/seatmap", summary="Layout, live status and prices of every seat of a show")
    async def seat_map(self, show_id: FromPath[uuid.UUID], services: AppServices) -> api.SeatMapOut:
        return await inventory.seat_map(services, show_id)

    @get("/best-available", summary="Suggest the best block of N seats together")
    async def best_available(
        self,
        show_id: FromPath[uuid.UUID],
        services: AppServices,
        count: Annotated[int, QueryParameter(ge=1, le=50)] = 2,
        seat_type: Annotated[str | None, QueryParameter(name="type")] = None,
        accessible: FromQuery[bool] = False,
    ) -> api.BestAvailableOut:
        return await inventory.suggest_best(services, show_id, count, seat_type, accessible)

    @post(
        "/holds",
        summary="Hold seats for this buyer (all or nothing)",
        description="Answers 201 with the hold, or 409 with `unavailable` seat ids, or 422 "
        "when a seat is not in this show or is a wheelchair/companion space asked for without "
        "`accessible: true`. Send an Idempotency-Key header to make retries safe.",
        responses={
            409: ResponseSpec(api.Problem, description="Some seats are taken"),
            422: ResponseSpec(api.Problem, description="A seat this request cannot take"),
        },
    )
    async def hold(
        self,
        show_id: FromPath[uuid.UUID],
        data: api.HoldRequest,
        request: Request[Any, Any, Any],
        principal: Caller,
        services: AppServices,
    ) -> Response[api.HoldOut]:
        return await idempotent(
            request,
            services,
            principal,
            lambda: inventory.place_hold(services, principal, show_id, data),
            still_true=lambda answer: inventory.check_replayed_hold(services, answer),
        )


class HoldController(Controller):
    path = "/api/v1/holds"
    tags = ["inventory"]

    @delete("/{hold_id:uuid}", summary="Release a hold; its seats go back on sale at once")
    async def release(
        self, hold_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> None:
        await inventory.release(services, principal, hold_id)


class GroupHoldController(Controller):
    path = "/api/v1/admin/shows/{show_id:uuid}/group-holds"
    tags = ["inventory", "admin"]

    @post(summary="Hold a named block of seats past the usual timeout (theater admins)")
    async def create(
        self,
        show_id: FromPath[uuid.UUID],
        data: api.GroupHoldRequest,
        request: Request[Any, Any, Any],
        principal: Caller,
        services: AppServices,
    ) -> Response[api.HoldOut]:
        require_role(principal, Role.THEATER_ADMIN)
        return await idempotent(
            request,
            services,
            principal,
            lambda: inventory.place_group_hold(services, principal, show_id, data),
        )

    @get(summary="Active group holds of a show")
    async def list_holds(
        self, show_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> list[api.HoldOut]:
        require_role(principal, Role.THEATER_ADMIN, Role.CLERK)
        return await inventory.group_holds(services, principal, show_id)
