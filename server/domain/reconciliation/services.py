"""Matching a gateway settlement file against what we recorded at that gateway.

Captures pair by their capture id. Refunds pair by the gateway's refund id, which our refund
records keep (``gateway_refund_ref``) once the gateway confirms them; what is left of the
refund lines then pairs, by the capture they name (``capture_reference``), with our refunds
that have no refund id (refunds of checkouts that never became a booking, which the payment
row carries, and records from before refund ids were kept). Within one key equal amounts (and
currencies) match first; what is left on both sides is a mismatch, pair by pair in file
order; what is left on one side only is missing on the other.

Our side is every record the file names, whatever its date, and every record of the period
(UTC dates, the file's first to last date unless given), so a gateway that settles a day late
is not reported as a difference. Refunds an admin settled by other means (cash, a bank
transfer) are not expected at the gateway: they are listed apart, and a gateway refund of
their capture is flagged as a possible double payment. A refund line we cannot match gets a
note when we know something that may explain it (a refund of that capture still PENDING, or
FAILED because the gateway never answered, or a line that names a capture where the refund id
belongs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from server.contracts.cancellation import (
    ReconcileItem,
    ReconcileOut,
    ReconcileRequest,
    SettlementLine,
)
from server.contracts.enums import RefundStatus, Role
from server.domain.accounts.guards import require_role
from server.domain.accounts.principal import Principal
from server.domain.cancellation.refunds import NO_ANSWER
from server.domain.errors import Invalid
from server.domain.payments.services import card_gateway
from server.domain.reconciliation import queries
from server.domain.reconciliation.queries import Capture, OurRecord, SettledRefund, Unconfirmed
from server.infra.database import autocommit
from server.infra.state import Services

MAX_LINES = 100_000

Key = tuple[str, str]


@dataclass
class Report:
    matched: list[ReconcileItem]
    missing_here: list[ReconcileItem]
    missing_at_gateway: list[ReconcileItem]
    mismatched: list[ReconcileItem]

    @property
    def clean(self) -> bool:
        return not (self.missing_here or self.missing_at_gateway or self.mismatched)


def _same(line: SettlementLine, record: OurRecord) -> bool:
    return line.amount_minor == record.amount_minor and line.currency == record.currency


def _item(line: SettlementLine | None, record: OurRecord | None) -> ReconcileItem:
    first = line or record
    assert first is not None
    return ReconcileItem(
        reference=first.reference,
        type=first.type,
        currency=first.currency,
        gateway_amount_minor=line.amount_minor if line else None,
        our_amount_minor=record.amount_minor if record else None,
        row=line.row if line else None,
        at=record.at if record else None,
        booking_code=record.booking_code if record else None,
        capture_reference=first.capture_reference,
        refund_id=record.refund_id if record else None,
    )


def _pair(
    report: Report,
    lines: Sequence[SettlementLine],
    records: Sequence[OurRecord],
    line_key: Callable[[SettlementLine], Key],
    record_key: Callable[[OurRecord], Key],
) -> tuple[list[SettlementLine], list[OurRecord]]:
    """Pair lines and records of one key: equal amounts match, then what is left on both
    sides is mismatched; returns what is left on one side only."""
    theirs: dict[Key, list[SettlementLine]] = defaultdict(list)
    ours: dict[Key, list[OurRecord]] = defaultdict(list)
    for line in lines:
        theirs[line_key(line)].append(line)
    for record in records:
        ours[record_key(record)].append(record)
    lines_left: list[SettlementLine] = []
    records_left: list[OurRecord] = []
    for key in sorted(theirs.keys() | ours.keys()):
        left = list(ours.get(key, []))
        unmatched = []
        for line in theirs.get(key, []):
            twin = next((record for record in left if _same(line, record)), None)
            if twin is None:
                unmatched.append(line)
            else:
                left.remove(twin)
                report.matched.append(_item(line, twin))
        paired = min(len(unmatched), len(left))
        report.mismatched += [_item(a, b) for a, b in zip(unmatched, left, strict=False)]
        lines_left += unmatched[paired:]
        records_left += left[paired:]
    return lines_left, records_left


def _by_capture(line: SettlementLine) -> bool:
    return line.type == "refund" and line.capture_reference is not None


def match(lines: Sequence[SettlementLine], records: Sequence[OurRecord]) -> Report:
    report = Report([], [], [], [])
    left, ours_left = _pair(
        report,
        lines,
        [record for record in records if record.reference is not None],
        lambda line: (line.type, line.reference),
        lambda record: (record.type, record.reference or ""),
    )
    by_capture_left, capture_records_left = _pair(
        report,
        [line for line in left if _by_capture(line)],
        [record for record in records if record.reference is None],
        lambda line: (line.type, line.capture_reference or ""),
        lambda record: (record.type, record.capture_reference or ""),
    )
    unmatched = [line for line in left if not _by_capture(line)] + by_capture_left
    report.missing_here = [
        _item(line, None) for line in sorted(unmatched, key=lambda line: line.row)
    ]
    report.missing_at_gateway = [_item(None, record) for record in ours_left + capture_records_left]
    return report


# -- what may explain a refund line we cannot match ------------------------------------------


def _suspicion(refund: Unconfirmed) -> int:
    """How likely an unconfirmed refund is to be a gateway refund we cannot match (0 most):
    one settled by hand, one given up for want of an answer, one still being sent. One the
    gateway refused (3) moved no money, so it is never the line."""
    if refund.settled_at is not None:
        return 0
    if refund.failure_code == NO_ANSWER:
        return 1
    return 2 if refund.status == RefundStatus.PENDING else 3


def _likeliest(item: ReconcileItem, refunds: Sequence[Unconfirmed]) -> Unconfirmed | None:
    """The unconfirmed refund of the line's capture most likely to be the line, one of the
    line's amount before others."""
    candidates = sorted(
        (refund for refund in refunds if _suspicion(refund) < 3),
        key=lambda refund: (_suspicion(refund), refund.amount_minor != item.gateway_amount_minor),
    )
    return candidates[0] if candidates else None


