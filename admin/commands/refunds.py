"""refunds list | retry | settle-manually: the refund records of your theaters, and what an
admin does about the ones that FAILED at the payment gateway."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.schedule import local_date
from admin.commands.theaters import theater_id_for
from admin.output import (
    EXIT_ERROR,
    AdminTyper,
    Column,
    JsonFlag,
    examples,
    fail,
    info,
    listing,
    record,
    success,
    warn,
)
from server.contracts.cancellation import RefundOut, RefundSettleRequest
from server.contracts.enums import RefundStatus

REFUNDS = "/api/v1/admin/refunds"

app = AdminTyper(
    help="Refund records of your theaters: list them, retry FAILED ones, or record one "
    "paid out by other means.",
    no_args_is_help=True,
)


class StatusChoice(StrEnum):
    FAILED = "failed"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    ALL = "all"


def status_cell(refund: RefundOut) -> str:
    return f"{refund.status} (manual)" if refund.settled_manually else refund.status


def why(refund: RefundOut) -> str | None:
    """The failure, or who settled it by hand and how."""
    if refund.settled_manually:
        by = f" by {refund.settled_by}" if refund.settled_by else ""
        return f"settled manually{by}: {refund.settlement_note or '-'}"
    return refund.failure_reason


REFUND_COLUMNS: list[Column[RefundOut]] = [
    ("Refund", lambda r: r.refund_id),
    ("Booking", lambda r: r.code),
    ("Theater", lambda r: r.theater_name),
    ("Made (UTC)", lambda r: r.created_at),
    ("Status", status_cell),
    ("Amount (minor)", lambda r: r.amount_minor),
    ("Currency", lambda r: r.currency),
    ("Method", lambda r: r.method or r.destination),
    ("Attempts", lambda r: r.attempts),
    ("Gateway ref", lambda r: r.gateway_refund_ref),
    ("Why", why),
]


def refund_fields(refund: RefundOut) -> list[tuple[str, object]]:
    return [
        ("Refund", refund.refund_id),
        ("Booking", refund.code),
        ("Theater", refund.theater_name),
        ("Status", status_cell(refund)),
        ("Amount", f"{refund.amount_minor} {refund.currency or ''} (minor units)".strip()),
        ("Method", refund.method or refund.destination),
        ("Attempts", refund.attempts),
        ("Next attempt", refund.next_attempt_at),
        ("Gateway ref", refund.gateway_refund_ref),
        ("Completed", refund.completed_at),
        ("Why", why(refund)),
    ]


RefundId = Annotated[
    uuid.UUID, typer.Argument(help="The refund's id (the first column of `refunds list`).")
]


@app.command(
    "list",
    epilog=examples(
        "bms admin refunds list                        # FAILED ones: they need you",
        "bms admin refunds list --status pending --theater 'Harbour Screens'",
        "bms admin refunds list --status all --from 2026-11-01 --to 2026-11-30 --json",
        "bms admin refunds list --status all --booking K7PQ2M9X",
    ),
)
def list_refunds(
    status: Annotated[
        list[StatusChoice] | None,
        typer.Option(
            case_sensitive=False,
            help="failed (default), pending, succeeded or all; repeat for several.",
        ),
    ] = None,
    theater: Annotated[str | None, typer.Option(help="One theater (id or name).")] = None,
    date_from: Annotated[
        str | None,
        typer.Option("--from", help="First local day the refunds were made (YYYY-MM-DD)."),
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last local day (YYYY-MM-DD), inclusive.")
    ] = None,
    booking: Annotated[str | None, typer.Option(help="One booking, by its code.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """List refund records across your theaters, oldest first (FAILED ones unless asked).

    A FAILED refund was refused by the payment gateway or given up after it never answered
    (Why says which): retry it, or settle it manually once paid out by other means. Days are
    the theaters' local days.
    """
    chosen = set(status or [StatusChoice.FAILED])
    statuses = (
        [s.value for s in RefundStatus]
        if StatusChoice.ALL in chosen
        else [choice.value.upper() for choice in StatusChoice if choice in chosen]
    )
    with connect() as client:
        refunds = client.get(
            REFUNDS,
            list[RefundOut],
            status=statuses,
            theater_id=theater_id_for(client, theater) if theater else None,
            **{"from": local_date(date_from, "--from"), "to": local_date(date_to, "--to")},
            code=booking,
            limit=limit,
        )
    listing(refunds, REFUND_COLUMNS, as_json=as_json, empty=f"no {' or '.join(statuses)} refunds")
    if refunds and not as_json:
        counts = {s: sum(r.status == s for r in refunds) for s in statuses}
        info(f"{len(refunds)} refunds: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if len(refunds) == limit:
        warn(f"showing the first {limit}; there may be more: narrow with --from/--to or --limit")


@app.command(
    "retry",
    epilog=examples(
        "bms admin refunds retry 3f1c9a2e-…", "bms admin refunds retry 3f1c9a2e-… --json"
    ),
)
def retry(refund_id: RefundId, as_json: JsonFlag = False) -> None:
    """Put a FAILED refund back into the retry queue (attempts reset) and send it now.

    Exit code 0 when the gateway refunded it, or did not answer (it stays in the queue and is
    sent again with backoff); 1 when the gateway refused it again, or the server refuses the
    retry (a refund that is not FAILED, or not of your theaters).
    """
    with connect() as client:
        refund = client.post(f"{REFUNDS}/{refund_id}/retry", RefundOut)
    record(refund_fields(refund), as_json=as_json, data=refund)
    detail = refund.detail or refund.status
    if refund.status == RefundStatus.SUCCEEDED:
        success(detail)
    elif refund.status == RefundStatus.PENDING:
        warn(detail)
    else:
        fail(detail)
        raise typer.Exit(EXIT_ERROR)


@app.command(
    "settle-manually",
    epilog=examples(
        "bms admin refunds settle-manually 3f1c9a2e-… --note 'cash at the box office, receipt 1182'"
    ),
)
def settle_manually(
    refund_id: RefundId,
    note: Annotated[
        str,
        typer.Option(help="How it was paid out (cash, bank transfer…), with a receipt number."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Record that a FAILED refund was paid out by other means (cash, a bank transfer).

    It becomes SUCCEEDED without a gateway reference and is never sent to the gateway again;
    your name and the note are kept in the audit log. Reconciliation then expects nothing of
    it at the gateway. Only a FAILED refund can be settled this way (exit code 1 otherwise).
    """
    with connect() as client:
        refund = client.post(
            f"{REFUNDS}/{refund_id}/settle-manually", RefundOut, RefundSettleRequest(note=note)
        )
    record(refund_fields(refund), as_json=as_json, data=refund)
    success(f"refund {refund.refund_id} of booking {refund.code} settled manually")
    if refund.detail:
        info(refund.detail)
