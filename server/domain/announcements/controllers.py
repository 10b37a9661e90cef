"""``POST /api/v1/admin/announcements``: a message to everyone holding seats for some shows."""

from __future__ import annotations

from litestar import Controller, post

from server.contracts.reports import AnnouncementIn, AnnouncementOut
from server.domain.announcements import services
from server.domain.deps import Caller, Db


class AnnouncementController(Controller):
    path = "/announcements"
    tags = ["admin"]

    @post(
        "/",
        status_code=200,
        summary="Tell everyone holding seats for some shows (dry_run counts them only)",
        description="One `announcement` outbox event per show with someone to tell; the answer "
        "counts bookings and distinct customers per show and in all.",
    )
    async def announce(self, data: AnnouncementIn, db: Db, principal: Caller) -> AnnouncementOut:
        return await services.announce(db, principal, data)
