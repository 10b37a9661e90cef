"""Admin reports through the real app: occupancy analytics on a crafted week, the settlement
statement recomputed from the raw bookings, payments and refunds rows, and announcements
written to the notifications outbox. The helpers here build sales and refunds as checkout and
cancellation leave them (every CHECK constraint holds); tests/cli/test_admin_reports.py
shares them.

The test clock stands at 2026-11-20 09:00 UTC (14:30 in Kolkata, where the test theaters are).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.contracts.notifications import Announcement
from server.db.models import Booking, BookingSeat, Hold, Movie, Payment, Refund, Seat
from server.domain.schedule.services import ShowSpec, create_shows
from tests.factories import DEFAULT_PRICES, World, auth, make_user, make_world
from tests.integration.test_checkout import add_coupon, add_snack, book, hold_seats, pay_by_card

KOLKATA = ZoneInfo("Asia/Kolkata")
FEE_PER_SEAT = 3000  # make_world's theater
TAX_BP = 1800  # make_world's city
SOLD_STATUSES = ("CONFIRMED", "REVIEW", "PARTIALLY_CANCELLED", "CANCELLED")
TAKEN = ("CAPTURED", "PARTIALLY_REFUNDED", "REFUNDED")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# -- building sales and refunds as checkout and cancellations leave them --------------------


@dataclass
class Sale:
    booking_id: uuid.UUID
    payment_id: uuid.UUID | None
    total: int


async def sell(
    session: AsyncSession,
    world: World,
    labels: list[str],
    *,
    buyer_id: uuid.UUID,
    at: datetime,
    show_id: uuid.UUID | None = None,
    snacks: int = 0,
    discount: int = 0,
    loyalty: int = 0,
    method: str = "card",
    status: str = "CONFIRMED",
    contact_email: str | None = None,
) -> Sale:
    """A booking of these seats confirmed ``at``, priced like checkout prices it (seat prices,
    the fee per seat, 18 % tax half-up on both), paid in one part by ``method``. A REFUSED
    booking holds no seats and took no money."""
    show_id = show_id or world.show_id
    seat_ids = [world.seats[label] for label in labels]
    types = dict(
        (await session.execute(select(Seat.id, Seat.seat_type).where(Seat.id.in_(seat_ids)))).all()
    )
    seats_minor = sum(DEFAULT_PRICES[types[seat]] for seat in seat_ids)
    fee = FEE_PER_SEAT * len(seat_ids)
    tax = (2 * (seats_minor + fee) * TAX_BP + 10_000) // 20_000
    total = seats_minor + fee + tax + snacks - discount - loyalty
    hold = Hold(
        show_id=show_id,
        buyer_id=buyer_id,
        status="CONVERTED",
        channel="online",
        expires_at=at,
        created_at=at,
    )
    session.add(hold)
    await session.flush()
    booking = Booking(
        code=uuid.uuid4().hex[:10].upper(),
        user_id=buyer_id,
        show_id=show_id,
        hold_id=hold.id,
        status=status,
        channel="box_office" if method == "cash" else "online",
        currency="INR",
        seats_minor=seats_minor,
        convenience_fee_minor=fee,
        tax_minor=tax,
        discount_minor=discount,
        loyalty_minor=loyalty,
        snacks_minor=snacks,
        total_minor=total,
        contact_email=contact_email,
        created_at=at,
        confirmed_at=None if status == "REFUSED" else at,
    )
    session.add(booking)
    await session.flush()
    if status == "REFUSED":
        await session.commit()
        return Sale(booking.id, None, total)
    for seat in seat_ids:
        session.add(
            BookingSeat(
                booking_id=booking.id,
                seat_id=seat,
                show_id=show_id,
                seat_type=types[seat],
                price_minor=DEFAULT_PRICES[types[seat]],
            )
        )
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'BOOKED', booking_id = :booking"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"booking": booking.id, "show": show_id, "seats": seat_ids},
    )
    payment = Payment(
        booking_id=booking.id,
        hold_id=hold.id,
        method=method,
        gateway="cash" if method == "cash" else "simulator",
        status="CAPTURED",
        amount_minor=total,
        currency="INR",
        idempotency_key=uuid.uuid4().hex,
        created_at=at,
        captured_at=at,
    )
    session.add(payment)
    await session.commit()
    return Sale(booking.id, payment.id, total)


async def cancel(
    session: AsyncSession,
    sale: Sale,
    *,
    refund: int,
    fee_kept: int,
    at: datetime,
    status: str = "SUCCEEDED",
) -> None:
    """Cancel the whole booking ``at``: ``refund`` goes back, ``fee_kept`` stays. A FAILED
    refund changes nothing but its own row."""
    session.add(
        Refund(
            booking_id=sale.booking_id,
            payment_id=sale.payment_id,
            amount_minor=refund,
            fee_kept_minor=fee_kept,
            destination="original",
            status=status,
            reason="cancelled by the customer",
            created_at=at,
            completed_at=at if status == "SUCCEEDED" else None,
        )
    )
    if status != "FAILED":
        params = {"booking": sale.booking_id, "refund": refund, "at": at}
        for statement in (
            "UPDATE bookings SET status = 'CANCELLED', cancelled_at = :at,"
            " refunded_minor = refunded_minor + :refund WHERE id = :booking",
            "UPDATE booking_seats SET status = 'CANCELLED', cancelled_at = :at"
            " WHERE booking_id = :booking",
            "UPDATE show_seats SET status = 'AVAILABLE', booking_id = NULL"
            " WHERE booking_id = :booking",
            "UPDATE payments SET refunded_minor = refunded_minor + :refund,"
            " status = CASE WHEN refunded_minor + :refund = amount_minor THEN 'REFUNDED'"
            " ELSE 'PARTIALLY_REFUNDED' END WHERE booking_id = :booking",
        ):
            await session.execute(text(statement), params)
    await session.commit()


# -- the settlement, recomputed from raw rows ------------------------------------------------


async def recompute(
    engine: AsyncEngine, theater_id: uuid.UUID, period: str, rate_bp: int
) -> dict[str, dict[str, int]]:
    """Every figure of the statement, per local day ("2026-11-03") and "total", worked out
    in Python from whole rows of bookings, payments and refunds: an independent reading of
    the definitions in docs/admin-cli.md (local days by zoneinfo, not by SQL)."""
    async with engine.connect() as conn:
        zone = ZoneInfo(
            await conn.scalar(
                text(
                    "SELECT c.timezone FROM theaters t JOIN cities c ON c.id = t.city_id"
                    " WHERE t.id = :id"
                ),
                {"id": theater_id},
            )
        )
        ours = {
            row["id"]: row
            for row in (
                await conn.execute(
                    text(
                        "SELECT b.* FROM bookings b JOIN shows s ON s.id = b.show_id"
                        " WHERE s.theater_id = :id"
                    ),
                    {"id": theater_id},
                )
            ).mappings()
        }
        payments = (await conn.execute(text("SELECT * FROM payments"))).mappings().all()
        refunds = (await conn.execute(text("SELECT * FROM refunds"))).mappings().all()
    year, month = map(int, period.split("-"))
    days: dict[date, Counter[str]] = {}
    day = date(year, month, 1)
    while day.month == month:
        days[day] = Counter()
        day += timedelta(days=1)

    def sale_day(booking: Any) -> date | None:
        if booking["status"] not in SOLD_STATUSES:
            return None
        local = booking["confirmed_at"].astimezone(zone).date()
        return local if local in days else None

    for booking in ours.values():
        local = sale_day(booking)
        if local is None:
            continue
        figures = days[local]
        figures["bookings"] += 1
        figures["tickets_minor"] += booking["seats_minor"]
        figures["snacks_minor"] += booking["snacks_minor"]
        figures["convenience_fees_minor"] += booking["convenience_fee_minor"]
        figures["taxes_minor"] += booking["tax_minor"]
        figures["discounts_minor"] += booking["discount_minor"]
        figures["loyalty_minor"] += booking["loyalty_minor"]
        figures["collected_minor"] += booking["total_minor"]
    for payment in payments:
        paid_for = ours.get(payment["booking_id"])
        if paid_for is None or payment["method"] != "cash" or payment["status"] not in TAKEN:
            continue
        local = sale_day(paid_for)
        if local is not None:
            days[local]["cash_at_box_office_minor"] += payment["amount_minor"]
    for refund in refunds:
        local = refund["created_at"].astimezone(zone).date()
        if refund["booking_id"] in ours and refund["status"] != "FAILED" and local in days:
            days[local]["refund_count"] += 1
            days[local]["refunds_minor"] += refund["amount_minor"]
            days[local]["cancellation_fees_kept_minor"] += refund["fee_kept_minor"]
    result: dict[str, dict[str, int]] = {}
    total: Counter[str] = Counter()
    for local, figures in days.items():
        line = dict(figures)
        line["gross_sales_minor"] = figures["tickets_minor"] + figures["snacks_minor"]
        base = (
            figures["tickets_minor"]
            - figures["discounts_minor"]
            - figures["loyalty_minor"]
            - figures["refunds_minor"]
        )
        line["net_ticket_revenue_minor"] = base
        exact = Decimal(base) * rate_bp / 10_000
        line["commission_minor"] = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        line["net_payable_minor"] = (
            figures["collected_minor"]
            - figures["refunds_minor"]
            - line["commission_minor"]
            - figures["cash_at_box_office_minor"]
        )
        result[local.isoformat()] = line
        total.update(line)
    result["total"] = dict(total)
    return result


def as_printed(statement: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The statement's days and total keyed like :func:`recompute`, zero figures left out
    (as a Counter leaves them)."""
    lines = {day["date"]: day for day in statement["days"]} | {"total": statement["total"]}
    return {
        key: {k: v for k, v in line.items() if k != "date" and v != 0}
        for key, line in lines.items()
    }