def _note(item: ReconcileItem, refund: Unconfirmed | None) -> str:
    if refund is None:
        return "A refund of this booking's payment that we have no record of under this id."
    if refund.settled_at is not None:
        return (
            f"Refund {refund.refund_id} of this capture was settled manually on "
            f"{refund.settled_at:%Y-%m-%d} by {refund.settled_by or 'an admin'} "
            f"({refund.note}); the gateway refunded the capture too: a possible double payment."
        )
    if refund.failure_code == NO_ANSWER:
        return (
            f"Refund {refund.refund_id} of this capture FAILED here because the gateway never "
            "answered; this may be it: retry it (bms admin refunds retry, POST "
            f"/api/v1/admin/refunds/{refund.refund_id}/retry), which asks again under its own "
            "key and records the gateway's refund id."
        )
    return (
        f"Refund {refund.refund_id} of this capture is still PENDING here; this may be it, and "
        "it matches once the gateway confirms it to us."
    )


def _explain(items: Sequence[ReconcileItem], known: dict[str, Capture]) -> None:
    """Notes (and the booking) on the refund lines we could not match."""
    for item in items:
        if item.type != "refund":
            continue
        if item.reference in known:
            item.booking_code = known[item.reference or ""].booking_code
            item.note = (
                "This names a capture of ours: a refund line carries the gateway's refund id in "
                "reference and the capture it refunds in capture_reference."
            )
        elif item.capture_reference in known:
            capture = known[item.capture_reference or ""]
            item.booking_code = capture.booking_code
            item.note = _note(item, _likeliest(item, capture.unconfirmed))


def _settled_item(settled: SettledRefund) -> ReconcileItem:
    refund = settled.refund
    return ReconcileItem(
        reference=None,
        type="refund",
        currency=settled.currency,
        our_amount_minor=refund.amount_minor,
        at=refund.settled_at,
        booking_code=settled.booking_code,
        capture_reference=settled.capture_reference,
        refund_id=refund.refund_id,
        note=f"settled manually by {refund.settled_by or 'an admin'}: {refund.note}",
    )


def _check(lines: Sequence[SettlementLine]) -> None:
    # Each line checks itself (SettlementLine.__post_init__); here, what a whole file may be.
    if len(lines) > MAX_LINES:
        raise Invalid(f"Send at most {MAX_LINES} lines at once; split the file by date.")


def _period(body: ReconcileRequest) -> tuple[date, date]:
    dates = [line.date for line in body.lines]
    date_from = body.date_from or (min(dates) if dates else None)
    date_to = body.date_to or (max(dates) if dates else None)
    if date_from is None or date_to is None:
        raise Invalid("The settlement has no lines; give date_from and date_to to list ours.")
    if date_from > date_to:
        raise Invalid(f"date_from {date_from} is after date_to {date_to}.")
    if date_to >= date.max:  # the period ends at the next day's midnight
        raise Invalid(f"date_to must be before {date.max}; give the settlement's last day.")
    return date_from, date_to


async def reconcile(
    services: Services, principal: Principal, body: ReconcileRequest
) -> ReconcileOut:
    require_role(principal, Role.PLATFORM_ADMIN)
    _check(body.lines)
    date_from, date_to = _period(body)
    lines = body.lines
    refund_ids = {line.reference for line in lines if line.type == "refund"}
    refunded = {line.capture_reference for line in lines if line.capture_reference}
    start = datetime.combine(date_from, time(), UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(), UTC)
    gateway = card_gateway(services).name
    async with autocommit(services.engine).connect() as conn:
        records = await queries.gateway_records(
            conn,
            gateway=gateway,
            captures={line.reference for line in lines if line.type == "capture"},
            refunds=refund_ids,
            refunded_captures=refunded,
            start=start,
            end=end,
        )
        known = await queries.captures(conn, gateway=gateway, references=refunded | refund_ids)
        settled = await queries.settled_manually(
            conn, gateway=gateway, references=refunded, start=start, end=end
        )
    report = match(lines, records)
    _explain(report.missing_here, known)
    return ReconcileOut(
        date_from=date_from,
        date_to=date_to,
        matched=report.matched,
        missing_here=report.missing_here,
        missing_at_gateway=report.missing_at_gateway,
        mismatched=report.mismatched,
        clean=report.clean,
        settled_manually=[_settled_item(refund) for refund in settled],
    )
