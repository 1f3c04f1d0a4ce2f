"""The one HTTP port: an ASGI app that hands each request to its service front end."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from typing import Any, Protocol

import orjson

from lambdabox.aws import json_auth
from lambdabox.aws.dispatch import data_plane_of, service_of
from lambdabox.aws.sigv4 import SignatureError, SignedRequest, Verifier, presented
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.errors import AwsError

MAX_BODY = 80 * 1024 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ServiceFrontEnd(Protocol):
    """A service answering whole requests (bodies bounded, read before the call)."""

    async def handle(self, request: WireRequest) -> WireResponse: ...


AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


Lifespan = Callable[[], Awaitable[None]]


class Edge:
    def __init__(
        self,
        services: dict[str, ServiceFrontEnd],
        internal: ServiceFrontEnd,
        on_startup: Lifespan,
        on_shutdown: Lifespan,
        streaming: dict[str, AsgiApp] | None = None,
        default_service: str | None = None,
        verifier: Verifier | None = None,
    ) -> None:
        self._services = services
        # Every call to a whole-request service is SigV4-verified here (None: authentication is off).
        # Streaming services verify their own requests (their bodies are not read here).
        self._verifier = verifier
        # Services that stream bodies both ways (S3) get the raw ASGI call before any body is read.
        self._streaming = dict(streaming or {})
        self._default = default_service  # for requests with no signature, target or known path
        self._internal = internal
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        head = _head(scope, pairs)
        plane = self._streaming.get(data_plane_of(head) or "")
        if plane is not None:
            await plane(scope, receive, send)
            return
        internal = head.raw_path.startswith("/_lambdabox/")
        service = None if internal else (service_of(head) or self._default)
        app = self._streaming.get(service or "")
        if app is not None:
            await app(scope, receive, send)
            return
        response = await self._respond(receive, head, service, pairs)
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        if response.stream is not None:  # sent chunk by chunk as it is produced
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            async for chunk in response.stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _respond(
        self, receive: Receive, head: WireRequest, service: str | None, pairs: list[tuple[str, str]]
    ) -> WireResponse:
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
        body = b"".join(chunks)
        if service is None and head.raw_path.startswith("/_lambdabox/"):
            return await self._internal.handle(replace(head, body=body))
        front_end = self._services.get(service or "")
        if front_end is None:
            return _error(
                400,
                "UnknownServiceException",
                f"Lambdabox does not serve the AWS service {service or '(unknown)'!r} yet.",
            )
        principal_arn = None
        if self._verifier is not None:
            assert service is not None
            try:
                principal_arn = self._authenticate(self._verifier, head, body, service, pairs)
            except AwsError as error:
                # Query-protocol services (IAM, STS) word refusals in their own XML.
                refuse = getattr(front_end, "refuse", None)
                if refuse is not None:
                    response: WireResponse = refuse(error)
                    return response
                return _error(error.status, error.code, error.message)
        return await front_end.handle(replace(head, body=body, principal_arn=principal_arn))

    @staticmethod
    def _authenticate(
        verifier: Verifier,
        head: WireRequest,
        body: bytes,
        service: str,
        pairs: list[tuple[str, str]],
    ) -> str:
        """The ARN of whoever signed the request (refused with the service's error when nobody did)."""
        signed = SignedRequest(
            head.method,
            head.raw_path,
            head.query_string,
            pairs,
        )
        try:
            claim = presented(signed)
            if claim is None:
                raise json_auth.missing(service)
            # IAM (global) and STS (global endpoint) also accept their home region us-east-1 in the scope.
            home = (lambda: "us-east-1") if service in ("iam", "sts") else None
            verified = verifier.verify(signed, claim, service, body=body, other_region=home)
        except SignatureError as error:
            raise json_auth.refused(service, error) from None
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


def _head(scope: Scope, pairs: list[tuple[str, str]]) -> WireRequest:
    """The request without its body: enough to decide which service it is for."""
    client = scope.get("client") or ("127.0.0.1", 0)
    return WireRequest(
        method=scope["method"],
        raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=dict(pairs),  # (name, value) pairs with lower-case names; a repeated name: its last value
        body=b"",
        client_host=client[0],
    )


def _error(status: int, code: str, message: str) -> WireResponse:
    return WireResponse(
        status,
        {"x-amzn-ErrorType": code, "Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
        orjson.dumps({"__type": code, "message": message}),
    )
