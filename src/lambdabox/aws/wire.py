"""Protocol-neutral request and response records passed between the HTTP edge and service front ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class WireRequest:
    method: str
    raw_path: str  # percent-encoded, without the query string
    query_string: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    client_host: str = "127.0.0.1"
    principal_arn: str | None = None  # who signed the request (None: unsigned, or authentication off)
    # Every (lower-case name, value) header pair in arrival order, repeated names included (`headers`
    # keeps a repeated name's last value): for data planes that pass headers on (function URLs, API GW).
    header_pairs: tuple[tuple[str, str], ...] = ()
    server_port: int = 0
    http_version: str = "1.1"

    def with_body(self, body: bytes, principal_arn: str | None) -> WireRequest:
        """This request, of which the head was read, with its body and its signer (one constructor
        call: `dataclasses.replace` inspects the fields on every call, ~5 µs a request here)."""
        return WireRequest(
            self.method,
            self.raw_path,
            self.query_string,
            self.headers,
            body,
            self.client_host,
            principal_arn,
            self.header_pairs,
            self.server_port,
            self.http_version,
        )

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class WireResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # A body sent as it is produced (chunked) instead of `body`: InvokeWithResponseStream's event stream.
    stream: AsyncIterator[bytes] | None = None
    # Header lines written after `headers`, in order, repeated names kept (a function's several
    # `set-cookie` headers): what a data plane passes on from a function's response.
    header_list: tuple[tuple[str, str], ...] = ()
