"""A ticket's QR code as PNG, SVG and terminal art (text the TUI can print).

The code is built by zxing-cpp (C++) with a fixed data mask: about 0.15 ms per ticket, where a
pure-Python encoder took about 4 ms even with its mask search skipped. The pixels stay bytes all
the way (one byte per module, 0 dark, 255 light), so drawing them costs a few bytes operations
per row, not a Python step per module. The same library reads codes
back, which the tests use to prove that every rendering scans. A ticket's payload never
changes, so each rendering is also kept per process.
"""

from __future__ import annotations

import io
from functools import lru_cache

import zxingcpp
from PIL import Image

# The encoder is told which of the eight data masks to use instead of scoring all eight by the
# standard's penalty rules (the score is there to avoid patterns that confuse scanners): that
# search was 1.0 of the 1.1 ms a ticket's code cost, a seventh of the server's CPU per
# checkout. Ticket payloads are base64 of JSON claims and a signature, close to random, and for
# them mask 2 scores within 1% of the best mask on average (8% at worst) by those rules,
# measured over 60 realistic payloads; every mask is equally valid to any reader.
TICKET_MASK = 2
QUIET_ZONE = 2  # modules of margin in terminal art; images get the standard four
IMAGE_QUIET_ZONE = 4
RENDERINGS_KEPT = 2048
DARK, LIGHT = 0, 255

# Terminal art puts two module rows in one line of half blocks. Each module pair is coded
# 2 × (top is dark) + (bottom is dark); light modules are drawn (the terminal's foreground is
# light on a dark background), so the code reads correctly on dark terminals.
_TOP_DARK = bytes.maketrans(bytes([DARK, LIGHT]), bytes([2, 0]))
_BOTTOM_DARK = bytes.maketrans(bytes([DARK, LIGHT]), bytes([1, 0]))
_HALF_BLOCKS = [(bytes([code]), block.encode()) for code, block in enumerate("█▀▄ ")]


def _rows(payload: str, margin: int) -> list[bytes]:
    """The code's module rows with ``margin`` light modules around them."""
    code = zxingcpp.create_barcode(
        payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=TICKET_MASK
    )
    image = code.to_image(scale=1, add_quiet_zones=False)
    pixels = bytes(image)  # type: ignore[call-overload]  # the stub omits the buffer protocol
    size = round(len(pixels) ** 0.5)  # a QR code is square, one byte per module at scale 1
    side = bytes([LIGHT]) * margin
    blank = [bytes([LIGHT]) * (size + 2 * margin)] * margin
    body = [side + pixels[start : start + size] + side for start in range(0, len(pixels), size)]
    return blank + body + blank


@lru_cache(maxsize=RENDERINGS_KEPT)
def png(payload: str, scale: int = 6) -> bytes:
    rows = _rows(payload, IMAGE_QUIET_ZONE)
    image = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows)).convert("1")
    out = io.BytesIO()
    image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


@lru_cache(maxsize=RENDERINGS_KEPT)
def svg(payload: str, scale: int = 6) -> bytes:
    rows = _rows(payload, IMAGE_QUIET_ZONE)
    size = len(rows)
    # One path of unit squares on a light background: small, and crisp at any zoom.
    squares = "".join(
        f"M{x},{y}h1v1h-1z"
        for y, row in enumerate(rows)
        for x, value in enumerate(row)
        if value == DARK
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size * scale}" '
        f'height="{size * scale}" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{squares}"/></svg>'
    ).encode()


@lru_cache(maxsize=RENDERINGS_KEPT)
def terminal_art(payload: str) -> str:
    rows = _rows(payload, QUIET_ZONE)
    if len(rows) % 2:
        rows.append(bytes([LIGHT]) * len(rows[0]))
    width = len(rows[0])
    # The whole picture at once, in C: the codes of the two halves never overlap (2 and 1),
    # so OR-ing them as two big integers adds them byte by byte (0.05 ms against 0.15 for a
    # Python step per module).
    tops = b"".join(rows[0::2]).translate(_TOP_DARK)
    bottoms = b"".join(rows[1::2]).translate(_BOTTOM_DARK)
    codes = (int.from_bytes(tops) | int.from_bytes(bottoms)).to_bytes(len(tops))
    art = b"\n".join(codes[start : start + width] for start in range(0, len(codes), width))
    for code, block in _HALF_BLOCKS:
        art = art.replace(code, block)
    return art.decode() + "\n"
