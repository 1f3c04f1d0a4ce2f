"""The one HTTP port: who answers each request (`Edge.route`), the whole-request answer (SigV4, then the
service), and the ASGI adapter for what streams its request body (S3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import orjson

from lambdabox.aws import json_auth
from lambdabox.aws.dispatch import data_plane_of, service_of
from lambdabox.aws.sigv4 import SignatureError, Verifier
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core import ids
from lambdabox.errors import AwsError

MAX_BODY = 80 * 1024 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ServiceFrontEnd(Protocol):
    """A service answering whole requests (bodies bounded, read before the call)."""

    async def handle(self, request: WireRequest) -> WireResponse: ...


class DataPlane(Protocol):
    """A data plane answering whole requests (function URLs, API Gateway invocations): it bounds bodies
    itself, with its own refusal, and checks signatures itself (none reach it verified)."""

    max_body: int

    def too_large(self, head: WireRequest) -> WireResponse: ...
    async def handle(self, request: WireRequest) -> WireResponse: ...


AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


Lifespan = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Whole:
    """How a request is answered once its whole body is read: `respond(head, body)`, after a body of at
    most `max_body` bytes (a larger one is answered `too_large(head)` instead)."""

    respond: Callable[[WireRequest, bytes], Awaitable[WireResponse]]
    max_body: int
    too_large: Callable[[WireRequest], WireResponse]


class Edge:
    """Decides who answers a request (`route`) and answers whole requests (`Whole.respond`).

    Two transports use it: the HTTP protocol of `api/http1.py` reads whole requests itself (the hot
    path: no ASGI in between), and the ASGI adapter (`__call__`) serves what streams its request body
    (S3) and whatever an ASGI server hands it."""

    def __init__(
        self,
        services: dict[str, ServiceFrontEnd],
        internal: ServiceFrontEnd,
        on_startup: Lifespan,
        on_shutdown: Lifespan,
        streaming: dict[str, AsgiApp] | None = None,
        default_service: str | None = None,
        verifier: Verifier | None = None,
        planes: dict[str, DataPlane] | None = None,
    ) -> None:
        # Every call to a whole-request service is SigV4-verified here (None: authentication is off).
        # Streaming services and data planes verify their own requests.
        self._verifier = verifier
        # Services that stream bodies both ways (S3) get the raw ASGI call before any body is read.
        self._streaming = dict(streaming or {})
        self._default = default_service  # for requests with no signature, target or known path
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        # Who answers what, decided once: the per-request work is a dictionary lookup.
        self._whole = {
            name: Whole(partial(self._serve, front_end, name), MAX_BODY, _too_large)
            for name, front_end in services.items()
        }
        self._planes = {
            name: Whole(_unsigned(plane.handle), plane.max_body, plane.too_large)
            for name, plane in (planes or {}).items()
        }
        self._internal = Whole(_unsigned(internal.handle), MAX_BODY, _too_large)

    def route(self, head: WireRequest) -> Whole | AsgiApp:
        """Who answers a request, known from its head: a whole-request answer, or an ASGI app."""
        plane_name = data_plane_of(head)
        if plane_name is not None:
            plane = self._planes.get(plane_name)
            return plane if plane is not None else self._streaming[plane_name]
        if head.raw_path.startswith("/_lambdabox/"):
            return self._internal
        service = service_of(head) or self._default or ""
        whole = self._whole.get(service)
        if whole is not None:
            return whole
        app = self._streaming.get(service)
        if app is not None:
            return app
        return Whole(_unknown(service), MAX_BODY, _too_large)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        head = _head(scope)
        target = self.route(head)
        if not isinstance(target, Whole):
            await target(scope, receive, send)
            return
        body = await _read_body(receive, target.max_body)
        if body is None:
            response = target.too_large(head)
        else:
            response = await target.respond(head, body)
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in (*response.headers.items(), *response.header_list)
        ]
        if response.stream is not None:  # sent chunk by chunk as it is produced
            try:
                await send({"type": "http.response.start", "status": response.status, "headers": headers})
                async for chunk in response.stream:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            finally:
                await close_stream(response.stream)
            return
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _serve(
        self, front_end: ServiceFrontEnd, service: str, head: WireRequest, body: bytes
    ) -> WireResponse:
        """A whole-request service's answer: its signature checked first (unless authentication is off)."""
        principal_arn = None
        if self._verifier is not None:
            try:
                principal_arn = self._authenticate(self._verifier, head, body, service)
            except AwsError as error:
                # Query-protocol services (IAM, STS) word refusals in their own XML.
                refuse = getattr(front_end, "refuse", None)
                if refuse is not None:
                    response: WireResponse = refuse(error)
                    return response
                return _error(error.status, error.code, error.message)
        return await front_end.handle(head.with_body(body, principal_arn))

    @staticmethod
    def _authenticate(
        verifier: Verifier,
        head: WireRequest,
        body: bytes,
        service: str,
    ) -> str:
        """The ARN of whoever signed the request (refused with the service's error when nobody did)."""
        # IAM (global) and STS (global endpoint) also accept their home region us-east-1 in the scope.
        home = (lambda: "us-east-1") if service in ("iam", "sts") else None
        try:
            verified = verifier.signer_of(head, service, body=body, other_region=home)
        except SignatureError as error:
            raise json_auth.refused(service, error) from None
        if verified is None:
            raise json_auth.missing(service)
        return verified.key.principal_arn

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