def nonzero(expected: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {key: {k: v for k, v in line.items() if v != 0} for key, line in expected.items()}


async def taken_payments(engine: AsyncEngine, booking_ids: list[uuid.UUID]) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT COALESCE(sum(amount_minor), 0) FROM payments"
                    " WHERE booking_id = ANY(:ids) AND status = ANY(:taken)"
                ),
                {"ids": booking_ids, "taken": list(TAKEN)},
            )
        )


@dataclass
class Month:
    """November's sales of a Kolkata theater, crafted around local midnights."""

    world: World
    other: World
    buyer_id: uuid.UUID
    sold: list[uuid.UUID]  # bookings sold in November, local time


async def november(session: AsyncSession) -> Month:
    world = await make_world(session, starts_at=utc(25, 12), shows=2)
    other = await make_world(session, starts_at=utc(25, 12), name_suffix=" South")
    buyer, _ = await make_user(session)
    b = buyer.id
    early = await sell(session, world, ["A1", "A2"], buyer_id=b, at=utc(3, 10))
    # 19:00 UTC on the 3rd is 00:30 on the 4th in Kolkata.
    late = await sell(
        session, world, ["G1"], buyer_id=b, at=utc(3, 19), snacks=15000, discount=4000, loyalty=1200
    )
    cash = await sell(session, world, ["B1", "B2", "B3"], buyer_id=b, at=utc(4, 12), method="cash")
    # 23:50 on 31 October in Kolkata: October's sale, November's refund.
    october = await sell(session, world, ["C1"], buyer_id=b, at=utc(31, 18, 20, month=10))
    # 00:10 on 1 December in Kolkata: not November's.
    await sell(session, world, ["C2"], buyer_id=b, at=utc(30, 18, 40))
    await sell(session, world, ["D1"], buyer_id=b, at=utc(5, 9), status="REFUSED")
    await sell(session, other, ["A1"], buyer_id=b, at=utc(3, 10))  # another theater's
    # 20:00 UTC on the 4th is 01:30 on the 5th in Kolkata.
    await cancel(session, early, refund=25000, fee_kept=early.total - 25000, at=utc(4, 20))
    await cancel(session, october, refund=14750, fee_kept=16250, at=utc(5, 6))
    await cancel(session, cash, refund=1, fee_kept=0, at=utc(6, 6), status="FAILED")
    return Month(world, other, b, [early.booking_id, late.booking_id, cash.booking_id])


