"""The settlement statement as a PDF a theater can file (``bms admin settlement --pdf``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from admin.commands.settlement import (
    STATEMENT,
    SUBTOTALS,
    amount_columns,
    footnote,
    labelled_days,
    statement_lines,
)
from admin.output import CliError, success
from server.contracts.reports import SettlementOut

MARGIN = 14 * mm
GRID = colors.HexColor("#B0B7C3")
SHADE = colors.HexColor("#EEF1F5")
HEADER = colors.HexColor("#1F3A5F")


def write_pdf(path: Path, statement: SettlementOut) -> None:
    """A landscape A4 statement a theater can file: who, which month, the figures per day
    and in total, how they were worked out, and when."""
    theater = statement.theater
    title = f"Settlement {statement.period} - {theater.name}"
    document = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="bms box office",
        subject=f"Settlement statement of {theater.name} for {statement.period}",
    )

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, MARGIN / 2, title)
        canvas.drawRightString(landscape(A4)[0] - MARGIN, MARGIN / 2, f"page {doc.page}")
        canvas.restoreState()

    try:
        document.build(_story(statement), onFirstPage=footer, onLaterPages=footer)
    except OSError as exc:
        raise CliError(f"cannot write {path} ({exc.strerror}); check the path") from None
    success(f"wrote {path}")


def _story(statement: SettlementOut) -> list[Any]:
    """The totals first, beside who and when, then every day, then how it was worked out."""
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=8, leading=10)
    warning = ParagraphStyle("warning", parent=styles["Heading3"], textColor=colors.firebrick)
    theater = statement.theater
    facts = [
        ("Theater", f"{theater.name}, {theater.city}"),
        ("Period", f"{statement.period}: {statement.days[0].date} to {statement.days[-1].date}"),
        ("Local days", theater.timezone),
        ("Currency", f"{theater.currency}; a minus marks a deduction"),
        ("Commission", f"{statement.commission_rate_bp / 100:.2f} % of net ticket revenue"),
        ("Generated", f"{statement.generated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"),
    ]
    totals = _grid(
        [[label, amount] for label, _, amount in statement_lines(statement)],
        header=False,
        widths=[62 * mm, 38 * mm],
        bold_rows=[i for i, (_, name, _) in enumerate(STATEMENT) if name in SUBTOTALS],
    )
    overview = Table(
        [[_grid(facts, header=False, widths=[26 * mm, 100 * mm], align="LEFT"), totals]],
        hAlign="LEFT",
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (1, 0), (1, 0), 10 * mm)],
    )
    story = [
        Paragraph("Settlement statement", styles["Title"]),
        Paragraph(f"{theater.name}, {statement.period}", styles["Heading2"]),
    ]
    if statement.provisional:
        story.append(Paragraph("Provisional: the period has not ended yet.", warning))
    return [
        *story,
        overview,
        Spacer(0, 4 * mm),
        Paragraph("Per day", styles["Heading3"]),
        _day_table(statement),
        Spacer(0, 4 * mm),
        Paragraph(footnote(statement), small),
        Paragraph(_method(), small),
    ]


def _method() -> str:
    return (
        "Sales count on the local day their booking was confirmed, refunds on the local day "
        "they were made. Collected = gross sales + convenience fees + taxes - discounts - "
        "points. Commission is worked out per day on that day's net ticket revenue and "
        "rounded half away from zero to the minor unit; the total is the sum of the days. "
        "Net payable = collected - refunds - commission - cash already taken at the "
        "theater's box office. All other figures are exact sums of the bookings, payments "
        "and refunds records."
    )


def _day_table(statement: SettlementOut) -> Table:
    columns = amount_columns(statement.theater.currency_decimals, terminal=False)
    lines = [*labelled_days(statement), ("Total", statement.total)]
    rows = [[heading for heading, _ in columns]]
    rows += [[str(get(line)) for _, get in columns] for line in lines]
    return _grid(rows, header=True, bold_rows=[len(rows) - 1], font_size=6.5)


def _grid(
    rows: Sequence[Sequence[str]],
    *,
    header: bool,
    widths: Sequence[float | None] | None = None,
    bold_rows: Sequence[int] = (),
    font_size: float = 8,
    align: str = "RIGHT",
) -> Table:
    """A ruled table: first column left, the rest ``align``ed; a dark header row when
    ``header``; ``bold_rows`` in bold; every other row shaded."""
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("ALIGN", (1, 0), (-1, -1), align),
        ("GRID", (0, 0), (-1, -1), 0.25, GRID),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    style += [("BACKGROUND", (0, r), (-1, r), SHADE) for r in range(int(header), len(rows), 2)]
    style += [("FONT", (0, r), (-1, r), "Helvetica-Bold", font_size) for r in bold_rows]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), HEADER),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size),
        ]
    else:
        style.append(("FONT", (0, 0), (0, -1), "Helvetica-Bold", font_size))
    table.setStyle(TableStyle(style))
    return table
