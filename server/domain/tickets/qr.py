"""A ticket's QR code as PNG, SVG and terminal art (text the TUI can print)."""

from __future__ import annotations

import io

import segno

# Two module rows per text line with half blocks. Light modules are drawn (the terminal's
# foreground is light on a dark background), so the code reads correctly on dark terminals.
_HALF_BLOCKS = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
QUIET_ZONE = 2


def _code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m", micro=False)


def png(payload: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def svg(payload: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(payload).save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue()


def terminal_art(payload: str) -> str:
    rows = [
        [bool(module) for module in row]
        for row in _code(payload).matrix_iter(scale=1, border=QUIET_ZONE)
    ]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        lines.append("".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True)))
    return "\n".join(lines) + "\n"
