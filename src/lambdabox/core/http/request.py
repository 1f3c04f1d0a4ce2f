"""The protocol-neutral HTTP request and response records the payload formats work on."""

from __future__ import annotations

from dataclasses import dataclass
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

    def header(self, name: str) -> str | None:
        """The header's values comma-joined (the HTTP rule for repeated headers), None when absent."""
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None

    @property
    def path(self) -> str:
        """The decoded path (`requestContext.http.path`)."""
        return unquote(self.raw_path)

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or ""

    def is_text_body(self) -> bool:
        """Is the body delivered to the function as text? By its content type, as AWS decides."""
        content_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if not content_type:
            return False
        main, _, sub = content_type.partition("/")
        if main != "text" and not (main == "application" and any(t in sub for t in _TEXT_SUBTYPES)):
            return False
        try:
            self.body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


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
