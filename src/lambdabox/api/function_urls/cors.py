"""CORS for function URLs, from the URL's `Cors` configuration: preflights are answered here, without
invoking the function; other responses get the Access-Control-* headers next to the function's own."""

from __future__ import annotations

from lambdabox.core.function_urls import Cors

Headers = list[tuple[str, str]]


def _origin_allowed(cors: Cors, origin: str) -> bool:
    allowed = cors.allow_origins or ()
    return "*" in allowed or origin in allowed


def _allow_origin(cors: Cors, origin: str) -> str:
    """`*` for a wildcard configuration without credentials, else the request's own origin."""
    if "*" in (cors.allow_origins or ()) and not cors.allow_credentials:
        return "*"
    return origin


def is_preflight(method: str, origin: str | None, request_method: str | None) -> bool:
    return method == "OPTIONS" and origin is not None and request_method is not None


def preflight_headers(cors: Cors, origin: str, request_method: str, request_headers: str | None) -> Headers:
    """The answer to `OPTIONS` with `Origin` and `Access-Control-Request-Method`: empty when the origin
    or the method is not allowed (the browser then refuses the actual request)."""
    if not _origin_allowed(cors, origin):
        return []
    methods = [m.upper() for m in cors.allow_methods or ()]
    if "*" not in methods and request_method.upper() not in methods:
        return []
    headers: Headers = [("Access-Control-Allow-Origin", _allow_origin(cors, origin))]
    if methods:
        headers.append(
            ("Access-Control-Allow-Methods", request_method.upper() if "*" in methods else ", ".join(methods))
        )
    allowed_headers = list(cors.allow_headers or ())
    if allowed_headers:
        value = request_headers if "*" in allowed_headers and request_headers else ", ".join(allowed_headers)
        headers.append(("Access-Control-Allow-Headers", value))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.max_age is not None:
        headers.append(("Access-Control-Max-Age", str(cors.max_age)))
    headers.append(("Vary", "Origin"))
    return headers


def response_headers(cors: Cors, origin: str) -> Headers:
    """Headers added to an actual (non-preflight) cross-origin response."""
    if not _origin_allowed(cors, origin):
        return []
    headers: Headers = [("Access-Control-Allow-Origin", _allow_origin(cors, origin))]
    if cors.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(cors.expose_headers)))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Vary", "Origin"))
    return headers
