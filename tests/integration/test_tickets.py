"""Tickets: the signed QR payload verifies offline with the published key and any change is
caught; check-in admits once and refuses replays (when and where), forgeries, cancelled and
other-day tickets and staff of other theaters; the images; and ``bms checkin`` against a real
server process."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text
from typer.testing import CliRunner

from bmscli.main import app as bms
from server.contracts.enums import Role
from server.domain.tickets import signing
from tests.factories import auth, make_user, make_world
from tests.integration.test_checkout import book, hold_seats, new_buyer, new_world, pay_by_card


@pytest.fixture
async def world(session, clock):
    return await new_world(session, clock)


@pytest.fixture
async def ticket(client, session, world) -> dict:
    """A confirmed booking's answer, bought by a fresh customer."""
    _, headers = await new_buyer(session)
    hold_id = await hold_seats(client, headers, world, "E7", "E8")
    answer = await book(client, headers, hold_id, [pay_by_card()])
    assert answer.status_code == 201, answer.text
    return {**answer.json(), "headers": headers}


@pytest.fixture
async def door(session, world) -> dict[str, str]:
    """A clerk of the show's theater, scanning at the door."""
    _, token = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    return auth(token)


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def tampered(payload: str) -> str:
    """The same payload with the seat labels changed and the old signature kept."""
    body, signature = payload.split(".")
    forged = b64decode(body).replace(b'"E7"', b'"A1"')
    return f"{signing.b64(forged)}.{signature}"


async def scan(client, headers, payload: str, location: str | None = "Door 2"):
    return await client.post(
        "/api/v1/checkin", json={"payload": payload, "location": location}, headers=headers
    )


def on_show_day(clock) -> None:
    clock.set(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))  # 13:30 in Kolkata, show at 14:30


async def test_the_payload_verifies_offline_and_tampering_is_caught(client, ticket) -> None:
    published = (await client.get("/api/v1/tickets/public-key")).json()
    assert published["algorithm"] == "Ed25519"
    key = Ed25519PublicKey.from_public_bytes(b64decode(published["public_key"]))
    payload = ticket["ticket"]["qr_payload"]
    body, signature = payload.split(".")
    key.verify(b64decode(signature), b64decode(body))  # a scanner needs nothing else
    code, show_id, show_date, seats, _issued, _nonce = json.loads(b64decode(body))
    assert (code, show_id, show_date, seats) == (
        ticket["code"],
        ticket["show_id"],
        "2026-11-22",
        ["E7", "E8"],
    )
    with pytest.raises(InvalidSignature):
        forged_body, _ = tampered(payload).split(".")
        key.verify(b64decode(signature), b64decode(forged_body))


async def test_check_in_admits_once_then_says_when_and_where(
    client, clock, world, ticket, door
) -> None:
    on_show_day(clock)
    payload = ticket["ticket"]["qr_payload"]
    first = await scan(client, door, payload)
    assert first.status_code == 200, first.text
    assert first.json()["admitted"] is True and first.json()["seats"] == ["E7", "E8"]

    clock.advance(minutes=5)
    replay = await scan(client, door, payload, location="Door 5")
    assert replay.status_code == 409
    problem = replay.json()
    assert problem["reason"] == "already_used"
    assert "2026-11-22 13:30 (Asia/Kolkata) at Door 2" in problem["detail"]
    assert problem["location"] == "Door 2"

    shown = (
        await client.get(f"/api/v1/bookings/{ticket['code']}", headers=ticket["headers"])
    ).json()
    assert shown["ticket"]["checkin_location"] == "Door 2"


async def test_forged_and_garbage_payloads_are_refused(client, clock, world, ticket, door) -> None:
    on_show_day(clock)
    altered = await scan(client, door, tampered(ticket["ticket"]["qr_payload"]))
    assert altered.status_code == 422 and "forged" in altered.json()["detail"]
    other_key = signing.sign(
        "some other secret",
        signing.claims_for(ticket["code"], world.show_id, clock.now().date(), ["E7"], clock.now()),
    )
    assert (await scan(client, door, other_key)).json()["reason"] == "forged"
    # A misread is not a forgery: the door is told to scan again.
    for garbled in ("", "abc", ".", "not a ticket", ticket["ticket"]["qr_payload"][:-20]):
        misread = await scan(client, door, garbled)
        assert misread.status_code == 422 and misread.json()["reason"] == "unreadable", garbled
        assert "scan it again" in misread.json()["detail"]


async def test_a_padded_payload_is_the_same_ticket(client, clock, world, ticket, door) -> None:
    """Some scanner libraries pad base64; the signature still checks, so the ticket admits."""
    on_show_day(clock)
    body, signature = ticket["ticket"]["qr_payload"].split(".")
    padded = f"{body}{'=' * (-len(body) % 4)}.{signature}=="
    admitted = await scan(client, door, padded)
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["seats"] == ["E7", "E8"]


