"""The API Gateway data plane on the shared port: an ASGI app the edge hands the raw request to.

An API is addressed by host, `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` (`localhost`
names resolve to loopback), or, for clients that cannot resolve `*.localhost`, by the path form
`http://127.0.0.1:<port>/_lambdabox/execute-api/<api-id>/<stage>/<path>`. Request bodies are read up to
API Gateway's 10 MB limit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from lambdabox.core.apigateway.gateway import MAX_REQUEST_BODY, Gateway
from lambdabox.core.http.request import HttpRequest, HttpResponse

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

PATH_PREFIX = "/_lambdabox/execute-api/"
_HOST = re.compile(r"([a-z0-9]+)\.execute-api(?:\.[a-z0-9-]+)?\.localhost(?::\d+)?", re.IGNORECASE)


def _address(host: str, raw_path: str) -> tuple[str, str, str] | None:
    """(api id, path below the API's endpoint, domain name)."""
    if raw_path.startswith(PATH_PREFIX):
        api_id, _, rest = raw_path[len(PATH_PREFIX) :].partition("/")
        return api_id.lower(), "/" + rest, f"{api_id.lower()}.execute-api.localhost"
    match = _HOST.fullmatch(host)
    if match is None:
        return None
    return match.group(1).lower(), raw_path or "/", host.rsplit(":", 1)[0]


class ExecuteApi:
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers)
        host = next((v for k, v in headers if k == "host"), "")
        raw_path = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0]
        address = _address(host, raw_path)
        body = await _read_body(receive)
        if body is None:
            return
        if address is None:
            await _send(
                send, HttpResponse(404, (("content-type", "application/json"),), b'{"message":"Not Found"}')
            )
            return
        api_id, path, domain = address
        client = scope.get("client") or ("127.0.0.1", 0)
        request = HttpRequest(
            method=scope["method"],
            raw_path=path,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
            source_ip=client[0],
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            domain_name=domain,
        )
        await _send(send, await self._gateway.handle(api_id, request))


async def _send(send: Send, response: HttpResponse) -> None:
    out = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    out.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": out})
    await send({"type": "http.response.body", "body": response.body})


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, cut one byte past the limit (the gateway answers 413 then); None when the client
    went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        if size <= MAX_REQUEST_BODY:
            chunks.append(chunk)
            size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)[: MAX_REQUEST_BODY + 1]
