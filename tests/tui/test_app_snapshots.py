"""Snapshots of the app's main screens, drawn from fixed contract objects with a fixed clock:
no server, nothing that changes from run to run. ``pytest --snapshot-update`` accepts a
deliberate change; look at the SVGs in ``__snapshots__`` before committing them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import msgspec
from textual.screen import Screen

from bmscli.tui import bindings
from bmscli.tui.app import BoxOfficeApp
from bmscli.tui.kiosk import KioskApp
from bmscli.tui.screens.bookings import BookingsScreen
from bmscli.tui.screens.browse import BrowseScreen
from bmscli.tui.screens.checkout import SPLIT_CASH, CheckoutScreen
from bmscli.tui.screens.help import HelpScreen
from bmscli.tui.screens.kiosk import WelcomeScreen
from bmscli.tui.screens.login import LoginScreen
from bmscli.tui.screens.movie import MovieScreen
from bmscli.tui.screens.refund_quote import RefundQuoteScreen
from bmscli.tui.screens.seats import SeatScreen
from bmscli.tui.screens.showtimes import ShowtimesScreen
from bmscli.tui.screens.ticket import TicketScreen
from server.contracts.api import CityOut, HoldOut, MovieOut, ShowOut, TheaterOut, TokenOut
from server.contracts.cancellation import RefundOut, RefundQuote, SeatRefundLine
from server.contracts.catalog import DemoAccount, MetaOut, ReviewOut
from server.contracts.checkout import (
    Amounts,
    BookedSeat,
    BookingOut,
    BookingSummary,
    PaymentOut,
    QuoteOut,
    SeatLine,
    SnackLine,
)
from server.contracts.enums import SeatStatus
from server.domain.tickets.qr import terminal_art
from tests.tui.conftest import SHOW_ID, seat_id, seatmap_from_layout

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 14:30 in Mumbai
SMALL = (80, 24)
LARGE = (110, 34)


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(SHOW_ID, name)


CITY = CityOut(
    city_id=uid("mumbai"),
    name="Mumbai",
    country="IN",
    timezone="Asia/Kolkata",
    currency="INR",
    tax_rate_bp=1800,
)


def theater(name: str) -> TheaterOut:
    return TheaterOut(
        theater_id=uid(name),
        name=name,
        city_id=CITY.city_id,
        city="Mumbai",
        address="1 Lake Road",
        latitude=19.1,
        longitude=72.9,
        facilities=["parking"],
        hold_minutes=10,
        cleaning_minutes=15,
        convenience_fee_minor=3000,
        cancellation_policy={},
    )


POWAI, BANDRA = theater("Lakeside Multiplex Powai"), theater("Bandra Bay Cinemas")


def movie(title: str, genres: list[str], minutes: int, rating: float | None) -> MovieOut:
    return MovieOut(
        movie_id=uid(title),
        title=title,
        genres=genres,
        languages=["Hindi", "English"],
        duration_minutes=minutes,
        certification="UA",
        release_date=date(2026, 11, 13),
        synopsis="A retired coast-guard diver is pulled back for one job: stop a stolen "
        "dredger before the harbour wall gives way.",
        cast=[
            {"name": "Vijay Raghunathan", "role": "Captain Selvam"},
            {"name": "Anika Dsouza", "role": "Lt. Pereira"},
        ],
        crew=[{"job": "Director", "name": "Lokesh Varman"}],
        rating=rating,
        rating_count=2 if rating else 0,
    )


MOVIES = [
    movie("Iron Tide", ["Action"], 149, 8.0),
    movie("Neon Tiffin", ["Comedy"], 124, 8.0),
    movie("Orbit of Ashes", ["Science Fiction"], 158, 6.0),
    movie("Chai at Midnight", ["Romance", "Comedy"], 119, None),
    movie("Deep Current", ["Adventure"], 96, None),
]
REVIEWS = [
    ReviewOut(
        review_id=uid("review"),
        movie_id=MOVIES[0].movie_id,
        user_id=uid("alice"),
        user_name="Alice Fernandes",
        rating=9,
        text="Saw it in IMAX: the harbour sequence alone is worth the ticket.",
        created_at=NOW - timedelta(days=2),
    )
]


def show(place: TheaterOut, screen: str, hour: int, free: int, fmt: str = "2D") -> ShowOut:
    starts = datetime(2026, 11, 20, hour, 30, tzinfo=UTC)
    return ShowOut(
        show_id=SHOW_ID if hour == 12 and place is POWAI else uid(f"{place.name}{hour}"),
        movie_id=MOVIES[0].movie_id,
        title=MOVIES[0].title,
        theater_id=place.theater_id,
        theater_name=place.name,
        screen_id=uid(screen),
        screen_name=screen,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=149),
        status="SCHEDULED",
        language="Hindi",
        format=fmt,
        seats_total=150,
        seats_available=free,
        # A wheelchair space costs less; the list shows what a ticket on general sale costs.
        prices={"wheelchair": 10000, "regular": 25000, "premium": 40000},
        currency="INR",
    )


SHOWS = [
    show(POWAI, "IMAX", 10, 32, "IMAX"),
    show(POWAI, "Screen 3", 12, 118),
    show(POWAI, "Screen 2", 15, 0, "3D"),
    show(BANDRA, "Screen 1", 11, 140),
    show(BANDRA, "Screen 1", 14, 87),
]
SEATS_SHOW = SHOWS[1]
SEATMAP = seatmap_from_layout(
    "standard-150",
    {
        "A5": SeatStatus.BOOKED,
        "A6": SeatStatus.BOOKED,
        "C9": SeatStatus.BLOCKED,
        "C10": SeatStatus.BLOCKED,
        "E2": SeatStatus.UNAVAILABLE,
        "J11": SeatStatus.BOOKED,
    },
)
CLERK = TokenOut(
    token="t",
    user_id=uid("clerk"),
    role="clerk",
    name="Kiran Clerk",
    theater_ids=[POWAI.theater_id],
)


class StillApp(BoxOfficeApp):
    """The box office signed in as a clerk in Mumbai, showing one screen built from fixed data."""

    def __init__(self, screen: Callable[[], Screen[None]]) -> None:
        super().__init__(clock=lambda: NOW)
        self.make_screen = screen
        self.user = CLERK
        self.sub_title = "Kiran Clerk · clerk"
        self.cities, self.theaters, self.city = [CITY], [POWAI, BANDRA], CITY
        self.sells_at = frozenset({POWAI.theater_id, BANDRA.theater_id})

    def on_mount(self) -> None:
        self.push_screen(self.make_screen())


class StillKiosk(KioskApp):
    def __init__(self, screen: Callable[[], Screen[None]]) -> None:
        super().__init__(clock=lambda: NOW, pin="0000", idle_seconds=3600)
        self.make_screen = screen
        self.cities, self.theaters, self.city = [CITY], [POWAI], CITY
        self.sells_at = frozenset({POWAI.theater_id})

    def on_mount(self) -> None:
        self.push_screen(self.make_screen())


def held(*labels: str) -> HoldOut:
    return HoldOut(
        hold_id=uid("hold"),
        show_id=SHOW_ID,
        seat_ids=[seat_id("standard-150", label) for label in labels],
        expires_at=NOW + timedelta(minutes=9, seconds=41),
    )


def test_login_with_demo_accounts(snap_compare) -> None:
    meta = MetaOut(
        version="0.1.0",
        demo=True,
        demo_accounts=[
            DemoAccount(
                email="clerk@demo.bms",
                password="demo",
                role="clerk",
                note="Box-office clerk at Powai.",
            ),
            DemoAccount(
                email="kiosk@demo.bms", password="demo", role="kiosk", note="Self-service kiosk."
            ),
            DemoAccount(
                email="alice@demo.bms", password="demo", role="customer", note="Customer in Mumbai."
            ),
        ],
    )
    assert snap_compare(StillApp(lambda: LoginScreen(meta)), terminal_size=SMALL)


def test_browse_now_showing(snap_compare) -> None:
    assert snap_compare(StillApp(lambda: BrowseScreen(MOVIES)), terminal_size=SMALL)


def test_movie_details_with_reviews(snap_compare) -> None:
    app = StillApp(lambda: MovieScreen(MOVIES[0], reviews=REVIEWS))
    assert snap_compare(app, terminal_size=SMALL)


def test_showtimes_by_theater_with_occupancy(snap_compare) -> None:
    app = StillApp(lambda: ShowtimesScreen(MOVIES[0], shows=SHOWS))
    assert snap_compare(app, terminal_size=SMALL)


def test_seats_choosing(snap_compare) -> None:
    app = StillApp(lambda: SeatScreen(SEATS_SHOW, seatmap=SEATMAP, live=False))
    assert snap_compare(app, press=["space", "right", "space"], terminal_size=SMALL)


def test_seats_held_with_countdown(snap_compare) -> None:
    app = StillApp(
        lambda: SeatScreen(SEATS_SHOW, seatmap=SEATMAP, hold=held("F7", "F8"), live=False)
    )
    assert snap_compare(app, terminal_size=LARGE)


QUOTE = QuoteOut(
    hold_id=uid("hold"),
    show_id=SHOW_ID,
    expires_at=NOW + timedelta(minutes=9, seconds=41),
    seats=[
        SeatLine(
            seat_id=seat_id("standard-150", "F7"), label="F7", type="regular", price_minor=25000
        ),
        SeatLine(
            seat_id=seat_id("standard-150", "F8"), label="F8", type="regular", price_minor=25000
        ),
    ],
    snacks=[],
    convenience_fee_per_seat_minor=3000,
    tax_rate_bp=1800,
    coupon_code="FLAT100",
    loyalty_points_used=0,
    loyalty_points_earned=0,
    amounts=Amounts(
        currency="INR",
        seats_minor=50000,
        convenience_fee_minor=6000,
        tax_minor=10080,
        snacks_minor=0,
        discount_minor=10000,
        loyalty_minor=0,
        total_minor=56080,
    ),
    rounding="Tax is rounded half up to the paisa.",
)
BOOKING = BookingOut(
    booking_id=uid("booking"),
    code="K7Q2M9XD",
    status="CONFIRMED",
    show_id=SHOW_ID,
    movie_title=MOVIES[0].title,
    theater_name=POWAI.name,
    starts_at=SEATS_SHOW.starts_at,
    channel="box_office",
    seats=[
        BookedSeat(
            seat_id=seat_id("standard-150", label), label=label, type="regular", price_minor=25000
        )
        for label in ("F7", "F8")
    ],
    amounts=QUOTE.amounts,
    payments=[],
    change_minor=3920,
)


def test_checkout_price_coupon_and_cash(snap_compare) -> None:
    app = StillApp(lambda: CheckoutScreen(SEATS_SHOW, held("F7", "F8"), QUOTE))
    assert snap_compare(app, terminal_size=SMALL)


def test_ticket_with_qr_code(snap_compare) -> None:
    art = terminal_art("bms-ticket-K7Q2M9XD")
    app = StillApp(lambda: TicketScreen(BOOKING, art))
    assert snap_compare(app, terminal_size=LARGE)


def test_help_lists_the_keys(snap_compare) -> None:
    app = StillApp(lambda: HelpScreen(bindings.HELP_SECTIONS))
    assert snap_compare(app, terminal_size=(80, 40))


def test_kiosk_welcome(snap_compare) -> None:
    assert snap_compare(StillKiosk(WelcomeScreen), terminal_size=LARGE)


def test_kiosk_seats_high_contrast(snap_compare) -> None:
    app = StillKiosk(lambda: SeatScreen(SEATS_SHOW, seatmap=SEATMAP, hold=held("F7"), live=False))
    assert snap_compare(app, terminal_size=LARGE)


# -- the clerks' bookings desk ------------------------------------------------------------------

FOUND = BookingOut(
    **{
        **msgspec.structs.asdict(BOOKING),
        "status": "PARTIALLY_CANCELLED",
        "seats": [
            BookedSeat(
                seat_id=seat_id("standard-150", "F7"), label="F7", type="regular", price_minor=25000
            ),
            BookedSeat(
                seat_id=seat_id("standard-150", "F8"),
                label="F8",
                type="regular",
                price_minor=25000,
                status="CANCELLED",
            ),
        ],
        "amounts": msgspec.structs.replace(QUOTE.amounts, refunded_minor=24500),
        "payments": [
            PaymentOut(
                payment_id=uid("pay"),
                method="card",
                amount_minor=56080,
                status="PARTIALLY_REFUNDED",
                card_brand="visa",
                card_last4="4242",
            )
        ],
        "contact_phone": "+91 98200 12345",
        "contact_email": "asha@example.in",
    }
)
REFUNDS = [
    RefundOut(
        refund_id=uid("refund"),
        amount_minor=24500,
        destination="original",
        status="SUCCEEDED",
        reason="customer",
        created_at=NOW,
        method="card",
    )
]
SUMMARIES = [
    BookingSummary(
        code=FOUND.code,
        status=FOUND.status,
        show_id=SHOW_ID,
        movie_title=FOUND.movie_title,
        theater_name=POWAI.name,
        starts_at=FOUND.starts_at,
        seats=["F7"],
        currency="INR",
        total_minor=56080,
        refunded_minor=24500,
        contact_phone=FOUND.contact_phone,
    ),
    BookingSummary(
        code="P3W8NZ2A",
        status="CANCELLED",
        show_id=uid("old"),
        movie_title=MOVIES[1].title,
        theater_name=POWAI.name,
        starts_at=NOW - timedelta(days=3),
        seats=["D4", "D5"],
        currency="INR",
        total_minor=66080,
        refunded_minor=66080,
        contact_phone=FOUND.contact_phone,
    ),
]
REFUND_QUOTE = RefundQuote(
    code=FOUND.code,
    currency="INR",
    show_starts_at=FOUND.starts_at,
    minutes_before_show=1440,
    refund_percent=75,
    tier="75 % back: more than 4 hours before the show; the convenience fee is kept.",
    seats=[
        SeatRefundLine(
            seat_id=seat_id("standard-150", "F7"),
            label="F7",
            type="regular",
            price_minor=25000,
            refund_percent=75,
            discount_share_minor=5000,
            fee_kept_minor=3000,
            refund_minor=17700,
        )
    ],
    snacks_refund_minor=0,
    fee_kept_minor=3000,
    refund_value_minor=17700,
    loyalty_points_returned=0,
    loyalty_points_reversed=0,
    shortfall_deducted_minor=0,
    refund_minor=17700,
    refund_to="original",
    whole_booking=True,
    rounding="Half up to the paisa.",
)


def bookings_desk() -> BookingsScreen:
    return BookingsScreen("98200 12345", found=SUMMARIES, booking=FOUND, refunds=REFUNDS)


def test_bookings_desk_found_by_phone(snap_compare) -> None:
    assert snap_compare(StillApp(bookings_desk), terminal_size=LARGE)


def test_refund_quote_before_cancelling(snap_compare) -> None:
    async def quote_over_the_desk(pilot) -> None:
        await pilot.app.push_screen(RefundQuoteScreen(REFUND_QUOTE))

    app = StillApp(bookings_desk)
    assert snap_compare(app, run_before=quote_over_the_desk, terminal_size=LARGE)


def test_checkout_snacks_and_a_split_of_cash_and_card(snap_compare) -> None:
    popcorn = SnackLine(
        item_id=uid("popcorn"),
        name="Salted popcorn (regular)",
        quantity=2,
        unit_price_minor=24000,
        amount_minor=48000,
    )
    amounts = msgspec.structs.replace(QUOTE.amounts, snacks_minor=48000, total_minor=104080)
    quote = msgspec.structs.replace(QUOTE, snacks=[popcorn], amounts=amounts)

    async def split(pilot) -> None:
        pilot.app.screen.query_one("#method").value = SPLIT_CASH

    app = StillApp(lambda: CheckoutScreen(SEATS_SHOW, held("F7", "F8"), quote))
    assert snap_compare(app, run_before=split, terminal_size=LARGE)
