"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from server.db.models.accounts import ApiToken, AuditEntry, User, UserTheater
from server.db.models.alerts import ReleaseAlert
from server.db.models.base import Base
from server.db.models.booking import (
    Booking,
    BookingSeat,
    Coupon,
    CouponRedemption,
    SnackItem,
    SnackOrder,
    Ticket,
    WaitlistEntry,
)
from server.db.models.catalog import City, Movie, Review, Screen, Seat, Theater
from server.db.models.inventory import SEAT_EVENTS_SEQ, Hold, HoldSeat, SeatTransition, ShowSeat
from server.db.models.notifications import Notification, OutboxEvent
from server.db.models.payments import (
    LoyaltyEntry,
    Payment,
    Refund,
    WalletEntry,
)
from server.db.models.schedule import PriceRule, Show

__all__ = [
    "SEAT_EVENTS_SEQ",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingSeat",
    "City",
    "Coupon",
    "CouponRedemption",
    "Hold",
    "HoldSeat",
    "LoyaltyEntry",
    "Movie",
    "Notification",
    "OutboxEvent",
    "Payment",
    "PriceRule",
    "Refund",
    "ReleaseAlert",
    "Review",
    "Screen",
    "Seat",
    "SeatTransition",
    "Show",
    "ShowSeat",
    "SnackItem",
    "SnackOrder",
    "Theater",
    "Ticket",
    "User",
    "UserTheater",
    "WaitlistEntry",
    "WalletEntry",
]