# -- analytics --------------------------------------------------------------------------------


@dataclass
class Week:
    world: World
    manager_token: str
    shows: list[uuid.UUID]  # Sat 09:00, 12:00, 15:00 and Sun 20:00, local


def whole_rows(letters: str) -> list[str]:
    """Every seat of these rows of standard-150 (15 a row, but K)."""
    return [f"{letter}{number}" for letter in letters for number in range(1, 16)]


async def crafted_week(session: AsyncSession) -> Week:
    """Four shows on Sat 21 and Sun 22 November (Kolkata), one of them of a second movie,
    with known sales; a cancelled show and one outside the dates that must not count."""
    world = await make_world(session, starts_at=utc(21, 3, 30), shows=3)  # from 09:00 local
    movie = Movie(
        title="Second Feature",
        genres=["Comedy"],
        languages=["English"],
        duration_minutes=100,
        certification="U",
        release_date=date(2026, 11, 1),
    )
    session.add(movie)
    await session.flush()
    sunday, cancelled, later = await create_shows(
        session,
        [
            ShowSpec(
                movie_id=movie.id,
                screen_id=world.screen_id,
                theater_id=world.theater_id,
                starts_at=start,
                duration_minutes=100,
                language="English",
                format="2D",
                prices=dict(DEFAULT_PRICES),
            )
            for start in (utc(22, 14, 30), utc(23, 4, 30), utc(28, 4, 30))
        ],
    )
    await session.execute(
        text("UPDATE shows SET status = 'CANCELLED' WHERE id = :id"), {"id": cancelled}
    )
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'UNAVAILABLE', unavailable_reason = 'repairs'"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"show": world.show_ids[0], "seats": [world.seats[f"C{n}"] for n in range(1, 11)]},
    )
    buyer, _ = await make_user(session)
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    at = utc(20, 8)
    b = buyer.id
    await sell(session, world, whole_rows("AB"), buyer_id=b, at=at, show_id=world.show_ids[0])
    await sell(session, world, whole_rows("G"), buyer_id=b, at=at, show_id=world.show_ids[1])
    refunded = await sell(
        session, world, ["H1", "H2"], buyer_id=b, at=at, show_id=world.show_ids[1]
    )
    await cancel(session, refunded, refund=80000, fee_kept=refunded.total - 80000, at=at)
    await sell(session, world, whole_rows("ABCDE"), buyer_id=b, at=at, show_id=sunday)
    await sell(session, world, ["J1"], buyer_id=b, at=at, show_id=later)
    return Week(world, manager, [*world.show_ids, sunday])