def request_head(
    method: str,
    raw_path: bytes,
    query: bytes,
    raw_headers: Iterable[tuple[bytes, bytes]],
    client: tuple[str, int] | None,
    server: tuple[str, int | None] | None,
    http_version: str,
) -> WireRequest:
    """A request without its body, from its head as the HTTP layer parsed it (both transports): enough
    to decide who answers it."""
    pairs = tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw_headers)
    return WireRequest(
        method=method,
        raw_path=raw_path.decode("latin-1"),
        query_string=query.decode("latin-1"),
        headers=dict(pairs),  # a repeated name: its last value
        body=b"",
        client_host=(client or ("127.0.0.1", 0))[0],
        header_pairs=pairs,
        server_port=(server or ("", 0))[1] or 0,
        http_version=http_version,
    )


def _head(scope: Scope) -> WireRequest:
    """An ASGI request without its body."""
    return request_head(
        scope["method"],
        scope.get("raw_path", scope["path"].encode()).split(b"?", 1)[0],
        scope.get("query_string", b""),
        scope["headers"],
        scope.get("client"),
        scope.get("server"),
        scope.get("http_version", "1.1"),
    )


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """An ASGI request's whole body; None when it is larger than `limit` (or the client left)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _unsigned(
    handle: Callable[[WireRequest], Awaitable[WireResponse]],
) -> Callable[[WireRequest, bytes], Awaitable[WireResponse]]:
    """A front end that checks signatures itself (or needs none), as a `Whole.respond`."""

    def respond(head: WireRequest, body: bytes) -> Awaitable[WireResponse]:
        return handle(head.with_body(body, head.principal_arn))

    return respond


def _unknown(service: str) -> Callable[[WireRequest, bytes], Awaitable[WireResponse]]:
    async def respond(head: WireRequest, body: bytes) -> WireResponse:
        return _error(
            400,
            "UnknownServiceException",
            f"Lambdabox does not serve the AWS service {service or '(unknown)'!r} yet.",
        )

    return respond


async def close_stream(stream: AsyncIterator[bytes]) -> None:
    """Ends a streamed response's producer, read to its end or not (an async generator's `aclose`)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def _too_large(head: WireRequest) -> WireResponse:
    return _error(413, "RequestEntityTooLargeException", f"Request must be smaller than {MAX_BODY} bytes")


def _error(status: int, code: str, message: str) -> WireResponse:
    return WireResponse(
        status,
        {"x-amzn-ErrorType": code, "Content-Type": "application/json", "x-amzn-RequestId": ids.request_id()},
        orjson.dumps({"__type": code, "message": message}),
    )
