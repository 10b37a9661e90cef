"""Messages the TUI's widgets post to the screens that host them."""

from __future__ import annotations

from uuid import UUID

from textual.message import Message

from server.contracts.api import SeatOut


class SelectionChanged(Message):
    """The buyer's chosen seats changed; ``total_minor`` is their summed price."""

    def __init__(self, seat_ids: tuple[UUID, ...], total_minor: int) -> None:
        super().__init__()
        self.seat_ids = seat_ids
        self.total_minor = total_minor


class SeatTakenByOther(Message):
    """A seat the buyer had chosen was held or booked by someone else and was let go."""

    def __init__(self, seat_id: UUID, label: str) -> None:
        super().__init__()
        self.seat_id = seat_id
        self.label = label


class SelectionRefused(Message):
    """The buyer tried to choose a seat that cannot be chosen; ``reason`` says why."""

    def __init__(self, seat: SeatOut, reason: str) -> None:
        super().__init__()
        self.seat = seat
        self.reason = reason


class CursorMoved(Message):
    """The seat cursor is now on ``seat``."""

    def __init__(self, seat: SeatOut) -> None:
        super().__init__()
        self.seat = seat