async def test_analytics_of_a_crafted_week(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    week = await crafted_week(session)
    params = {"theater_id": str(week.world.theater_id), "from": "2026-11-21", "to": "2026-11-23"}

    def get(**extra: str) -> Any:
        return client.get(
            "/api/v1/admin/analytics", params=params | extra, headers=auth(week.manager_token)
        )

    report = ok(await get())
    assert (report["date_from"], report["date_to"], report["by"]) == (
        "2026-11-21",
        "2026-11-23",
        "day",
    )
    assert report["theater"]["currency_decimals"] == 2
    totals = report["totals"]
    assert (totals["shows"], totals["sellable_seats"], totals["booked_seats"]) == (4, 590, 120)
    assert totals["occupancy_percent"] == 20.3
    async with engine.connect() as conn:
        tickets, revenue = (
            await conn.execute(
                text(
                    "SELECT (SELECT sum(price_minor) FROM booking_seats"
                    "         WHERE status = 'ACTIVE' AND show_id = ANY(:shows)),"
                    "       (SELECT sum(total_minor - refunded_minor) FROM bookings"
                    "         WHERE show_id = ANY(:shows))"
                ),
                {"shows": week.shows},
            )
        ).one()
    assert (totals["tickets_minor"], totals["revenue_minor"]) == (tickets, revenue)
    # The refunded pair of premium seats is not a ticket any more, but its kept fee is revenue.
    assert tickets == (30 + 75) * 25000 + 15 * 40000

    def table(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (r["label"], r["shows"], r["sellable_seats"], r["booked_seats"], r["occupancy_percent"])
            for r in rows
        ]

    assert table(report["groups"]) == [
        ("Sat 2026-11-21", 3, 440, 45, 10.2),
        ("Sun 2026-11-22", 1, 150, 75, 50.0),
    ]
    assert [g["key"] for g in report["groups"]] == ["2026-11-21", "2026-11-22"]
    assert table(report["top_movies"]) == [
        ("Second Feature", 1, 150, 75, 50.0),
        ("Test Movie", 3, 440, 45, 10.2),
    ]
    assert table(report["top_times"]) == [
        ("20:00", 1, 150, 75, 50.0),
        ("09:00", 1, 140, 30, 21.4),
        ("12:00", 1, 150, 15, 10.0),
        ("15:00", 1, 150, 0, 0.0),
    ]
    heat = [(c["weekday"], c["hour"], c["occupancy_percent"]) for c in report["heatmap"]]
    assert heat == [(6, 9, 21.4), (6, 12, 10.0), (6, 15, 0.0), (7, 20, 50.0)]

    by_slot = ok(await get(by="slot"))["groups"]
    assert table(by_slot) == [
        ("morning 06–12", 1, 140, 30, 21.4),
        ("afternoon 12–17", 2, 300, 15, 5.0),
        ("evening 17–21", 1, 150, 75, 50.0),
    ]
    by_screen = ok(await get(by="screen"))["groups"]
    assert table(by_screen) == [("Screen 1", 4, 590, 120, 20.3)]
    assert by_screen[0]["key"] == str(week.world.screen_id)
    by_show = ok(await get(by="show"))["groups"]
    assert [g["key"] for g in by_show] == [str(s) for s in week.shows]
    assert by_show[0]["label"] == "2026-11-21 09:00  Screen 1  Test Movie"
    assert sum(g["revenue_minor"] for g in by_show) == revenue

    default = ok(
        await client.get(
            "/api/v1/admin/analytics",
            params={"theater_id": params["theater_id"]},
            headers=auth(week.manager_token),
        )
    )
    assert (default["date_from"], default["date_to"], default["groups"]) == (
        "2026-10-22",
        "2026-11-20",
        [],
    )
    assert default["totals"]["shows"] == 0


async def test_analytics_refuses_others_and_bad_ranges(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    week = await crafted_week(session)
    stranger = await make_world(session, starts_at=utc(25, 12), name_suffix=" South")
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[week.world.theater_id])
    url = "/api/v1/admin/analytics"

    def params(theater: uuid.UUID, **extra: str) -> dict[str, str]:
        return {"theater_id": str(theater), **extra}

    refused = await client.get(
        url, params=params(stranger.theater_id), headers=auth(week.manager_token)
    )
    assert (refused.status_code, refused.json()["detail"]) == (
        403,
        "That theater is not one of yours.",
    )
    assert (
        await client.get(url, params=params(week.world.theater_id), headers=auth(clerk))
    ).status_code == 403
    missing = await client.get(url, params=params(uuid.uuid4()), headers=auth(week.manager_token))
    assert missing.status_code == 404
    backwards = await client.get(
        url,
        params=params(week.world.theater_id, **{"from": "2026-11-23", "to": "2026-11-21"}),
        headers=auth(week.manager_token),
    )
    assert (backwards.status_code, backwards.json()["detail"]) == (
        422,
        "'to' (2026-11-21) is before 'from' (2026-11-23); swap them.",
    )
    too_long = await client.get(
        url,
        params=params(week.world.theater_id, **{"from": "2025-01-01", "to": "2026-11-21"}),
        headers=auth(week.manager_token),
    )
    assert too_long.status_code == 422
    odd = await client.get(
        url, params=params(week.world.theater_id, by="month"), headers=auth(week.manager_token)
    )
    assert odd.status_code == 400


# -- settlement -------------------------------------------------------------------------------


async def test_settlement_adds_up_to_the_raw_rows(
    client: AsyncTestClient,
    session: AsyncSession,
    engine: AsyncEngine,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    month = await november(session)
    # And one real checkout now (14:30 on the 20th, local): coupon, snacks and a card.
    coupon = await add_coupon(session, clock)
    popcorn = await add_snack(session, month.world, "Popcorn", 18050)
    _, token = await make_user(session)
    hold_id = await hold_seats(client, auth(token), month.world, "J1", "J2")
    extra: dict[str, Any] = {
        "coupon_code": coupon.code,
        "snacks": [{"item_id": str(popcorn.id), "quantity": 2}],
    }
    booked = ok(await book(client, auth(token), hold_id, [pay_by_card()], **extra), 201)
    amounts = booked["amounts"]
    assert amounts["discount_minor"] > 0 and amounts["snacks_minor"] == 36100
    # The buyer gives one seat back through the real cancellation (refund rows, fee kept).
    cancelled = ok(
        await client.post(
            f"/api/v1/bookings/{booked['code']}/cancel",
            json={"seat_ids": [str(month.world.seats["J2"])], "confirm": True},
            headers=auth(token) | {"Idempotency-Key": "give-back-j2"},
        )
    )
    assert cancelled["booking_status"] == "PARTIALLY_CANCELLED"
    assert cancelled["amounts"]["refunded_minor"] > 0
    _, manager = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[month.world.theater_id]
    )
    monkeypatch.setenv("BMS_PLATFORM_COMMISSION_BP", "1250")

    statement = ok(
        await client.get(
            "/api/v1/admin/settlement",
            params={"theater_id": str(month.world.theater_id), "period": "2026-11"},
            headers=auth(manager),
        )
    )

    assert statement["commission_rate_bp"] == 1250
    assert (statement["period"], len(statement["days"])) == ("2026-11", 30)
    assert statement["period_start"] == "2026-11-01T00:00:00+05:30"
    assert statement["period_end"] == "2026-12-01T00:00:00+05:30"
    assert statement["provisional"] is True  # the clock says 20 November
    expected = await recompute(engine, month.world.theater_id, "2026-11", 1250)
    assert as_printed(statement) == nonzero(expected)
    days = {day["date"]: day for day in statement["days"]}
    assert (days["2026-11-03"]["bookings"], days["2026-11-04"]["bookings"]) == (1, 2)
    assert days["2026-11-05"]["refund_count"] == 2  # 01:30 local, and October's sale
    assert days["2026-11-04"]["cash_at_box_office_minor"] == 3 * 25000 + 3 * 3000 + 15120
    assert days["2026-11-20"]["discounts_minor"] == amounts["discount_minor"]
    assert days["2026-11-20"]["refunds_minor"] == cancelled["amounts"]["refunded_minor"]
    # The FAILED refund of the 6th returned nothing: not in refunds, flagged as still owed.
    assert days["2026-11-06"]["refund_count"] == 0
    assert (statement["refunds_failed"], statement["refunds_failed_minor"]) == (1, 1)
    # Consistent with the payments table: what buyers paid for the month's sales.
    booking_ids = [*month.sold, uuid.UUID(booked["booking_id"])]
    assert statement["total"]["collected_minor"] == await taken_payments(engine, booking_ids)
    total = statement["total"]
    assert total["net_payable_minor"] == (
        total["collected_minor"]
        - total["refunds_minor"]
        - total["commission_minor"]
        - total["cash_at_box_office_minor"]
    )


async def test_settlement_refusals(
    client: AsyncTestClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    month = await november(session)
    _, manager = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[month.world.theater_id]
    )

    async def settle(theater: uuid.UUID, period: str = "2026-11") -> Any:
        return await client.get(
            "/api/v1/admin/settlement",
            params={"theater_id": str(theater), "period": period},
            headers=auth(manager),
        )

    assert (await settle(month.other.theater_id)).status_code == 403
    for period in ("2026-13", "2026-1", "November", "0000-01", "9999-12"):
        answer = await settle(month.world.theater_id, period)
        assert answer.status_code == 422, period
        assert "write YYYY-MM from 0001-01 to 9998-12, e.g. 2026-11" in answer.json()["detail"]
    first = (await settle(month.world.theater_id, "0001-01")).json()
    assert first["period"] == "0001-01"  # four digits, as it was asked for
    october = (await settle(month.world.theater_id, "2026-10")).json()
    assert october["provisional"] is False
    assert (october["total"]["bookings"], october["total"]["refunds_minor"]) == (1, 0)
    monkeypatch.setenv("BMS_PLATFORM_COMMISSION_BP", "ten percent")
    broken = await settle(month.world.theater_id)
    assert broken.status_code == 503
    assert "BMS_PLATFORM_COMMISSION_BP='ten percent'" in broken.json()["detail"]


# -- announcements ----------------------------------------------------------------------------


async def test_announcement_reaches_each_shows_audience_through_the_outbox(
    client: AsyncTestClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    world = await make_world(session, starts_at=utc(21, 12), shows=3)
    other = await make_world(session, starts_at=utc(21, 12), name_suffix=" South")
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id])
    ann, _ = await make_user(session)
    ben, _ = await make_user(session)
    clerk, _ = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    first, second, third = world.show_ids
    at = utc(20, 8)
    await sell(session, world, ["A1"], buyer_id=ann.id, at=at, show_id=first)
    await sell(session, world, ["A2"], buyer_id=ann.id, at=at, show_id=first)  # same person
    await sell(session, world, ["A3"], buyer_id=ben.id, at=at, show_id=first)
    await sell(session, world, ["A4"], buyer_id=clerk.id, at=at, show_id=first, method="cash")
    await sell(
        session,
        world,
        ["A5"],
        buyer_id=clerk.id,
        at=at,
        show_id=first,
        method="cash",
        contact_email="walkup@example.test",
    )
    gone = await sell(session, world, ["A1"], buyer_id=ben.id, at=at, show_id=second)
    await cancel(session, gone, refund=gone.total, fee_kept=0, at=at)
    await sell(session, world, ["A1"], buyer_id=ann.id, at=at, show_id=third)
    url = "/api/v1/admin/announcements"
    body = {
        "theater_id": str(world.theater_id),
        "date_from": "2026-11-21",
        "message": "  The lifts are out; use the east stairs.  ",
        "dry_run": True,
    }

    dry = ok(await client.post(url, json=body, headers=auth(manager)))
    shows = [(s["show_id"], s["bookings"], s["customers"], s["unreachable"]) for s in dry["shows"]]
    assert shows == [(str(first), 5, 3, 1), (str(second), 0, 0, 0), (str(third), 1, 1, 0)]
    assert (dry["bookings"], dry["customers"], dry["unreachable"]) == (6, 3, 1)  # Ann once
    assert (dry["applied"], dry["events"], dry["subject"]) == (
        False,
        0,
        "A message about your show",
    )
    assert dry["shows"][0]["starts_local"] == "2026-11-21 17:30"

    sent = ok(
        await client.post(
            url, json=body | {"dry_run": False, "subject": "Lifts"}, headers=auth(manager)
        )
    )
    assert (sent["applied"], sent["events"], sent["customers"]) == (True, 2, 3)
    async with engine.connect() as conn:
        events = (
            await conn.execute(
                text("SELECT topic, payload FROM outbox WHERE topic = 'announcement' ORDER BY id")
            )
        ).all()
        audit = (
            await conn.execute(
                text("SELECT action, detail FROM audit_log WHERE action = 'announcement.sent'")
            )
        ).all()
    payloads = [msgspec.convert(payload, Announcement) for _, payload in events]
    assert [(p.show_id, p.subject, p.message) for p in payloads] == [
        (first, "Lifts", "The lifts are out; use the east stairs."),
        (third, "Lifts", "The lifts are out; use the east stairs."),
    ]
    assert len(audit) == 1 and audit[0].detail["customers"] == 3

    by_show = ok(
        await client.post(
            url,
            json={"show_ids": [str(third)], "message": "Hi", "dry_run": True},
            headers=auth(manager),
        )
    )
    assert (by_show["customers"], len(by_show["shows"])) == (1, 1)
    foreign = await client.post(
        url, json={"show_ids": [str(other.show_id)], "message": "Hi"}, headers=auth(manager)
    )
    assert foreign.status_code == 403
    unknown = await client.post(
        url, json={"show_ids": [str(uuid.uuid4())], "message": "Hi"}, headers=auth(manager)
    )
    assert unknown.status_code == 404
    for wrong in (
        {"message": "Hi"},
        {"message": "Hi", "show_ids": [str(first)], "theater_id": str(world.theater_id)},
        {"message": "   ", "show_ids": [str(first)]},
        {"message": "Hi", "theater_id": str(world.theater_id)},
    ):
        answer = await client.post(url, json=wrong, headers=auth(manager))
        assert answer.status_code == 422, wrong
    async with engine.connect() as conn:
        assert (
            await conn.scalar(text("SELECT count(*) FROM outbox WHERE topic = 'announcement'")) == 2
        )
