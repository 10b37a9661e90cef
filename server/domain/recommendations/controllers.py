"""Recommendations for the signed-in caller (guests included)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from server.contracts.catalog import RecommendationOut
from server.domain.deps import AppServices, Caller, Db
from server.domain.recommendations import services as recommendations


class RecommendationController(Controller):
    path = "/api/v1/me/recommendations"
    tags = ["catalog"]

    @get("/", summary="Movies now showing that you have not booked, best for you first, with why")
    async def recommendations(
        self,
        db: Db,
        principal: Caller,
        services: AppServices,
        city: Annotated[
            str | None, Parameter(description="City name or id; every city when left out")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=50)] = 10,
    ) -> list[RecommendationOut]:
        return await recommendations.recommend(
            db, services.clock, principal, city=city, limit=limit
        )
