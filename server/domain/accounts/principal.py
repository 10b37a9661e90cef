"""Who is calling: resolved once per request from the bearer token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from server.contracts.enums import COUNTER_STAFF_ROLES, Role

STAFF_ROLES = frozenset({Role.CLERK, Role.KIOSK, Role.THEATER_ADMIN, Role.PLATFORM_ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: Role
    name: str
    token_id: uuid.UUID
    theater_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    is_guest: bool = False
    # The sales channel a guest session belongs to ("kiosk" when a kiosk device started it).
    channel: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def can_act_for(self, theater_id: uuid.UUID) -> bool:
        """Platform admins act everywhere; staff only for their own theaters."""
        return self.is_platform_admin or theater_id in self.theater_ids

    def serves_customers_of(self, theater_id: uuid.UUID) -> bool:
        """Counter staff of the theater (or a platform admin) open and cancel any customer's
        booking there. A kiosk never does: anyone standing at it could type a stranger's code
        from a ticket."""
        return self.role in COUNTER_STAFF_ROLES and self.can_act_for(theater_id)
