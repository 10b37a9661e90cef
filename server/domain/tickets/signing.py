"""Ticket QR payloads signed with Ed25519, verifiable offline with the public key alone.

The payload is compact JSON (an array: booking code, show id, show date in the theater's
time zone, seat labels, issued-at unix seconds, a random nonce), and the QR code carries
``base64url(payload).base64url(signature)`` without padding.

The private key is derived from the server secret with HKDF-SHA256, so every server process
(and every restart) signs with the same key and publishes the same public key.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from datetime import date, datetime
from functools import lru_cache

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PAYLOAD_FORMAT = (
    "base64url(JSON [code, show_id, show_date, [seat labels], issued_at_unix, nonce])"
    ".base64url(Ed25519 signature of those JSON bytes), both without padding"
)


class TicketClaims(msgspec.Struct, array_like=True, frozen=True):
    code: str
    show_id: uuid.UUID
    show_date: date
    seats: list[str]
    issued_at: int
    nonce: str


SIGNATURE_BYTES = 64  # every Ed25519 signature


class Forged(Exception):
    """The payload is not one we signed, or was changed after signing."""


class Unreadable(Exception):
    """The text is no ticket payload at all: a misread or cut-off scan, worth scanning again."""


@lru_cache(maxsize=4)
def private_key(secret: str) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"bms ticket signing", info=b"ed25519 v1"
    ).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(secret: str) -> Ed25519PublicKey:
    return private_key(secret).public_key()


def public_key_raw(secret: str) -> bytes:
    return public_key(secret).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def public_key_pem(secret: str) -> str:
    return (
        public_key(secret)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_for(
    code: str, show_id: uuid.UUID, show_date: date, seats: list[str], issued_at: datetime
) -> TicketClaims:
    return TicketClaims(
        code=code,
        show_id=show_id,
        show_date=show_date,
        seats=seats,
        issued_at=int(issued_at.timestamp()),
        nonce=b64(secrets.token_bytes(6)),
    )


def sign(secret: str, claims: TicketClaims) -> str:
    payload = msgspec.json.encode(claims)
    return f"{b64(payload)}.{b64(private_key(secret).sign(payload))}"


def verify(key: Ed25519PublicKey, token: str) -> tuple[TicketClaims, str]:
    """The claims of a payload signed by ``key``'s private half, and the payload spelled as it
    was issued (a scanner may pad the base64 halves; the signature covers the bytes, not their
    spelling). Unreadable when the text does not even decode to ticket claims and a
    signature, Forged when it does but the signature does not match."""
    encoded_payload, dot, encoded_signature = token.strip().partition(".")
    try:
        payload, signature = unb64(encoded_payload), unb64(encoded_signature)
        claims = msgspec.json.decode(payload, type=TicketClaims)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from None
    if not dot or len(signature) != SIGNATURE_BYTES:
        raise Unreadable("no complete signature")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise Forged("the signature does not match") from None
    return claims, f"{b64(payload)}.{b64(signature)}"
