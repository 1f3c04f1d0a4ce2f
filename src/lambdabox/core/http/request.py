"""The protocol-neutral HTTP request and response records the payload formats work on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote

# Content types whose bodies reach the function as text (when they are valid UTF-8); every other body,
# including a body without a content type, is base64-encoded with `isBase64Encoded: true`.
_TEXT_SUBTYPES = ("json", "xml", "javascript", "yaml", "csv")


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request. `raw_path` is as sent (percent-encoded), without the query string;
    `headers` keeps every header line in order with its name as sent."""

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    domain_name: str = ""

    @cached_property
    def header_values(self) -> dict[str, str]:
        """Lower-cased header name -> its values comma-joined (the HTTP rule for repeated headers)."""
        values: dict[str, str] = {}
        for key, value in self.headers:
            name = key.lower()
            values[name] = f"{values[name]},{value}" if name in values else value
        return values

    def header(self, name: str) -> str | None:
        """The header's values comma-joined, None when absent."""
        return self.header_values.get(name.lower())

    @property
    def path(self) -> str:
        """The decoded path (`requestContext.http.path`)."""
        return unquote(self.raw_path)

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or ""

    def text_body(self) -> str | None:
        """The body as the function gets it when it is delivered as text (by its content type, as AWS
        decides, and valid UTF-8); None when it is delivered base64-encoded."""
        content_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if not content_type:
            return None
        main, _, sub = content_type.partition("/")
        if main != "text" and not (main == "application" and any(t in sub for t in _TEXT_SUBTYPES)):
            return None
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class HttpResponse:
    """What the client gets: `headers` as ordered pairs (repeatable names such as set-cookie)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class MalformedResponse(Exception):
    """The function's result cannot be mapped to an HTTP response (API Gateway and function URLs
    answer 502 then, each with its own body)."""
