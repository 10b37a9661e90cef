"""Reconciliation's pure parts: a settlement line's sign convention and checks, and matching
lines against our records (captures by capture id, refunds by refund id, then refunds we
know no refund id for by their capture)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import msgspec
import pytest

from server.contracts.cancellation import SettlementLine
from server.domain.reconciliation.queries import OurRecord
from server.domain.reconciliation.services import match

DAY = date(2026, 11, 20)


def line(kind: str, reference: str, amount: int, capture: str | None = None, row: int = 0):
    return SettlementLine(
        type=kind,
        reference=reference,
        capture_reference=capture,
        amount_minor=amount,
        currency="INR",
        date=DAY,
        row=row,
    )


def ours(kind: str, reference: str | None, amount: int, capture: str | None = None):
    refund_id = uuid.uuid4() if kind == "refund" else None
    at = datetime(2026, 11, 20, tzinfo=UTC)
    return OurRecord(kind, reference, capture, amount, "INR", at, "K7PQ2M9X", refund_id)


def test_a_refund_may_be_written_negative_and_is_read_as_its_size() -> None:
    cells = {"type": " Refund ", "reference": " re_1 ", "amount_minor": "-2950",
             "currency": "inr", "date": "2026-11-20", "capture_reference": ""}  # fmt: skip
    refund = msgspec.convert(cells, SettlementLine, strict=False)
    assert (refund.type, refund.reference, refund.amount_minor, refund.currency) == (
        "refund",
        "re_1",
        2950,
        "INR",
    )
    assert refund.capture_reference is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "payout"}, "type: 'payout' is neither capture nor refund"),
        ({"amount_minor": -5}, "amount_minor: a capture is positive"),
        ({"amount_minor": 0}, "amount_minor: 0 moves no money"),
        ({"currency": "RUPEE"}, "currency: 'RUPEE' is not a 3-letter code"),
        ({"reference": "  "}, "reference: empty"),
        ({"capture_reference": "cap_other"}, "capture_reference: only a refund line"),
    ],
)
def test_a_line_that_makes_no_sense_names_its_column(changes: dict, message: str) -> None:
    cells = {"type": "capture", "reference": "cap_1", "amount_minor": 100, "currency": "INR",
             "date": "2026-11-20"} | changes  # fmt: skip
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(cells, SettlementLine)


def test_refunds_pair_by_refund_id_then_by_capture_when_we_have_no_id() -> None:
    lines = [
        line("capture", "cap_a", 33040, row=2),
        line("refund", "re_a", 29500, "cap_a", row=3),  # we know re_a
        line("refund", "re_b", 5000, "cap_a", row=4),  # re_b: ours says 4500
        line("refund", "re_c", 10000, "cap_c", row=5),  # we kept no id: by capture
        line("refund", "re_d", 700, "cap_d", row=6),  # nothing of ours
        line("refund", "cap_a", 100, row=7),  # no capture named, no refund of that id
    ]
    records = [
        ours("capture", "cap_a", 33040),
        ours("refund", "re_a", 29500, "cap_a"),
        ours("refund", "re_b", 4500, "cap_a"),
        ours("refund", None, 10000, "cap_c"),
        ours("refund", "re_e", 300, "cap_a"),  # the gateway has not settled it
    ]
    report = match(lines, records)
    assert sorted((i.type, i.reference) for i in report.matched) == [
        ("capture", "cap_a"),
        ("refund", "re_a"),
        ("refund", "re_c"),
    ]
    [by_capture] = [i for i in report.matched if i.reference == "re_c"]
    assert (by_capture.capture_reference, by_capture.refund_id) == ("cap_c", records[3].refund_id)
    assert [(i.reference, i.gateway_amount_minor, i.our_amount_minor)
            for i in report.mismatched] == [("re_b", 5000, 4500)]  # fmt: skip
    assert [(i.reference, i.row) for i in report.missing_here] == [("re_d", 6), ("cap_a", 7)]
    assert [i.reference for i in report.missing_at_gateway] == ["re_e"]
    assert not report.clean


def test_an_id_less_refund_never_takes_a_line_that_names_another_refund_of_ours() -> None:
    # Two refunds of one capture, one of them known by id: the id-less one pairs only with
    # what is left after ids matched, so it can never take re_a's line.
    lines = [line("refund", "re_a", 500, "cap_a"), line("refund", "re_x", 500, "cap_a")]
    records = [ours("refund", "re_a", 500, "cap_a"), ours("refund", None, 500, "cap_a")]
    report = match(lines, records)
    assert sorted(i.reference or "" for i in report.matched) == ["re_a", "re_x"]
    assert report.clean
