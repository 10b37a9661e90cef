"""``/api/v1/admin/analytics``, ``/api/v1/admin/settlement`` and (from the announcements
slice) ``/api/v1/admin/announcements``: what a theater admin reads about, and tells, the
audience of their own theaters."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Router, get
from litestar.params import Parameter

from server.contracts.reports import AnalyticsOut, GroupBy, SettlementOut
from server.domain.admin.controllers import DateFrom, DateTo
from server.domain.announcements.controllers import AnnouncementController
from server.domain.deps import AppServices, Caller, Db
from server.domain.reports import analytics, settlement


class ReportController(Controller):
    tags = ["admin"]

    @get(
        "/analytics",
        summary="Occupancy, revenue, top movies and times, and a demand heat map",
        description="Shows starting on local dates from–to (default: the last 30 days), "
        "grouped by show, screen, day or time slot (morning 06–12, afternoon 12–17, "
        "evening 17–21, night 21–06, local time).",
    )
    async def analytics(
        self,
        theater_id: uuid.UUID,
        db: Db,
        principal: Caller,
        services: AppServices,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        by: GroupBy = GroupBy.DAY,
    ) -> AnalyticsOut:
        return await analytics.analytics(
            db,
            services.clock,
            principal,
            theater_id,
            date_from=date_from,
            date_to=date_to,
            by=by,
        )

    @get(
        "/settlement",
        summary="A month's settlement statement: per local day and total, in minor units",
    )
    async def settlement(
        self,
        theater_id: uuid.UUID,
        period: Annotated[str, Parameter(description="The month, YYYY-MM (e.g. 2026-11)")],
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> SettlementOut:
        return await settlement.settlement(db, services.clock, principal, theater_id, period)


reports_router = Router(
    path="/api/v1/admin", route_handlers=[ReportController, AnnouncementController]
)
