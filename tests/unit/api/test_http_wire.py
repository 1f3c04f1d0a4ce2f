"""A data plane's `HttpResponse` as the `WireResponse` the edge writes."""

from __future__ import annotations

from lambdabox.api.http_wire import to_wire
from lambdabox.core.http import HttpResponse


def test_header_lines_keep_order_and_repeats() -> None:
    response = HttpResponse(
        201, (("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2")), b"hi"
    )
    wire = to_wire(response)
    assert (wire.status, wire.headers, wire.body, wire.stream) == (201, {}, b"hi", None)
    assert wire.header_list == (("content-type", "text/plain"), ("set-cookie", "a=1"), ("set-cookie", "b=2"))


def test_non_ascii_values_leave_as_utf8() -> None:
    wire = to_wire(HttpResponse(200, (("x-name", "café ☕"),)))
    [(_, value)] = wire.header_list
    assert value.encode("latin-1") == "café ☕".encode()
