"""Refuse a NUL character (U+0000) anywhere in a request's path, query or JSON body.

PostgreSQL text cannot hold NUL: a string carrying one fails the statement it reaches, as a
500 after whatever the request had already done. Checking once, before any handler runs,
answers every endpoint the same 422 and guarantees nothing was started. The happy path costs
two byte scans; naming the offending field is done only when there is one.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import msgspec
from litestar import Request

from server.domain.errors import Invalid

# A JSON escape ``\u0000`` whose backslash is not itself escaped (``\\u0000`` is the text
# "\u0000", which is allowed).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul_characters(request: Request[Any, Any, Any]) -> None:
    """The ``before_request`` hook of the whole app."""
    if "\x00" in request.scope["path"]:
        _refuse("The address (path)")
    if b"%00" in request.scope["query_string"]:
        names = [k for k, v in request.query_params.multi_items() if "\x00" in k + v]
        _refuse(f"The query parameter {_shown(names[0])}" if names else "The query string")
    body = await request.body()
    if b"\x00" in body or (b"\\u0000" in body and _ESCAPED_NUL.search(body)):
        where = _field_with_nul(body)
        _refuse(f"The field {where}" if where else "The request body")


def _refuse(where: str) -> NoReturn:
    raise Invalid(
        f"{where} contains a NUL character (\\u0000), which is not allowed; remove it and "
        "send the request again."
    )


def _field_with_nul(body: bytes) -> str | None:
    """The dotted path of the first string holding a NUL, or None if the body is no JSON."""
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    return _find(document, "")


def _find(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return _shown(where) if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if "\x00" in path:
                return _shown(path)
            if (found := _find(item, path)) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _find(item, f"{where}[{index}]")) is not None:
                return found
    return None


def _shown(name: str) -> str:
    """A name fit to quote back: the NUL spelled out, and not overlong."""
    return name.replace("\x00", "\\u0000")[:80]
