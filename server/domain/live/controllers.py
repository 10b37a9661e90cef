"""``WS /api/v1/shows/{show_id}/live``: a stream of SeatEvent JSON messages for one show.

The first message is an empty SeatEvent carrying the current sequence: once a client sees it,
its subscription is live, so a seat map fetched after that misses nothing.
"""

from __future__ import annotations

import uuid

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect

from server.contracts.api import SeatEvent
from server.domain.inventory import services as inventory
from server.domain.live.feed import channel_for
from server.infra.state import Services


@websocket("/api/v1/shows/{show_id:uuid}/live", name="seat_feed")
async def seat_feed(socket: WebSocket, show_id: uuid.UUID, channels: ChannelsPlugin) -> None:
    services: Services = socket.app.state.services
    await socket.accept()
    async with (
        channels.start_subscription([channel_for(show_id)]) as subscriber,
        subscriber.run_in_background(socket.send_data),
    ):
        sequence = await inventory.current_sequence(services)
        hello = SeatEvent(show_id=show_id, sequence=sequence, seats=[])
        await socket.send_data(msgspec.json.encode(hello).decode())
        try:
            while True:
                await socket.receive_data(mode="text")
        except WebSocketDisconnect:
            return
