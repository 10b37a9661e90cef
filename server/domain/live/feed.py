"""Publishing seat changes to every watcher of a show, on every server process.

Litestar channels with the Redis pub/sub backend: a change made through one process reaches
WebSocket watchers connected to any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import msgspec
from litestar.channels import ChannelsPlugin

from server.contracts.api import SeatChange, SeatEvent

_encoder = msgspec.json.Encoder()


def channel_for(show_id: uuid.UUID) -> str:
    return f"show:{show_id}"


class LiveFeed:
    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels

    def publish(
        self,
        show_id: uuid.UUID,
        sequence: int,
        status: str,
        seats: Iterable[tuple[uuid.UUID, int]],
    ) -> None:
        """Announce that ``seats`` (seat id, new version) of a show now have ``status``."""
        changes = [SeatChange(seat_id=seat, status=status, version=v) for seat, v in seats]
        if not changes:
            return
        event = SeatEvent(show_id=show_id, sequence=sequence, seats=changes)
        self.channels.publish(_encoder.encode(event), channels=[channel_for(show_id)])
