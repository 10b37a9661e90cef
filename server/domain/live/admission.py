"""``/api/v1/shows/{show_id}/admission``: join, poll and leave a show's waiting room."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath

from server.contracts import api
from server.domain.deps import AppServices, Caller
from server.domain.live import waiting_room
from server.domain.live.waiting_room import retry_after_seconds


def _answer(out: api.AdmissionOut) -> Response[api.AdmissionOut]:
    """A waiting buyer also gets ``Retry-After``: when to poll again."""
    headers = {} if out.admitted else {"Retry-After": str(retry_after_seconds(out))}
    return Response(out, headers=headers)


class AdmissionController(Controller):
    path = "/api/v1/shows/{show_id:uuid}/admission"
    tags = ["live"]

    @post(
        status_code=200,
        summary="Join the show's waiting room, or poll your place in it",
        description="Answers `admitted=true` with an `admission_token` while you hold a turn "
        "(each call renews it), else your `position` and `estimated_wait_seconds`. Before the "
        "sale opens everyone who joins is shuffled into line at opening. Poll again after "
        "`Retry-After` seconds.",
    )
    async def join(
        self, show_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> Response[api.AdmissionOut]:
        return _answer(await waiting_room.join(services, show_id, principal.user_id))

    @get(summary="Where you stand in the show's waiting room, without joining it")
    async def status(
        self, show_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> Response[api.AdmissionOut]:
        return _answer(await waiting_room.status(services, show_id, principal.user_id))

    @delete(summary="Leave the show's waiting room, or end your turn so the next buyer gets it")
    async def leave(
        self, show_id: FromPath[uuid.UUID], principal: Caller, services: AppServices
    ) -> None:
        await waiting_room.finish(services, show_id, principal.user_id)
