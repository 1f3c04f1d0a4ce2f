"""The data planes' answers on the wire: an `HttpResponse` (ordered header lines, repeated names such as
`set-cookie` kept) as the `WireResponse` the edge writes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from lambdabox.aws.wire import WireResponse
from lambdabox.core.http import HttpResponse


def to_wire(response: HttpResponse, stream: AsyncIterator[bytes] | None = None) -> WireResponse:
    """`response` with lower-case header names; `stream`, when given, is sent (chunked) instead of its body."""
    lines = tuple((name.lower(), _as_latin1(value)) for name, value in response.headers)
    return WireResponse(response.status, body=response.body, stream=stream, header_list=lines)


def _as_latin1(value: str) -> str:
    """Header values leave as UTF-8; the writers encode latin-1, so a non-ASCII value is handed over as the
    characters of its UTF-8 bytes."""
    return value if value.isascii() else value.encode().decode("latin-1")