async def test_cancelled_and_other_day_tickets_are_refused(
    client, engine, clock, world, ticket, door
) -> None:
    payload = ticket["ticket"]["qr_payload"]
    early = await scan(client, door, payload)
    assert early.status_code == 409 and early.json()["reason"] == "other_day"
    assert "2026-11-22" in early.json()["detail"]

    on_show_day(clock)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE bookings SET status = 'CANCELLED'"))
    cancelled = await scan(client, door, payload)
    assert cancelled.status_code == 409 and "cancelled" in cancelled.json()["detail"]


async def test_a_partial_cancellation_reissues_the_ticket_and_the_old_one_is_refused(
    client, clock, world, ticket, door
) -> None:
    code, headers = ticket["code"], ticket["headers"]
    old = ticket["ticket"]["qr_payload"]
    cancelled = await client.post(
        f"/api/v1/bookings/{code}/cancel",
        json={"seat_ids": [str(world.seats["E7"])], "refund_to": "original", "confirm": True},
        headers=headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    reissued = (await client.get(f"/api/v1/bookings/{code}", headers=headers)).json()["ticket"]
    assert reissued["seats"] == ["E8"] and reissued["qr_payload"] != old

    on_show_day(clock)
    refused = await scan(client, door, old)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["reason"], refused.json()["cancelled_seats"]) == ("superseded", ["E7"])
    assert "reissued after seat E7 was cancelled" in refused.json()["detail"]
    admitted = await scan(client, door, reissued["qr_payload"])
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["seats"] == ["E8"]


async def test_only_staff_of_the_shows_theater_check_in(
    client, session, clock, world, ticket
) -> None:
    on_show_day(clock)
    elsewhere = await make_world(
        session, starts_at=clock.now() + timedelta(days=1), name_suffix=" 2"
    )
    _, other_clerk = await make_user(session, role=Role.CLERK, theater_ids=[elsewhere.theater_id])
    payload = ticket["ticket"]["qr_payload"]
    assert (await scan(client, auth(other_clerk), payload)).status_code == 403
    assert (await scan(client, ticket["headers"], payload)).status_code == 403  # the customer
    _, kiosk = await make_user(session, role=Role.KIOSK, theater_ids=[world.theater_id])
    assert (await scan(client, auth(kiosk), payload)).status_code == 200


async def test_ticket_images(client, session, ticket) -> None:
    base = f"/api/v1/bookings/{ticket['code']}/ticket"
    png = await client.get(f"{base}.png", headers=ticket["headers"])
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    svg = await client.get(f"{base}.svg", headers=ticket["headers"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    art = await client.get(f"{base}.txt", headers=ticket["headers"])
    assert "█" in art.text and art.text.count("\n") > 10
    _, stranger = await make_user(session)
    assert (await client.get(f"{base}.png", headers=auth(stranger))).status_code == 404


def _starts_today_in(timezone: str) -> datetime:
    """A show start later today in ``timezone`` (halfway to its midnight, at most 2 h away)."""
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(timezone))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return now + min(timedelta(hours=2), (midnight - local) / 2)


@pytest.mark.slow
async def test_bms_checkin_command_against_a_real_server(server_factory, session) -> None:
    world = await make_world(session, starts_at=_starts_today_in("Asia/Kolkata"))
    _, buyer = await make_user(session)
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[world.theater_id])
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.url) as http:
        held = await http.post(
            f"/api/v1/shows/{world.show_id}/holds",
            json={"seat_ids": [str(world.seats["E7"])]},
            headers=auth(buyer),
        )
        body = {"hold_id": held.json()["hold_id"], "payments": [pay_by_card()]}
        booked = await http.post("/api/v1/bookings", json=body, headers=auth(buyer))
    assert booked.status_code == 201, booked.text
    payload = booked.json()["ticket"]["qr_payload"]
    env = {"BMS_SERVER_URL": server.url, "BMS_TOKEN": clerk}
    runner = CliRunner()
    admitted = runner.invoke(bms, ["checkin", payload, "--location", "Gate A"], env=env)
    assert admitted.exit_code == 0, admitted.output
    assert admitted.output.startswith(f"ADMITTED {booked.json()['code']}")
    again = runner.invoke(bms, ["checkin", payload], env=env)
    assert again.exit_code == 1 and "already used" in again.output and "Gate A" in again.output
    unreachable = runner.invoke(
        bms, ["checkin", payload], env={**env, "BMS_SERVER_URL": "http://127.0.0.1:9"}
    )
    assert unreachable.exit_code == 2
