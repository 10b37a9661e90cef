"""A ticket's QR code as PNG, SVG and terminal art (text the TUI can print).

The mask pattern is fixed instead of searched: any of the eight masks is a valid QR code that
every reader decodes, and skipping segno's search of all eight makes a code about five times
faster to build. A ticket's payload never changes, so each rendering is also kept per process.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

# Two module rows per text line with half blocks. Light modules are drawn (the terminal's
# foreground is light on a dark background), so the code reads correctly on dark terminals.
_HALF_BLOCKS = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
QUIET_ZONE = 2
MASK = 0
RENDERINGS_KEPT = 2048


def _code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m", micro=False, mask=MASK)


@lru_cache(maxsize=RENDERINGS_KEPT)
def png(payload: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


@lru_cache(maxsize=RENDERINGS_KEPT)
def svg(payload: str, scale: int = 6) -> bytes:
    out = io.BytesIO()
    _code(payload).save(out, kind="svg", scale=scale, border=4, xmldecl=False)
    return out.getvalue()


@lru_cache(maxsize=RENDERINGS_KEPT)
def terminal_art(payload: str) -> str:
    rows = [
        [bool(module) for module in row] for row in _code(payload).matrix_iter(border=QUIET_ZONE)
    ]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        lines.append("".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True)))
    return "\n".join(lines) + "\n"
