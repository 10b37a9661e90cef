"""Ticket images, the public key for offline scanners, and check-in."""

from __future__ import annotations

from litestar import Controller, Response, get, post

from server.contracts.checkout import CheckinOut, CheckinRequest, PublicKeyOut
from server.domain.booking import services as booking
from server.domain.deps import AppServices, Caller
from server.domain.tickets import qr
from server.domain.tickets import services as tickets


class TicketController(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    @get("/tickets/public-key", summary="The Ed25519 key that verifies ticket QR payloads")
    async def public_key(self, services: AppServices) -> PublicKeyOut:
        return tickets.public_key(services)

    @post("/checkin", status_code=200, summary="Admit a ticket at the door (once)")
    async def checkin(
        self, data: CheckinRequest, principal: Caller, services: AppServices
    ) -> CheckinOut:
        return await tickets.checkin(services, principal, data)

    @get("/bookings/{code:str}/ticket.png", summary="The ticket's QR code as PNG")
    async def png(self, code: str, principal: Caller, services: AppServices) -> Response[bytes]:
        payload = await booking.ticket_payload(services, principal, code)
        return Response(qr.png(payload), media_type="image/png")

    @get("/bookings/{code:str}/ticket.svg", summary="The ticket's QR code as SVG")
    async def svg(self, code: str, principal: Caller, services: AppServices) -> Response[bytes]:
        payload = await booking.ticket_payload(services, principal, code)
        return Response(qr.svg(payload), media_type="image/svg+xml")

    @get("/bookings/{code:str}/ticket.txt", summary="The ticket's QR code as terminal art")
    async def text(self, code: str, principal: Caller, services: AppServices) -> Response[str]:
        payload = await booking.ticket_payload(services, principal, code)
        return Response(qr.terminal_art(payload), media_type="text/plain; charset=utf-8")
