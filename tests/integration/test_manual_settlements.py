"""A refund settled manually is known by its own columns (settled_manually_at, _by,
settlement_note), not by the audit log: the refund listings, the booking's refunds (what the
bookings desk in the TUI shows), the one-refund answers and reconciliation all read the
columns. Rows are written here as the database holds them, one settled with its columns and
no audit entry, one with only the audit entry that revision 0002 used as the marker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts.enums import Role
from server.db.models import AuditEntry, Payment, Refund
from tests.factories import auth, make_user, make_world
from tests.integration.test_admin_api import sell

DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOTE = "cash at the box office, receipt 1182"
BY_HAND, AUDIT_ONLY = "cap_by_hand", "cap_audit_only"


@pytest.fixture
async def seeded(session: AsyncSession, clock: Any) -> dict[str, Any]:
    world = await make_world(session, starts_at=clock.now() + timedelta(days=2))
    buyer, buyer_token = await make_user(session)
    manager, manager_token = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[world.theater_id]
    )
    _, root_token = await make_user(session, role=Role.PLATFORM_ADMIN)
    booking = await sell(session, world.show_id, [world.seats["E7"], world.seats["E8"]], buyer.id)
    payments = {ref: uuid.uuid4() for ref in (BY_HAND, AUDIT_ONLY)}
    await session.execute(
        insert(Payment),
        [
            {
                "id": payment_id,
                "booking_id": booking.id,
                "method": "card",
                "gateway": "simulator",
                "status": "CAPTURED",
                "amount_minor": 25000,
                "currency": "INR",
                "idempotency_key": f"test:{ref}",
                "gateway_ref": ref,
                "captured_at": DAY,
            }
            for ref, payment_id in payments.items()
        ],
    )
    refunds = {ref: uuid.uuid4() for ref in payments}
    common = {
        "booking_id": booking.id,
        "amount_minor": 25000,
        "destination": "original",
        "status": "SUCCEEDED",
        "reason": "cancelled by the customer",
        "created_at": DAY - timedelta(days=1),
        "completed_at": DAY,
        "failure_code": None,
    }
    await session.execute(
        insert(Refund),
        [
            common
            | {
                "id": refunds[BY_HAND],
                "payment_id": payments[BY_HAND],
                "settled_manually_at": DAY,
                "settled_manually_by": manager.id,
                "settlement_note": NOTE,
            },
            common | {"id": refunds[AUDIT_ONLY], "payment_id": payments[AUDIT_ONLY]},
        ],
    )
    # The marker revision 0002 read: no longer what says a refund was settled manually.
    await session.execute(
        insert(AuditEntry).values(
            actor_id=manager.id,
            action="refund.settled_manually",
            entity="refund",
            entity_id=str(refunds[AUDIT_ONLY]),
            detail={"note": "only in the audit log"},
        )
    )
    await session.commit()
    return {
        "code": booking.code,
        "refunds": refunds,
        "manager": manager,
        "manager_token": manager_token,
        "buyer_token": buyer_token,
        "root_token": root_token,
    }


def by_id(answer: Any) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return {refund["refund_id"]: refund for refund in answer.json()}


async def test_the_listings_read_the_settlement_columns(client, seeded) -> None:
    by_hand, audit_only = (str(seeded["refunds"][ref]) for ref in (BY_HAND, AUDIT_ONLY))
    listed = by_id(
        await client.get(
            "/api/v1/admin/refunds",
            params={"status": "SUCCEEDED"},
            headers=auth(seeded["manager_token"]),
        )
    )
    settled = listed[by_hand]
    assert (settled["settled_manually"], settled["settled_by"], settled["settlement_note"]) == (
        True,
        seeded["manager"].name,
        NOTE,
    )
    assert settled["settled_manually_at"] == "2026-11-20T12:00:00Z"
    assert listed[audit_only]["settled_manually"] is False
    assert listed[audit_only]["settled_by"] is None

    # The booking's refunds (the bookings desk): the customer sees that, not who or the note.
    theirs = by_id(
        await client.get(
            f"/api/v1/bookings/{seeded['code']}/refunds", headers=auth(seeded["buyer_token"])
        )
    )
    assert theirs[by_hand]["settled_manually"] is True
    assert theirs[by_hand]["settled_by"] is None and theirs[by_hand]["settlement_note"] is None
    assert theirs[audit_only]["settled_manually"] is False

    # One refund: nothing left to do, and it says since when.
    again = await client.post(
        f"/api/v1/admin/refunds/{by_hand}/retry", headers=auth(seeded["manager_token"])
    )
    assert again.status_code == 409
    assert "it was settled manually on 2026-11-20 12:00 UTC" in again.json()["detail"]


async def test_reconciliation_reads_the_settlement_columns(client, seeded) -> None:
    by_hand, audit_only = (str(seeded["refunds"][ref]) for ref in (BY_HAND, AUDIT_ONLY))
    lines = [
        {"type": "capture", "reference": BY_HAND, "amount_minor": 25000},
        {"type": "capture", "reference": AUDIT_ONLY, "amount_minor": 25000},
        # The gateway refunded the capture settled by hand too.
        {"type": "refund", "reference": "re_too", "capture_reference": BY_HAND,
         "amount_minor": 25000},
    ]  # fmt: skip
    answer = await client.post(
        "/api/v1/admin/reconciliation",
        json={"lines": [line | {"currency": "INR", "date": "2026-11-20"} for line in lines]},
        headers=auth(seeded["root_token"]),
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    [settled] = report["settled_manually"]
    assert (settled["refund_id"], settled["capture_reference"], settled["at"]) == (
        by_hand,
        BY_HAND,
        "2026-11-20T12:00:00Z",
    )
    assert settled["note"] == f"settled manually by {seeded['manager'].name}: {NOTE}"
    [paid_twice] = report["missing_here"]
    assert paid_twice["reference"] == "re_too"
    assert paid_twice["note"].startswith(
        f"Refund {by_hand} of this capture was settled manually on 2026-11-20 by "
        f"{seeded['manager'].name} ({NOTE})"
    )
    # An audit entry alone no longer marks a refund: this one is a gateway refund of ours
    # that the file does not have.
    [ours] = report["missing_at_gateway"]
    assert (ours["refund_id"], ours["capture_reference"]) == (audit_only, AUDIT_ONLY)
    assert sorted(item["reference"] for item in report["matched"]) == [AUDIT_ONLY, BY_HAND]
    beyond = await client.post(
        "/api/v1/admin/reconciliation",
        json={"lines": [], "date_from": "2026-11-20", "date_to": "9999-12-31"},
        headers=auth(seeded["root_token"]),
    )
    assert beyond.status_code == 422 and "date_to must be before" in beyond.json()["detail"]
