"""``/api/v1/admin``: theaters, screens and layouts, movies, schedules, prices, seat repairs.

Every handler needs a theater or platform admin; theater admins reach their own theaters
only. Creating theaters and writing movies is for platform admins.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Router, delete, get, patch, post
from litestar.params import FromPath, Parameter, QueryParameter

from server.contracts import admin as contracts
from server.contracts import api
from server.contracts.enums import Role
from server.domain.accounts.guards import require_role
from server.domain.accounts.principal import Principal
from server.domain.admin import catalog, layout_import, prices, repairs, schedule
from server.domain.deps import AppServices, Caller, Db

DateFrom = Annotated[
    date | None, QueryParameter(name="from", description="First local date (YYYY-MM-DD)")
]
DateTo = Annotated[date | None, QueryParameter(name="to", description="Last local date")]


def admin(principal: Principal) -> Principal:
    require_role(principal, Role.THEATER_ADMIN)
    return principal


class TheaterAdminController(Controller):
    path = "/theaters"
    tags = ["admin"]

    @post("/", summary="Create a theater (platform admins)")
    async def create(
        self, data: contracts.TheaterCreate, db: Db, principal: Caller, services: AppServices
    ) -> contracts.TheaterAdminOut:
        require_role(principal, Role.PLATFORM_ADMIN)
        return await catalog.create_theater(db, services.redis, data)

    @get("/", summary="Your theaters with their policies and screens")
    async def list_theaters(self, db: Db, principal: Caller) -> list[contracts.TheaterAdminOut]:
        return await catalog.list_theaters(db, admin(principal))

    @get("/{theater_id:uuid}", summary="One of your theaters")
    async def show(
        self, theater_id: FromPath[uuid.UUID], db: Db, principal: Caller
    ) -> contracts.TheaterAdminOut:
        return await catalog.show_theater(db, admin(principal), theater_id)

    @patch("/{theater_id:uuid}", summary="Change facilities and policies of one of your theaters")
    async def update(
        self,
        theater_id: FromPath[uuid.UUID],
        data: contracts.TheaterUpdate,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> contracts.TheaterAdminOut:
        return await catalog.update_theater(db, services.redis, admin(principal), theater_id, data)


class ScreenAdminController(Controller):
    path = "/screens"
    tags = ["admin"]

    @post("/", summary="Create a screen from a layout file's text")
    async def create(
        self, data: contracts.ScreenCreate, db: Db, principal: Caller, services: AppServices
    ) -> contracts.ScreenAdminOut:
        return await catalog.create_screen_from_layout(db, services.redis, admin(principal), data)

    @get("/", summary="Screens of your theaters (or of one)")
    async def list_screens(
        self, db: Db, principal: Caller, theater_id: uuid.UUID | None = None
    ) -> list[contracts.ScreenAdminOut]:
        return await catalog.list_screens(db, admin(principal), theater_id)

    @get("/{screen_id:uuid}", summary="One screen with its seat counts")
    async def show(
        self, screen_id: FromPath[uuid.UUID], db: Db, principal: Caller
    ) -> contracts.ScreenAdminOut:
        return await catalog.show_screen(db, admin(principal), screen_id)

    @patch("/{screen_id:uuid}", summary="Rename a screen or change its formats")
    async def update(
        self,
        screen_id: FromPath[uuid.UUID],
        data: contracts.ScreenUpdate,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> contracts.ScreenAdminOut:
        return await catalog.update_screen(
            db, services.redis, services.clock, admin(principal), screen_id, data
        )

    @get("/{screen_id:uuid}/layout", summary="The screen's layout text as last imported")
    async def layout(
        self, screen_id: FromPath[uuid.UUID], db: Db, principal: Caller
    ) -> contracts.ScreenLayoutOut:
        return await catalog.screen_layout(db, admin(principal), screen_id)

    @post(
        "/{screen_id:uuid}/layout",
        status_code=200,
        summary="Import a new layout (dry_run to preview); 409 when sold seats would vanish",
    )
    async def import_layout(
        self,
        screen_id: FromPath[uuid.UUID],
        data: contracts.LayoutImport,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> contracts.LayoutImportOut:
        return await layout_import.import_layout(db, services, admin(principal), screen_id, data)


class MovieAdminController(Controller):
    path = "/movies"
    tags = ["admin"]

    @post("/", summary="Add a movie (platform admins)")
    async def create(
        self, data: contracts.MovieCreate, db: Db, principal: Caller, services: AppServices
    ) -> api.MovieOut:
        require_role(principal, Role.PLATFORM_ADMIN)
        return await catalog.create_movie(db, services.redis, data)

    @patch("/{movie_id:uuid}", summary="Change a movie (platform admins)")
    async def update(
        self,
        movie_id: FromPath[uuid.UUID],
        data: contracts.MovieUpdate,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> api.MovieOut:
        require_role(principal, Role.PLATFORM_ADMIN)
        return await catalog.update_movie(db, services.redis, services.clock, movie_id, data)

    @post("/import", status_code=200, summary="Add or update many movies, all or nothing")
    async def import_movies(
        self, data: contracts.MovieImport, db: Db, principal: Caller, services: AppServices
    ) -> contracts.MovieImportOut:
        require_role(principal, Role.PLATFORM_ADMIN)
        return await catalog.import_movies(db, services.redis, data)


class ScheduleAdminController(Controller):
    tags = ["admin"]

    @post(
        "/schedule/uploads",
        status_code=200,
        summary="Check and create many shows with their seat inventory",
        description="Answers 200 with a report of every problem by row and column; "
        "`applied` says whether shows were written.",
    )
    async def upload(
        self, data: contracts.ScheduleUpload, db: Db, principal: Caller, services: AppServices
    ) -> contracts.ScheduleUploadOut:
        return await schedule.upload(db, services, admin(principal), data)

    @get("/shows", summary="Shows of your theaters with seat counts; upcoming unless dated")
    async def list_shows(
        self,
        db: Db,
        principal: Caller,
        services: AppServices,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        theater_id: uuid.UUID | None = None,
        screen_id: uuid.UUID | None = None,
        movie_id: uuid.UUID | None = None,
        include_cancelled: bool = False,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 500,
    ) -> list[contracts.AdminShowOut]:
        search = schedule.ShowQuery(
            theater_id=theater_id,
            screen_id=screen_id,
            movie_id=movie_id,
            date_from=date_from,
            date_to=date_to,
            include_cancelled=include_cancelled,
            limit=limit,
        )
        return await schedule.list_shows(db, services, admin(principal), search)


class PriceAdminController(Controller):
    tags = ["admin"]

    @post("/prices", status_code=200, summary="Set base prices of future shows (dry_run shows it)")
    async def change(
        self, data: contracts.PriceChange, db: Db, principal: Caller, services: AppServices
    ) -> contracts.PriceChangeOut:
        return await prices.change_prices(db, services, admin(principal), data)

    @get("/shows/{show_id:uuid}/prices", summary="A show's base and dynamic prices right now")
    async def show_prices(
        self, show_id: FromPath[uuid.UUID], db: Db, principal: Caller, services: AppServices
    ) -> contracts.ShowPricesOut:
        return await prices.prices_of_show(db, services, admin(principal), show_id)

    @post("/price-rules", summary="Add a dynamic-pricing rule")
    async def add_rule(
        self, data: contracts.PriceRuleCreate, db: Db, principal: Caller
    ) -> contracts.PriceRuleOut:
        return await prices.add_rule(db, admin(principal), data)

    @get("/price-rules", summary="Dynamic-pricing rules of your theaters")
    async def list_rules(
        self, db: Db, principal: Caller, theater_id: uuid.UUID | None = None
    ) -> list[contracts.PriceRuleOut]:
        return await prices.list_rules(db, admin(principal), theater_id)

    @delete("/price-rules/{rule_id:uuid}", summary="Remove a dynamic-pricing rule")
    async def remove_rule(self, rule_id: FromPath[uuid.UUID], db: Db, principal: Caller) -> None:
        await prices.remove_rule(db, admin(principal), rule_id)


class SeatRepairController(Controller):
    path = "/seats"
    tags = ["admin"]

    @post("/block", status_code=200, summary="Take seats out of sale across future shows")
    async def block(
        self, data: contracts.SeatRepair, db: Db, principal: Caller, services: AppServices
    ) -> contracts.SeatRepairOut:
        return await repairs.repair(db, services, admin(principal), data, block=True)

    @post("/unblock", status_code=200, summary="Put repaired seats back on sale")
    async def unblock(
        self, data: contracts.SeatRepair, db: Db, principal: Caller, services: AppServices
    ) -> contracts.SeatRepairOut:
        return await repairs.repair(db, services, admin(principal), data, block=False)


admin_router = Router(
    path="/api/v1/admin",
    route_handlers=[
        TheaterAdminController,
        ScreenAdminController,
        MovieAdminController,
        ScheduleAdminController,
        PriceAdminController,
        SeatRepairController,
    ],
)
