"""The admin API through the real app: theaters, screens, layout imports, movies, bulk
schedules, prices and dynamic pricing, seat repairs, and the theater-admin scope everywhere.

The test clock stands at 2026-11-20 09:00 UTC (14:30 in Kolkata, where the test theaters are).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.channels import ChannelsPlugin
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.api import SeatEvent
from server.contracts.enums import Role
from server.db.models import Booking, BookingSeat, Hold, HoldSeat, Seat, Show
from server.domain.admin.repairs import destination, unit_of
from server.domain.schedule.services import ShowSpec, create_shows
from server.layouts import load_layout
from tests.factories import DEFAULT_PRICES, LAYOUTS, World, auth, make_user, make_world

STANDARD = (LAYOUTS / "standard-150.layout").read_text()
# Prices for exactly the seat types of standard-150.
STANDARD_PRICES = {t: DEFAULT_PRICES[t] for t in ("regular", "premium", "wheelchair", "companion")}
TINY = "layout: Tiny\nscreen: top\nA | RRRR |\nB | PPPP |\n"


@dataclass
class Cast:
    north: World
    south: World
    root: dict[str, str]  # platform admin headers
    manager: dict[str, str]  # North's theater admin
    clerk: dict[str, str]  # North's clerk
    buyer: dict[str, str]
    buyer_id: uuid.UUID


@pytest.fixture
async def cast(session: AsyncSession, clock: FrozenClock) -> Cast:
    tomorrow = clock.now() + timedelta(days=1)
    north = await make_world(session, starts_at=tomorrow, shows=2, name_suffix=" North")
    south = await make_world(session, starts_at=tomorrow, name_suffix=" South")
    _, root = await make_user(session, role=Role.PLATFORM_ADMIN)
    _, manager = await make_user(session, role=Role.THEATER_ADMIN, theater_ids=[north.theater_id])
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[north.theater_id])
    buyer, buyer_token = await make_user(session)
    return Cast(north, south, auth(root), auth(manager), auth(clerk), auth(buyer_token), buyer.id)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["detail"])


async def sell(
    session: AsyncSession, show_id: uuid.UUID, seat_ids: list[uuid.UUID], buyer_id: uuid.UUID
) -> Booking:
    """A confirmed booking of these seats at 250.00 each, as checkout leaves one."""
    hold = Hold(
        show_id=show_id,
        buyer_id=buyer_id,
        status="CONVERTED",
        channel="online",
        expires_at=datetime(2026, 11, 20, 9, 10, tzinfo=UTC),
    )
    session.add(hold)
    await session.flush()
    total = 25000 * len(seat_ids)
    booking = Booking(
        code=uuid.uuid4().hex[:8].upper(),
        user_id=buyer_id,
        show_id=show_id,
        hold_id=hold.id,
        status="CONFIRMED",
        channel="online",
        currency="INR",
        seats_minor=total,
        total_minor=total,
    )
    session.add(booking)
    await session.flush()
    for seat_id in seat_ids:
        seat_type = await session.scalar(select(Seat.seat_type).where(Seat.id == seat_id))
        session.add(
            HoldSeat(hold_id=hold.id, seat_id=seat_id, seat_type=seat_type, price_minor=25000)
        )
        session.add(
            BookingSeat(
                booking_id=booking.id,
                seat_id=seat_id,
                show_id=show_id,
                seat_type=seat_type,
                price_minor=25000,
            )
        )
    await session.execute(
        text(
            "UPDATE show_seats SET status = 'BOOKED', booking_id = :booking"
            " WHERE show_id = :show AND seat_id = ANY(:seats)"
        ),
        {"booking": booking.id, "show": show_id, "seats": seat_ids},
    )
    await session.commit()
    return booking


async def hold(client: AsyncTestClient, cast: Cast, show_id: uuid.UUID, *seats: uuid.UUID) -> dict:
    response = await client.post(
        f"/api/v1/shows/{show_id}/holds",
        json={"seat_ids": [str(s) for s in seats]},
        headers=cast.buyer,
    )
    return ok(response, 201)


async def statuses(session: AsyncSession, show_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        text("SELECT seat_id, status FROM show_seats WHERE show_id = :show"), {"show": show_id}
    )
    return {key: value for key, value in rows}


# -- theaters -------------------------------------------------------------------------------


async def test_platform_admin_creates_theaters_and_theater_admins_set_policies(
    client: AsyncTestClient, cast: Cast
) -> None:
    body = {
        "name": "Harbour Screens",
        "city": "Testville North",
        "address": "2 Quay Road",
        "latitude": 19.0,
        "longitude": 72.8,
        "facilities": ["parking", " parking", "lift"],
    }
    refused = await client.post("/api/v1/admin/theaters", json=body, headers=cast.manager)
    assert "platform_admin" in problem(refused, 403)
    created = ok(await client.post("/api/v1/admin/theaters", json=body, headers=cast.root), 201)
    assert created["facilities"] == ["parking", "lift"]
    assert (created["hold_minutes"], created["timezone"], created["currency"]) == (
        10, "Asia/Kolkata", "INR"
    )  # fmt: skip
    again = await client.post("/api/v1/admin/theaters", json=body, headers=cast.root)
    assert "already exists" in problem(again, 409)

    url = f"/api/v1/admin/theaters/{cast.north.theater_id}"
    policy = {
        "hold_minutes": 12,
        "cleaning_minutes": 25,
        "convenience_fee_minor": 2500,
        "accessible_release_minutes": 30,
        "facilities": ["IMAX", "parking"],
        "cancellation_policy": {
            "tiers": [
                {"min_hours_before": 2, "refund_percent": 25},
                {"min_hours_before": 48, "refund_percent": 100},
            ],
            "convenience_fee_refundable": True,
        },
    }
    updated = ok(await client.patch(url, json=policy, headers=cast.manager))
    assert updated["hold_minutes"] == 12 and updated["cleaning_minutes"] == 25
    assert updated["accessible_release_minutes"] == 30
    assert [t["min_hours_before"] for t in updated["cancellation_policy"]["tiers"]] == [48, 2]
    assert updated["name"] == "Test Cinema North"  # untouched fields stay
    assert [s["name"] for s in updated["screens"]] == ["Screen 1"]

    too_long = await client.patch(url, json={"hold_minutes": 20}, headers=cast.manager)
    assert problem(too_long, 422) == "hold_minutes must be from 10 to 15; 20 is not."
    generous = {"tiers": [{"min_hours_before": 24, "refund_percent": 50},
                          {"min_hours_before": 2, "refund_percent": 80}]}  # fmt: skip
    rising = await client.patch(url, json={"cancellation_policy": generous}, headers=cast.manager)
    assert "cannot get a bigger refund" in problem(rising, 422)
    listed = ok(await client.get("/api/v1/admin/theaters", headers=cast.manager))
    assert [t["name"] for t in listed] == ["Test Cinema North"]
    everyone = ok(await client.get("/api/v1/admin/theaters", headers=cast.root))
    assert len(everyone) == 3


# -- screens and layouts --------------------------------------------------------------------


async def test_screens_come_from_layout_text_with_located_errors(
    client: AsyncTestClient, cast: Cast
) -> None:
    body = {
        "theater_id": str(cast.north.theater_id),
        "name": "Studio",
        "formats": ["imax", "2d"],
        "layout": TINY,
        "source": "tiny.layout",
    }
    screen = ok(await client.post("/api/v1/admin/screens", json=body, headers=cast.manager), 201)
    assert screen["formats"] == ["IMAX", "2D"]
    assert screen["seats_by_type"] == {"regular": 4, "premium": 4}
    broken = {**body, "name": "Broken", "layout": "layout: X\nscreen: top\nA | RRXR |\n"}
    response = await client.post("/api/v1/admin/screens", json=broken, headers=cast.manager)
    detail = problem(response, 422)
    assert "tiny.layout:3:7: unknown seat code 'X'" in detail
    assert [(i["line"], i["column"]) for i in response.json()["issues"]] == [(3, 7)]

    url = f"/api/v1/admin/screens/{cast.north.screen_id}"
    # Adding a format (or sending the same ones again) never asks about the future shows.
    added = ok(await client.patch(url, json={"formats": ["2D", "3D", "IMAX"], "name": "Screen 1"},
                                  headers=cast.manager))  # fmt: skip
    assert added["formats"] == ["2D", "3D", "IMAX"]
    dropped_3d = ok(await client.patch(url, json={"formats": ["2D"]}, headers=cast.manager))
    assert dropped_3d["formats"] == ["2D"]
    in_use = await client.patch(url, json={"formats": ["3D"]}, headers=cast.manager)
    assert problem(in_use, 409).startswith("2 future show(s) on this screen are in 2D")
    layout = ok(await client.get(f"{url}/layout", headers=cast.manager))
    assert layout["source"] == STANDARD and layout["layout_name"] == "Standard 150"


async def test_layout_import_adds_retires_restores_and_refuses_over_sold_seats(
    client: AsyncTestClient, session: AsyncSession, cast: Cast, clock: FrozenClock
) -> None:
    world = cast.north
    shorter_b = STANDARD.replace("B | RRRR..RRRRRRRRRRR |", "B | RRRR..RRRRRRRRR   |")
    new = shorter_b.replace("A | RRRR..RRRRRRRRRRR |", "A | RRRR..RRRRRRRRRRRRR |")
    url = f"/api/v1/admin/screens/{world.screen_id}/layout"
    await sell(session, world.show_ids[0], [world.seats["B15"]], cast.buyer_id)
    await hold(client, cast, world.show_ids[1], world.seats["B14"])

    preview = ok(
        await client.post(url, json={"layout": new, "dry_run": True}, headers=cast.manager)
    )
    assert (preview["added"], preview["retired"], preview["applied"]) == (
        ["A16", "A17"], ["B14", "B15"], False
    )  # fmt: skip
    assert [c["seats"] for c in preview["conflicts"]] == [["B15 booked"], ["B14 held"]]
    refused = problem(await client.post(url, json={"layout": new}, headers=cast.manager), 409)
    assert refused.startswith("Refused: 2 future show(s) have sold or held seats")
    assert "B15 booked" in refused and "B14 held" in refused

    clock.advance(minutes=11)  # the hold runs out; the sale stays
    await session.execute(
        text("UPDATE show_seats SET status = 'AVAILABLE', booking_id = NULL WHERE seat_id = :s"),
        {"s": world.seats["B15"]},
    )
    await session.commit()
    done = ok(await client.post(url, json={"layout": new}, headers=cast.manager))
    assert done["applied"] and done["future_shows"] == 2 and done["seats_total"] == 150
    seat_map = ok(await client.get(f"/api/v1/shows/{world.show_ids[1]}/seatmap"))
    labels = {seat["label"] for seat in seat_map["seats"]}
    assert {"A16", "A17"} <= labels and not {"B14", "B15"} & labels
    retired = await session.scalars(select(Seat.label).where(Seat.retired.is_(True)))
    assert sorted(retired) == ["B14", "B15"]

    back = ok(await client.post(url, json={"layout": STANDARD}, headers=cast.manager))
    assert (back["restored"], back["retired"]) == (["B14", "B15"], ["A16", "A17"])
    again = await statuses(session, world.show_ids[0])
    assert again[world.seats["B15"]] == "AVAILABLE"


async def test_a_layout_with_a_new_seat_type_needs_its_price(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    url = f"/api/v1/admin/screens/{cast.south.screen_id}/layout"
    # Every show of the factory has every seat type priced: start from one that lacks couple.
    show = await session.get(Show, cast.south.show_id)
    assert show is not None
    show.prices = {k: v for k, v in DEFAULT_PRICES.items() if k != "couple"}
    await session.commit()
    with_couples = STANDARD.replace("J | RRRR..RRRRRRRRRRR |", "J | CCCC..RRRRRRRRRRR |")
    unpriced = await client.post(url, json={"layout": with_couples}, headers=cast.root)
    assert "--price couple=250.00 (major units of INR)" in problem(unpriced, 422)
    priced = {"layout": with_couples, "prices": {"couple": "499.50"}}
    done = ok(await client.post(url, json=priced, headers=cast.root))
    assert done["prices_added"] == {"couple": 49950}
    assert sorted(done["changed"]) == ["J1", "J2", "J3", "J4"]
    await session.refresh(show)
    assert show.prices["couple"] == 49950


# -- movies ---------------------------------------------------------------------------------


async def test_movies_add_update_and_import_all_or_nothing(
    client: AsyncTestClient, cast: Cast
) -> None:
    movie = {
        "title": "Paper Moons",
        "languages": ["Hindi", "English"],
        "duration_minutes": 131,
        "certification": "UA",
        "release_date": "2026-12-04",
        "genres": ["Drama"],
    }
    refused = await client.post("/api/v1/admin/movies", json=movie, headers=cast.manager)
    assert problem(refused, 403).startswith("This needs one of the roles platform_admin")
    created = ok(await client.post("/api/v1/admin/movies", json=movie, headers=cast.root), 201)
    duplicate = await client.post("/api/v1/admin/movies", json=movie, headers=cast.root)
    assert "already exists" in problem(duplicate, 409)
    url = f"/api/v1/admin/movies/{created['movie_id']}"
    changed = ok(await client.patch(url, json={"duration_minutes": 135}, headers=cast.root))
    assert changed["duration_minutes"] == 135 and changed["languages"] == ["Hindi", "English"]
    bad = await client.patch(url, json={"duration_minutes": 0, "title": " "}, headers=cast.root)
    assert problem(bad, 422) == (
        "title: give a title of 1 to 300 characters; duration_minutes: give the running time "
        "in minutes, 1 to 600."
    )
    # A movie with future shows: any change that keeps its languages goes through.
    scheduled = f"/api/v1/admin/movies/{cast.north.movie_id}"
    longer = ok(await client.patch(scheduled, json={"duration_minutes": 149}, headers=cast.root))
    assert longer["duration_minutes"] == 149
    respelled = await client.patch(scheduled, json={"languages": ["english", "ENGLISH"]},
                                   headers=cast.root)  # fmt: skip
    assert ok(respelled)["languages"] == ["english"]  # one language, whatever its case
    dropped = await client.patch(scheduled, json={"languages": ["Hindi"]}, headers=cast.root)
    assert problem(dropped, 409).startswith("2 future show(s) of this movie are in english;")

    rows = [
        {**movie, "row": 2, "synopsis": "Now with a synopsis."},
        {**movie, "row": 3, "title": "Broken Reel", "languages": []},
        {**movie, "row": 4, "title": "Glass Rivers"},
        {**movie, "row": 5, "title": "Glass Rivers"},
    ]
    report = ok(await client.post("/api/v1/admin/movies/import", json={"movies": rows},
                                  headers=cast.root))  # fmt: skip
    assert report["applied"] is False
    assert [(p["row"], p["column"]) for p in report["problems"]] == [
        (3, "languages"),
        (5, "title"),
    ]
    good = {"movies": [rows[0], rows[2]]}
    imported = ok(await client.post("/api/v1/admin/movies/import", json=good, headers=cast.root))
    assert (imported["applied"], imported["created"], imported["updated"]) == (True, 1, 1)
    titles = ok(await client.get("/api/v1/movies", params={"q": "Paper Moons"}))
    assert titles[0]["synopsis"] == "Now with a synopsis."


# -- bulk schedules -------------------------------------------------------------------------


def row(world: World, number: int, starts_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "row": number,
        "movie": f"Test Movie{fields.pop('suffix', ' North')}",
        "theater": "Test Cinema North",
        "screen": "Screen 1",
        "starts_at": starts_at,
        "language": "english",
        "format": "2d",
        "prices_minor": dict(STANDARD_PRICES),
        **fields,
    }


async def test_upload_reports_every_problem_by_row_and_column(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    north = cast.north
    await session.execute(
        text("UPDATE cities SET timezone = 'Europe/London', currency = 'GBP' WHERE id = :c"),
        {"c": north.city_id},
    )
    await session.commit()
    # North's shows start 2026-11-21 09:00 and 12:00 UTC (London wall time), 120 min + 15.
    no_regular = {k: v for k, v in STANDARD_PRICES.items() if k != "regular"}
    rows = [
        row(north, 2, "2026-11-22 10:00"),  # fine
        row(north, 3, "2026-11-21 13:00"),  # clashes with the 12:00 show (ends 14:15)
        row(north, 4, "2026-11-22 12:00"),  # clashes with row 2 (ends 12:15)
        row(north, 5, "2027-03-28 01:30"),  # the clocks skip this hour
        row(north, 6, "2027-10-31 01:30"),  # and pass this one twice
        row(north, 7, "2026-11-23 10:00", language="Tamil", format="IMAX"),
        row(north, 8, "2026-11-23 14:00", prices_minor=no_regular),
        row(north, 9, "2026-11-23 18:00", prices={"couple": "12.505"}, prices_minor={}),
        row(north, 10, "2026-11-19 10:00", sale_opens_at="2026-11-24 10:00"),
        row(north, 11, "tomorrow", movie="Nope", screen="Screen 9"),
    ]
    report = ok(await client.post("/api/v1/admin/schedule/uploads", json={"rows": rows},
                                  headers=cast.manager))  # fmt: skip
    assert (report["rows"], report["valid"], report["applied"]) == (10, 1, False)
    found = [(p["row"], p["column"], p["reason"]) for p in report["problems"]]
    assert found[:2] == [
        (3, "starts_at", "overlaps the scheduled show of 'Test Movie North' "
                         "(2026-11-21 12:00 until 14:15 with cleaning)"),
        (4, "starts_at", "overlaps row 2 ('Test Movie North', 2026-11-22 10:00 until 12:15 "
                         "with cleaning)"),
    ]  # fmt: skip
    assert found[2][:2] == (5, "starts_at") and "does not exist in Europe/London" in found[2][2]
    assert found[3][:2] == (6, "starts_at") and "happens twice in Europe/London" in found[3][2]
    assert found[4:6] == [
        (7, "language", "'Tamil' is not a language of 'Test Movie North' (English)"),
        (7, "format", "'IMAX' is not a format of screen 'Screen 1' (2D, 3D)"),
    ]
    assert found[6] == (
        8,
        "prices_minor.regular",
        "screen 'Screen 1' has regular seats; give their price",
    )
    assert (9, "prices.couple", "'12.505' has more decimals than GBP has (2)") in found
    assert (9, "prices.premium", "screen 'Screen 1' has premium seats; give their price") in found
    assert [p[:2] for p in found if p[0] == 10] == [(10, "starts_at"), (10, "sale_opens_at")]
    assert [p[:2] for p in found if p[0] == 11] == [
        (11, "movie"),
        (11, "screen"),
        (11, "starts_at"),
    ]

    partial = {"rows": rows, "continue_on_error": True}
    written = ok(await client.post("/api/v1/admin/schedule/uploads", json=partial,
                                   headers=cast.manager))  # fmt: skip
    assert (written["created"], written["applied"]) == (1, True)
    [created] = written["shows"]
    assert created["row"] == 2
    show = await session.get(Show, uuid.UUID(created["show_id"]))
    assert show is not None and (show.language, show.format) == ("English", "2D")
    seats = await session.scalar(
        text("SELECT count(*) FROM show_seats WHERE show_id = :s"), {"s": show.id}
    )
    assert seats == 150


async def test_dry_run_writes_nothing_and_foreign_theaters_are_refused(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    rows = [row(cast.north, 1, "2026-11-25 10:00"), row(cast.north, 2, "2026-11-25 13:00")]
    url = "/api/v1/admin/schedule/uploads"
    dry = ok(await client.post(url, json={"rows": rows, "dry_run": True}, headers=cast.manager))
    assert (dry["valid"], dry["created"], dry["applied"], dry["problems"]) == (2, 0, False, [])
    assert await session.scalar(text("SELECT count(*) FROM shows")) == 3
    south = row(cast.south, 3, "2026-11-25 10:00", theater="Test Cinema South", suffix=" South")
    refused = await client.post(url, json={"rows": [*rows, south]}, headers=cast.manager)
    assert problem(refused, 403) == (
        "row(s) 3 are for Test Cinema South, which is not one of your theaters; upload shows "
        "for your own theaters only. Nothing was written."
    )
    done = ok(await client.post(url, json={"rows": rows}, headers=cast.manager))
    assert done["created"] == 2
    listed = ok(await client.get("/api/v1/admin/shows", params={"from": "2026-11-25"},
                                 headers=cast.manager))  # fmt: skip
    assert [(s["starts_local"], s["seats_available"]) for s in listed] == [
        ("2026-11-25 10:00", 150),
        ("2026-11-25 13:00", 150),
    ]


# -- prices ---------------------------------------------------------------------------------


async def test_price_set_changes_future_shows_and_sold_seats_keep_their_price(
    client: AsyncTestClient, session: AsyncSession, cast: Cast, clock: FrozenClock
) -> None:
    north = cast.north
    first, second = north.show_ids
    [past] = await create_shows(
        session,
        [ShowSpec(north.movie_id, north.screen_id, north.theater_id,
                  clock.now() - timedelta(days=1), 120, "English", "2D", dict(STANDARD_PRICES))],
    )  # fmt: skip
    await session.commit()
    held = await hold(client, cast, first, north.seats["A1"], north.seats["G5"])
    booking = await sell(session, second, [north.seats["A2"]], cast.buyer_id)
    change = {"screen_id": str(north.screen_id), "prices": {"regular": "300", "premium": "450.50"}}

    preview = ok(await client.post("/api/v1/admin/prices", json={**change, "dry_run": True},
                                   headers=cast.manager))  # fmt: skip
    assert (preview["shows_matched"], preview["shows_changed"], preview["applied"]) == (2, 2, False)
    assert preview["changes"][0]["before"]["regular"] == 25000
    assert preview["changes"][0]["after"] == {**DEFAULT_PRICES, "regular": 30000, "premium": 45050}
    assert (await session.get(Show, first)).prices["regular"] == 25000  # type: ignore[union-attr]

    done = ok(await client.post("/api/v1/admin/prices", json=change, headers=cast.manager))
    assert (done["shows_changed"], done["applied"]) == (2, True)
    seat_map = ok(await client.get(f"/api/v1/shows/{first}/seatmap"))
    price_of = {seat["label"]: seat["price"] for seat in seat_map["seats"]}
    assert (price_of["A3"], price_of["G6"], price_of["K1"]) == (30000, 45050, 25000)
    held_prices = await session.execute(
        select(HoldSeat.seat_id, HoldSeat.price_minor).where(
            HoldSeat.hold_id == uuid.UUID(held["hold_id"])
        )
    )
    assert dict(held_prices.all()) == {north.seats["A1"]: 25000, north.seats["G5"]: 40000}
    sold = await session.scalar(
        select(BookingSeat.price_minor).where(BookingSeat.booking_id == booking.id)
    )
    assert sold == 25000
    session.expire_all()
    assert (await session.get(Show, past)).prices["regular"] == 25000  # type: ignore[union-attr]

    balcony = await client.post(
        "/api/v1/admin/prices",
        json={"show_ids": [str(first)], "prices_minor": {"balcony": 60000}},
        headers=cast.manager,
    )
    assert problem(balcony, 422).startswith("None of the 1 show(s) has balcony seats")
    everything = await client.post(
        "/api/v1/admin/prices", json={"prices": {"regular": "1"}}, headers=cast.root
    )
    assert "refuses to reprice every show at once" in problem(everything, 422)
    for typo in ("1e3", "NaN", "Infinity", "0x10"):
        refused = await client.post(
            "/api/v1/admin/prices",
            json={"show_ids": [str(first)], "prices": {"regular": typo}, "dry_run": True},
            headers=cast.manager,
        )
        assert f"{typo!r} is not an amount; write decimal INR like 250.00" in problem(refused, 422)


async def test_price_rules_show_base_and_effective_prices(
    client: AsyncTestClient, cast: Cast
) -> None:
    theater = str(cast.north.theater_id)
    # The first show starts on Saturday 2026-11-21 at 14:30 in Kolkata, a day away.
    weekend = {
        "theater_id": theater,
        "name": "weekend",
        "condition": {"kind": "weekday", "days": ["Sat", "sun"]},
        "adjust_percent": 20,
        "seat_types": ["premium"],
        "bounds": {"premium": {"ceiling": "450.00"}},
    }
    last_minute = {
        "theater_id": theater,
        "name": "last minute",
        "condition": {"kind": "days_before", "max_days": 1},
        "adjust_percent": -10,
        "priority": 50,
    }
    evening = {
        "theater_id": theater,
        "name": "evening",
        "condition": {"kind": "time_of_day", "from": "18:00", "to": "23:30"},
        "adjust_percent": 15,
    }
    for rule in (weekend, last_minute, evening):
        ok(await client.post("/api/v1/admin/price-rules", json=rule, headers=cast.manager), 201)
    listed = ok(await client.get("/api/v1/admin/price-rules", headers=cast.manager))
    assert [r["name"] for r in listed] == ["last minute", "evening", "weekend"]
    assert listed[2]["bounds"] == {"premium": {"floor_minor": None, "ceiling_minor": 45000}}
    assert listed[1]["condition"] == {"kind": "time_of_day", "from": "18:00", "to": "23:30"}

    prices = ok(await client.get(f"/api/v1/admin/shows/{cast.north.show_id}/prices",
                                 headers=cast.manager))  # fmt: skip
    assert prices["rules_applied"] == ["last minute", "weekend"]
    assert prices["base"]["premium"] == 40000
    # premium: 40000 -10 % = 36000, +20 % = 43200 (under the 45000 ceiling)
    effective = {seat_type: prices["effective"][seat_type] for seat_type in STANDARD_PRICES}
    assert effective == {"regular": 22500, "premium": 43200, "wheelchair": 22500,
                         "companion": 22500}  # fmt: skip

    bad = {**evening, "condition": {"kind": "time_of_day", "from": "25:00", "to": "23:00"}}
    refused = await client.post("/api/v1/admin/price-rules", json=bad, headers=cast.manager)
    assert problem(refused, 422) == (
        "condition: '25:00' is not a time of day; write HH:MM, e.g. 18:30."
    )
    removed = await client.delete(
        f"/api/v1/admin/price-rules/{listed[0]['rule_id']}", headers=cast.manager
    )
    assert removed.status_code == 204
    prices = ok(await client.get(f"/api/v1/admin/shows/{cast.north.show_id}/prices",
                                 headers=cast.manager))  # fmt: skip
    assert prices["rules_applied"] == ["weekend"]


# -- seat repairs ---------------------------------------------------------------------------


async def next_event(subscriber: Any) -> SeatEvent:
    raw = await asyncio.wait_for(anext(aiter(subscriber.iter_events())), 5)
    return msgspec.json.decode(raw, type=SeatEvent)


async def test_blocking_seats_refuses_held_and_sold_ones_and_records_transitions(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    north = cast.north
    first, second = north.show_ids
    await hold(client, cast, first, north.seats["A6"])
    await sell(session, second, [north.seats["A7"]], cast.buyer_id)
    body = {
        "screen_id": str(north.screen_id),
        "seats": ["A5", "A6", "A7"],
        "reason": "broken armrest",
        "date_from": "2026-11-21",
        "date_to": "2026-11-21",
    }
    channels = client.app.plugins.get(ChannelsPlugin)
    async with channels.start_subscription([f"show:{first}"]) as subscriber:
        report = ok(await client.post("/api/v1/admin/seats/block", json=body,
                                      headers=cast.manager))  # fmt: skip
        event = await next_event(subscriber)
    assert {c.status for c in event.seats} == {"UNAVAILABLE"}
    assert {c.seat_id for c in event.seats} == {north.seats["A5"], north.seats["A7"]}
    assert (report["changed"], report["refused"], report["moved"]) == (4, 2, 0)
    one, two = report["shows"]
    assert (one["changed"], [r["seat"] for r in one["refused"]]) == (["A5", "A7"], ["A6"])
    assert one["refused"][0]["reason"].startswith("held by a buyer until 09:10 UTC")
    assert (two["changed"], [r["seat"] for r in two["refused"]]) == (["A5", "A6"], ["A7"])
    assert "add --move-customers" in two["refused"][0]["reason"]
    history = await session.execute(
        text(
            "SELECT from_status, to_status, actor_id IS NOT NULL, reason FROM seat_transitions"
            " WHERE seat_id = :seat ORDER BY id"
        ),
        {"seat": north.seats["A5"]},
    )
    assert history.all() == [("AVAILABLE", "UNAVAILABLE", True, "broken armrest")] * 2

    again = ok(await client.post("/api/v1/admin/seats/block", json=body, headers=cast.manager))
    assert again["shows"][0]["unchanged"] == ["A5", "A7"]
    back = ok(await client.post("/api/v1/admin/seats/unblock", json=body, headers=cast.manager))
    assert back["shows"][0]["changed"] == ["A5", "A7"]
    assert back["shows"][1]["unchanged"] == ["A7"]  # still sold: never blocked
    assert (await statuses(session, first))[north.seats["A5"]] == "AVAILABLE"


async def test_blocking_sold_seats_moves_their_customers_to_comparable_seats(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    north = cast.north
    show = north.show_id
    booking = await sell(session, show, [north.seats["G5"], north.seats["G6"]], cast.buyer_id)
    # Every other premium seat but one is blocked, so H15 is the only comparable seat left.
    premium = [f"{row}{n}" for row in "GH" for n in range(1, 16)]
    others = [label for label in premium if label not in ("G5", "G6", "H15")]
    body = {"screen_id": str(north.screen_id), "show_ids": [str(show)]}
    ok(await client.post("/api/v1/admin/seats/block", json={**body, "seats": others},
                         headers=cast.manager))  # fmt: skip
    moved = ok(
        await client.post(
            "/api/v1/admin/seats/block",
            json={**body, "seats": ["G5", "G6"], "move_customers": True},
            headers=cast.manager,
        )
    )
    [report] = moved["shows"]
    assert [(m["from_seat"], m["to_seat"]) for m in report["moved"]] == [("G5", "H15")]
    assert [r["seat"] for r in report["refused"]] == ["G6"]
    assert "no free premium seat is left" in report["refused"][0]["reason"]
    seats = await session.scalars(
        select(BookingSeat.seat_id).where(BookingSeat.booking_id == booking.id)
    )
    assert set(seats) == {north.seats["H15"], north.seats["G6"]}
    states = await statuses(session, show)
    assert (states[north.seats["G5"]], states[north.seats["H15"]]) == ("UNAVAILABLE", "BOOKED")
    topic = await session.scalar(text("SELECT topic FROM outbox"))
    assert topic == "booking.seats_moved"


# -- scope ----------------------------------------------------------------------------------


def foreign_requests(south: World) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One request per admin endpoint, each aimed at South (not the caller's theater)."""
    screen = str(south.screen_id)
    return [
        ("GET", f"/api/v1/admin/theaters/{south.theater_id}", None),
        ("PATCH", f"/api/v1/admin/theaters/{south.theater_id}", {"hold_minutes": 12}),
        ("POST", "/api/v1/admin/screens",
         {"theater_id": str(south.theater_id), "name": "X", "formats": ["2D"], "layout": TINY}),
        ("GET", f"/api/v1/admin/screens?theater_id={south.theater_id}", None),
        ("GET", f"/api/v1/admin/screens/{screen}", None),
        ("PATCH", f"/api/v1/admin/screens/{screen}", {"name": "Mine now"}),
        ("GET", f"/api/v1/admin/screens/{screen}/layout", None),
        ("POST", f"/api/v1/admin/screens/{screen}/layout", {"layout": TINY, "dry_run": True}),
        ("POST", "/api/v1/admin/schedule/uploads",
         {"rows": [row(south, 1, "2026-11-25 10:00", theater="Test Cinema South")]}),
        ("GET", f"/api/v1/admin/shows?theater_id={south.theater_id}", None),
        ("GET", f"/api/v1/admin/shows?screen_id={screen}", None),
        ("POST", "/api/v1/admin/prices", {"theater_id": str(south.theater_id),
                                          "prices": {"regular": "1"}}),
        ("POST", "/api/v1/admin/prices", {"show_ids": [str(south.show_id)],
                                          "prices": {"regular": "1"}}),
        ("GET", f"/api/v1/admin/shows/{south.show_id}/prices", None),
        ("POST", "/api/v1/admin/price-rules",
         {"theater_id": str(south.theater_id), "name": "x", "adjust_percent": 5,
          "condition": {"kind": "occupancy", "min_percent": 50}}),
        ("GET", f"/api/v1/admin/price-rules?theater_id={south.theater_id}", None),
        ("POST", "/api/v1/admin/seats/block", {"screen_id": screen, "seats": ["A1"]}),
        ("POST", "/api/v1/admin/seats/unblock", {"screen_id": screen, "seats": ["A1"]}),
    ]  # fmt: skip


