"""Every rendering of a ticket's QR code scans back to the signed payload."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from server.domain.tickets import qr

PAYLOADS = [
    "BMS1.eyJiIjoiQk1TLTdLMlEiLCJzIjpbIkU3IiwiRTgiXX0.c2lnbmF0dXJl",
    # the shape of a real ticket: base64 of JSON claims, then of an Ed25519 signature
    "eyJjb2RlIjoiQk1TN0syUVgiLCJzaG93X2lkIjoiZDZmZWM5YjMtNjk2Ni00YjU2LWJkZjAtMjYzNmFiZjQ4N2Qz"
    "Iiwic2hvd19kYXRlIjoiMjAyNi0xMi0wMyIsInNlYXRzIjpbIkExIiwiQTIiXSwiaXNzdWVkX2F0IjoxNzY0NzAw"
    "MDAwLCJub25jZSI6IjRlTzk1NzVXIn0.QGAoC1jb5lZ3EAi7XnGPf9jMQ4UhJfsDxhbO0RFlfcHvdC1HzjsdbKkWXv"
    "9hfkH5F3z9Tg2Uy3_1jU6bEZ2wBQ",
    "BMS1." + "x" * 300 + ".sig",  # a booking with many seats: a larger code version
]


def _decoded(image: Image.Image) -> str:
    found = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None, "no QR code found in the image"
    return found.text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_scans_back_to_the_payload(payload: str) -> None:
    image = Image.open(io.BytesIO(qr.png(payload)))
    assert image.format == "PNG"
    assert _decoded(image.convert("L")) == payload


@pytest.mark.parametrize("payload", PAYLOADS)
def test_terminal_art_scans_back_to_the_payload(payload: str) -> None:
    """Read the half-block art the way a camera reads a dark terminal: drawn cells are light."""
    light_halves = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
    lines = qr.terminal_art(payload).splitlines()
    rows: list[list[bool]] = []
    for line in lines:
        halves = [light_halves[char] for char in line]
        rows += [[top for top, _ in halves], [bottom for _, bottom in halves]]
    scale = 4
    image = Image.new("L", (len(rows[0]), len(rows)))
    image.putdata([255 if light else 0 for row in rows for light in row])
    # The art draws light modules, so the picture is the code's negative: invert it back.
    image = image.point(lambda value: 255 - value)
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    padded = Image.new("L", (image.width + 8 * scale, image.height + 8 * scale), 255)
    padded.paste(image, (4 * scale, 4 * scale))
    assert _decoded(padded) == payload


def test_svg_draws_the_same_modules_as_the_png() -> None:
    payload = PAYLOADS[0]
    root = ET.fromstring(qr.svg(payload))  # noqa: S314 (our own output)
    path = next(el for el in root.iter() if el.tag.endswith("path"))
    squares = path.attrib["d"].count("z")
    image = Image.open(io.BytesIO(qr.png(payload, scale=1))).convert("L")
    dark = image.tobytes().count(0)
    assert squares == dark > 0
