"""The one HTTP port: an ASGI app that hands each request to its service front end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

import orjson

from lambdabox.aws.dispatch import service_of
from lambdabox.aws.wire import WireRequest, WireResponse

MAX_BODY = 80 * 1024 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ServiceFrontEnd(Protocol):
    async def handle(self, request: WireRequest) -> WireResponse: ...


Lifespan = Callable[[], Awaitable[None]]


class Edge:
    def __init__(
        self,
        services: dict[str, ServiceFrontEnd],
        internal: ServiceFrontEnd,
        on_startup: Lifespan,
        on_shutdown: Lifespan,
    ) -> None:
        self._services = services
        self._internal = internal
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        response = await self._respond(scope, receive)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _respond(self, scope: Scope, receive: Receive) -> WireResponse:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return WireResponse(499)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return _error(
                    413, "RequestEntityTooLargeException", f"Request must be smaller than {MAX_BODY} bytes"
                )
            chunks.append(chunk)
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client") or ("127.0.0.1", 0)
        request = WireRequest(
            method=scope["method"],
            raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
            client_host=client[0],
        )
        if request.raw_path.startswith("/_lambdabox/"):
            return await self._internal.handle(request)
        service = service_of(request)
        front_end = self._services.get(service or "")
        if front_end is None:
            return _error(
                400,
                "UnknownServiceException",
                f"Lambdabox does not serve the AWS service {service or '(unknown)'!r} yet.",
            )
        return await front_end.handle(request)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._on_startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    raise
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _error(status: int, code: str, message: str) -> WireResponse:
    return WireResponse(
        status,
        {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
        orjson.dumps({"__type": code, "message": message}),
    )