async def test_theater_admins_reach_only_their_own_theaters(
    client: AsyncTestClient, session: AsyncSession, cast: Cast
) -> None:
    for method, url, body in foreign_requests(cast.south):
        response = await client.request(method, url, json=body, headers=cast.manager)
        assert response.status_code == 403, (method, url, response.text)
        clerk = await client.request(method, url, json=body, headers=cast.clerk)
        assert clerk.status_code == 403, (method, url, clerk.text)
    rule = {"theater_id": str(cast.south.theater_id), "name": "south rule", "adjust_percent": 5,
            "condition": {"kind": "occupancy", "min_percent": 50}}  # fmt: skip
    south_rule = ok(
        await client.post("/api/v1/admin/price-rules", json=rule, headers=cast.root), 201
    )
    removal = await client.delete(
        f"/api/v1/admin/price-rules/{south_rule['rule_id']}", headers=cast.manager
    )
    assert removal.status_code == 403
    north_rule = {**rule, "theater_id": str(cast.north.theater_id), "name": "north rule"}
    ok(await client.post("/api/v1/admin/price-rules", json=north_rule, headers=cast.manager), 201)
    lists = ["/api/v1/admin/theaters", "/api/v1/admin/screens", "/api/v1/admin/shows",
             "/api/v1/admin/price-rules"]  # fmt: skip
    for url in lists:
        mine = ok(await client.get(url, headers=cast.manager))
        assert mine and all(item["theater_id"] == str(cast.north.theater_id) for item in mine), url
    untouched = await statuses(session, cast.south.show_id)
    assert set(untouched.values()) == {"AVAILABLE"}


def test_a_couple_moves_with_its_partner_to_the_nearest_whole_free_pair() -> None:
    layout = load_layout(LAYOUTS / "couples-date-night.layout")
    seats = {
        spec.label: Seat(
            id=uuid.uuid4(),
            label=spec.label,
            seat_type=spec.seat_type.value,
            x=spec.x,
            y=spec.y,
            pair_label=spec.pair,
        )
        for spec in layout.seats
    }
    broken = seats["E1"]
    unit = unit_of(broken, {"E1", "E2"}, seats)
    assert [s.label for s in unit] == ["E1", "E2"]
    half_free = {seats["E3"].id, seats["F2"].id}  # no whole pair among these
    assert destination(unit, half_free, seats) is None
    free = half_free | {seats["F1"].id, seats["H5"].id, seats["H6"].id}
    assert [s.label for s in destination(unit, free, seats) or []] == ["F1", "F2"]
    single = unit_of(seats["B3"], {"B3"}, seats)
    assert [
        s.label for s in destination(single, {seats["B9"].id, seats["C4"].id}, seats) or []
    ] == ["C4"]
