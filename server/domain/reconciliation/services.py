"""Matching a gateway settlement file against what we recorded at that gateway.

Lines and records pair up by (type, reference): a capture by its capture reference, a refund
by the capture it returns money from. Within one pair of lists equal amounts (and currencies)
match first; what is left on both sides is a mismatch, pair by pair in file order; what is
left on one side only is missing on the other. Our side is every record the file names,
whatever its date, and every record of the period (UTC dates, the file's first to last date
unless given), so a gateway that settles a day late is not reported as a difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from server.contracts.cancellation import (
    ReconcileItem,
    ReconcileOut,
    ReconcileRequest,
    SettlementLine,
)
from server.contracts.enums import Role
from server.domain.accounts.guards import require_role
from server.domain.accounts.principal import Principal
from server.domain.errors import Invalid
from server.domain.payments.services import card_gateway
from server.domain.reconciliation import queries
from server.domain.reconciliation.queries import OurRecord
from server.infra.database import autocommit
from server.infra.state import Services

TYPES = ("capture", "refund")
MAX_LINES = 100_000


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
    )


def match(lines: Sequence[SettlementLine], records: Sequence[OurRecord]) -> Report:
    theirs: dict[tuple[str, str], list[SettlementLine]] = defaultdict(list)
    ours: dict[tuple[str, str], list[OurRecord]] = defaultdict(list)
    for line in lines:
        theirs[(line.type, line.reference)].append(line)
    for record in records:
        ours[(record.type, record.reference)].append(record)
    report = Report([], [], [], [])
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
        report.missing_here += [_item(line, None) for line in unmatched[paired:]]
        report.missing_at_gateway += [_item(None, record) for record in left[paired:]]
    return report


def _check(lines: Sequence[SettlementLine]) -> None:
    if len(lines) > MAX_LINES:
        raise Invalid(f"Send at most {MAX_LINES} lines at once; split the file by date.")
    for index, line in enumerate(lines):
        where = f"row {line.row}" if line.row else f"lines[{index}]"
        if line.type not in TYPES:
            raise Invalid(f"{where}: type must be capture or refund, not {line.type!r}.")
        if line.amount_minor <= 0:
            raise Invalid(f"{where}: amount_minor must be a positive whole number.")
        if not line.reference.strip():
            raise Invalid(f"{where}: reference is empty.")


def _period(body: ReconcileRequest) -> tuple[date, date]:
    dates = [line.date for line in body.lines]
    date_from = body.date_from or (min(dates) if dates else None)
    date_to = body.date_to or (max(dates) if dates else None)
    if date_from is None or date_to is None:
        raise Invalid("The settlement has no lines; give date_from and date_to to list ours.")
    if date_from > date_to:
        raise Invalid(f"date_from {date_from} is after date_to {date_to}.")
    return date_from, date_to


async def reconcile(
    services: Services, principal: Principal, body: ReconcileRequest
) -> ReconcileOut:
    require_role(principal, Role.PLATFORM_ADMIN)
    _check(body.lines)
    date_from, date_to = _period(body)
    lines = [
        SettlementLine(
            reference=line.reference.strip(),
            amount_minor=line.amount_minor,
            currency=line.currency.strip().upper(),
            date=line.date,
            type=line.type,
            row=line.row,
        )
        for line in body.lines
    ]
    async with autocommit(services.engine).connect() as conn:
        records = await queries.gateway_records(
            conn,
            gateway=card_gateway(services).name,
            references={line.reference for line in lines},
            start=datetime.combine(date_from, time(), UTC),
            end=datetime.combine(date_to + timedelta(days=1), time(), UTC),
        )
    report = match(lines, records)
    return ReconcileOut(
        date_from=date_from,
        date_to=date_to,
        matched=report.matched,
        missing_here=report.missing_here,
        missing_at_gateway=report.missing_at_gateway,
        mismatched=report.mismatched,
        clean=report.clean,
    )
