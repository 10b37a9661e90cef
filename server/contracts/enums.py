"""Vocabulary shared by the server, the TUI and the admin CLI (plain string enums)."""

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    CLERK = "clerk"
    KIOSK = "kiosk"
    THEATER_ADMIN = "theater_admin"
    PLATFORM_ADMIN = "platform_admin"


# Who serves customers at the counter: looks bookings up by code, phone or e-mail
# (``GET /api/v1/bookings``), puts a customer on a waiting list and books the customer's
# waiting-list offer for them. Not kiosks: their customers act for themselves, as guests.
COUNTER_STAFF_ROLES = frozenset({Role.CLERK, Role.THEATER_ADMIN, Role.PLATFORM_ADMIN})

# The ``reason`` of the 409 answering a retry while the first request with its
# Idempotency-Key still runs: send the retry again in a moment.
IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"


class SeatStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    BLOCKED = "BLOCKED"
    BOOKED = "BOOKED"
    UNAVAILABLE = "UNAVAILABLE"


class HoldStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"
    CONVERTED = "CONVERTED"


class HoldKind(StrEnum):
    STANDARD = "standard"
    GROUP = "group"
    WAITLIST_OFFER = "waitlist_offer"


class ShowStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class BookingStatus(StrEnum):
    PENDING = "PENDING"
    REVIEW = "REVIEW"
    CONFIRMED = "CONFIRMED"
    PARTIALLY_CANCELLED = "PARTIALLY_CANCELLED"
    CANCELLED = "CANCELLED"
    REFUSED = "REFUSED"


class BookingSeatStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class Channel(StrEnum):
    BOX_OFFICE = "box_office"
    KIOSK = "kiosk"
    ONLINE = "online"
    API = "api"


class PaymentMethod(StrEnum):
    CARD = "card"
    UPI = "upi"
    WALLET = "wallet"
    NET_BANKING = "net_banking"
    CASH = "cash"


class PaymentStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RefundDestination(StrEnum):
    ORIGINAL = "original"
    WALLET = "wallet"


class CouponKind(StrEnum):
    PERCENT = "percent"
    FLAT = "flat"


class WaitlistStatus(StrEnum):
    WAITING = "WAITING"
    OFFERED = "OFFERED"
    FULFILLED = "FULFILLED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class TokenKind(StrEnum):
    SESSION = "session"
    API = "api"
    KIOSK = "kiosk"


class ScreenFormat(StrEnum):
    TWO_D = "2D"
    THREE_D = "3D"
    IMAX = "IMAX"
    FOUR_DX = "4DX"


class NotificationStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
