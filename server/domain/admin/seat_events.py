"""Telling live seat maps about admin changes, after they are committed."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from server.domain.inventory.services import feed
from server.infra.state import Services


def announce(
    services: Services,
    sequence: int,
    changes: Iterable[tuple[uuid.UUID, uuid.UUID, int]],
    status: str,
) -> None:
    """Each show's watchers learn that these (show, seat, version) now have ``status``."""
    by_show: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    for show_id, seat_id, version in changes:
        by_show[show_id].append((seat_id, version))
    for show_id, seats in by_show.items():
        feed(services).publish(show_id, sequence, status, seats)
