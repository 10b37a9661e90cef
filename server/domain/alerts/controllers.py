"""Ask to hear when a movie goes on sale in a city, list and delete those alerts."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from server.contracts import api
from server.contracts.alerts import AlertCreate, AlertOut
from server.domain.alerts import services as alerts
from server.domain.deps import AppServices, Caller, Db


class AlertController(Controller):
    path = "/api/v1"
    tags = ["release alerts"]

    @post(
        "/movies/{movie_id:uuid}/alerts",
        summary="Customers: be e-mailed once when a movie has a show on sale in a city",
        description='Body {"city": name or id}. 201 with the new alert; 200 with the one you '
        "have when you asked already. 401 without a token; 403 for guests and staff; 404 for "
        "an unknown movie or city; 409 when the movie is on sale there now (the answer names "
        "the first show and where to list them).",
        responses={
            200: ResponseSpec(AlertOut, description="You asked already: your alert"),
            409: ResponseSpec(api.Problem, description="Already on sale in that city"),
        },
    )
    async def ask(
        self,
        movie_id: FromPath[uuid.UUID],
        data: AlertCreate,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> Response[AlertOut]:
        alert, created = await alerts.ask(db, services.clock, principal, movie_id, data)
        return Response(alert, status_code=201 if created else 200)

    @get("/me/alerts", summary="Your release alerts, newest first")
    async def mine(self, db: Db, principal: Caller) -> list[AlertOut]:
        return await alerts.mine(db, principal)

    @delete("/alerts/{alert_id:uuid}", summary="Delete one of your release alerts")
    async def remove(self, alert_id: FromPath[uuid.UUID], db: Db, principal: Caller) -> None:
        await alerts.remove(db, principal, alert_id)
