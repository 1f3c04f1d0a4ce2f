"""CORS of an HTTP API, as API Gateway applies its CorsConfiguration: it answers preflight requests
itself (whatever the routes), and on other responses replaces the integration's CORS headers by its own
when the request's Origin is allowed."""

from __future__ import annotations

from lambdabox.core.apigateway.models import Cors
from lambdabox.core.http.request import HttpRequest, HttpResponse


def is_preflight(request: HttpRequest) -> bool:
    return (
        request.method == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )


def _allowed_origin(cors: Cors, origin: str | None) -> str | None:
    if origin is None:
        return None
    if origin in cors.allow_origins:
        return origin
    if "*" in cors.allow_origins:
        return "*"
    return None


def preflight(cors: Cors, request: HttpRequest, request_id: str) -> HttpResponse:
    headers: list[tuple[str, str]] = []
    origin = _allowed_origin(cors, request.header("origin"))
    method = (request.header("access-control-request-method") or "").upper()
    requested = [
        h.strip().lower()
        for h in (request.header("access-control-request-headers") or "").split(",")
        if h.strip()
    ]
    method_ok = "*" in cors.allow_methods or method in cors.allow_methods
    headers_ok = "*" in cors.allow_headers or all(h in cors.allow_headers for h in requested)
    if origin is not None and method_ok and headers_ok:
        headers.append(("access-control-allow-origin", origin))
        headers.append(("access-control-allow-methods", ",".join(cors.allow_methods)))
        if requested or cors.allow_headers:
            allowed = requested if "*" in cors.allow_headers else list(cors.allow_headers)
            headers.append(("access-control-allow-headers", ",".join(allowed)))
        if cors.allow_credentials:
            headers.append(("access-control-allow-credentials", "true"))
        if cors.max_age is not None:
            headers.append(("access-control-max-age", str(cors.max_age)))
    headers.append(("apigw-requestid", request_id))
    return HttpResponse(204, tuple(headers), b"")


def apply_cors(cors: Cors, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = _allowed_origin(cors, request.header("origin"))
    if origin is None:
        return response
    headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    headers.append(("access-control-allow-origin", origin))
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    return HttpResponse(response.status, tuple(headers), response.body)
