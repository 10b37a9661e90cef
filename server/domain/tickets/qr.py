"""A ticket's QR code as PNG, SVG and terminal art (text the TUI can print).

The code is built by zxing-cpp (C++): under 1 ms per ticket, where a pure-Python encoder took
about 4 ms even with its mask search skipped, a fifth of the server's work in a checkout. The
same library reads codes back, which the tests use to prove that every rendering scans.
A ticket's payload never changes, so each rendering is also kept per process.
"""

from __future__ import annotations

import io
from functools import lru_cache

import zxingcpp
from PIL import Image

# Two module rows per text line with half blocks. Light modules are drawn (the terminal's
# foreground is light on a dark background), so the code reads correctly on dark terminals.
_HALF_BLOCKS = {(False, False): "█", (False, True): "▀", (True, False): "▄", (True, True): " "}
QUIET_ZONE = 2  # modules of margin in terminal art; images get the standard four
IMAGE_QUIET_ZONE = 4
RENDERINGS_KEPT = 2048
DARK = 0  # zxing-cpp's images are 8-bit grey: 0 for a dark module, 255 for a light one


def _modules(payload: str) -> list[list[bool]]:
    """The code's modules, True where dark, without a quiet zone."""
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    image = code.to_image(scale=1, add_quiet_zones=False)
    pixels = bytes(image)  # type: ignore[call-overload]  # the stub omits the buffer protocol
    size = round(len(pixels) ** 0.5)  # a QR code is square, one byte per module at scale 1
    return [[pixels[y * size + x] == DARK for x in range(size)] for y in range(size)]


def _with_margin(modules: list[list[bool]], margin: int) -> list[list[bool]]:
    width = len(modules[0]) + 2 * margin
    blank = [[False] * width for _ in range(margin)]
    side = [False] * margin
    return blank + [side + row + side for row in modules] + [list(row) for row in blank]


@lru_cache(maxsize=RENDERINGS_KEPT)
def png(payload: str, scale: int = 6) -> bytes:
    rows = _with_margin(_modules(payload), IMAGE_QUIET_ZONE)
    image = Image.new("1", (len(rows[0]), len(rows)))
    image.putdata([0 if dark else 1 for row in rows for dark in row])
    out = io.BytesIO()
    image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


@lru_cache(maxsize=RENDERINGS_KEPT)
def svg(payload: str, scale: int = 6) -> bytes:
    rows = _with_margin(_modules(payload), IMAGE_QUIET_ZONE)
    size = len(rows) * scale
    # One path of unit squares on a light background: small, and crisp at any zoom.
    squares = "".join(
        f"M{x},{y}h1v1h-1z" for y, row in enumerate(rows) for x, dark in enumerate(row) if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {len(rows)} {len(rows)}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{squares}"/></svg>'
    ).encode()


@lru_cache(maxsize=RENDERINGS_KEPT)
def terminal_art(payload: str) -> str:
    rows = _with_margin(_modules(payload), QUIET_ZONE)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        lines.append("".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True)))
    return "\n".join(lines) + "\n"
