"""The function URL data plane: an ASGI app that turns HTTP requests into payload 2.0 invocations.

Addressed by host (`<url-id>.lambda-url.<region>.localhost[:port]`) or by path
(`/_lambdabox/url/<url-id>/<path...>`). BUFFERED URLs answer once the function returned; RESPONSE_STREAM
URLs pass a streamed response on chunk by chunk as the runtime posts it (a runtime that does not stream
is answered as BUFFERED, as AWS does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson

from lambdabox.api.function_urls import cors
from lambdabox.aws import json_auth
from lambdabox.aws.sigv4 import SignatureError, SignedRequest, Verifier, presented
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.function_urls import FunctionUrl, FunctionUrls, may_invoke
from lambdabox.core.functions import FunctionService
from lambdabox.core.http import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.http.payload_v2 import event_v2, response_head, response_v2
from lambdabox.core.http.stream import HTTP_INTEGRATION_TYPE, ResponseStream, split_prelude, wait_started
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.identity import AccessKey
from lambdabox.core.invoke import MAX_SYNC_PAYLOAD, InvokeService, new_trace_id
from lambdabox.core.models import InvocationResult
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.function_urls")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[str, str]]

PATH_PREFIX = "/_lambdabox/url/"
MAX_PRELUDE = 64 * 1024  # a streamed HTTP response's prelude must arrive within this many bytes
_JSON = ("content-type", "application/json")


@dataclass(frozen=True)
class UrlDeps:
    account: Account
    urls: FunctionUrls
    functions: FunctionService
    settings: FunctionSettings
    invoker: InvokeService
    verifier: Verifier | None  # None: request signatures are not checked (LAMBDABOX_AUTH=off)
    root_arn: str  # who an unsigned caller is when authentication is off
    authorizer: Authorizer | None = None  # IAM authorization of AWS_IAM callers (None: authentication is off)


class _Refused(Exception):
    """An answer the data plane gives instead of invoking (403, 413, 429, 502)."""

    def __init__(self, status: int, body: bytes, error_type: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.error_type = error_type


def _message(status: int, message: str | None, error_type: str | None = None) -> _Refused:
    return _Refused(status, orjson.dumps({"Message": message}), error_type)


def _forbidden() -> _Refused:
    return _message(403, "Forbidden", "AccessDeniedException")


def _internal() -> _Refused:
    """How a function URL answers a function error, a timeout or a response it cannot map."""
    return _Refused(502, b"Internal Server Error")


def _too_large() -> _Refused:
    return _message(
        413, f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"
    )


class FunctionUrlApi:
    def __init__(self, deps: UrlDeps) -> None:
        self._d = deps
        self._domain_suffix = f".lambda-url.{deps.account.region}.localhost"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        trace_id = new_trace_id()
        common = [("x-amzn-RequestId", request_id), ("X-Amzn-Trace-Id", trace_id)]
        try:
            await self._serve(scope, receive, send, request_id, trace_id, common)
        except _Refused as refused:
            await _send_whole(send, _refused(refused, common))
        except Exception:
            log.exception("function URL request %s failed", request_id)
            with contextlib.suppress(Exception):  # unless the response had already started
                await _send_whole(send, _refused(_message(500, "Internal Server Error"), common))

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, trace_id: str, common: Headers
    ) -> None:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), "")
        if path.startswith(PATH_PREFIX):
            url_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
            event_path = "/" + rest
        else:
            url_id = host.split(".", 1)[0]
            event_path = path
        url = self._d.urls.by_id(url_id.lower())
        if url is None:
            raise _message(403, None, "AccessDeniedException")
        method = scope["method"]
        origin = _header(headers, "origin")
        if url.cors is not None and cors.is_preflight(
            method, origin, _header(headers, "access-control-request-method")
        ):
            assert origin is not None
            answer = cors.preflight_headers(
                url.cors,
                origin,
                _header(headers, "access-control-request-method") or "",
                _header(headers, "access-control-request-headers"),
            )
            await _send_whole(send, HttpResponse(200, tuple(answer + common)))
            return
        body = await _read_body(receive)
        query = scope.get("query_string", b"").decode("latin-1")
        caller = self._authorize(url, method, path, query, headers, body)
        client = scope.get("client") or ("127.0.0.1", 0)
        server_port = (scope.get("server") or ("", 0))[1]
        request = HttpRequest(
            method=method,
            raw_path=event_path,
            raw_query=query,
            headers=(
                *headers,
                ("x-amzn-trace-id", trace_id),
                ("x-forwarded-for", client[0]),
                ("x-forwarded-port", str(server_port)),
                ("x-forwarded-proto", scope.get("scheme", "http")),
            ),
            body=body,
            source_ip=client[0],
            protocol=f"HTTP/{scope.get('http_version', '1.1')}",
            domain_name=url.url_id + self._domain_suffix,
        )
        event = event_v2(
            request,
            route_key="$default",
            stage="$default",
            api_id=url.url_id,
            domain_prefix=url.url_id,
            request_id=request_id,
            now=time.time(),
            authorizer=_iam_authorizer(caller) if caller is not None else None,
            account_id=caller.account_id if caller is not None else "anonymous",
        )
        payload = orjson.dumps(event)
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise _too_large()
        extra = cors.response_headers(url.cors, origin) if url.cors is not None and origin else []
        if url.invoke_mode == "RESPONSE_STREAM":
            await self._invoke_streaming(url, payload, request_id, trace_id, send, extra + common)
            return
        result = await self._invoke(url, payload, request_id, trace_id, None)
        await _send_whole(send, _buffered(result, extra + common))

    def _authorize(
        self, url: FunctionUrl, method: str, path: str, query: str, headers: Headers, body: bytes
    ) -> AccessKey | None:
        """The verified signer of an AWS_IAM request (None for NONE URLs); refuses with 403."""
        caller: AccessKey | None = None
        verifier = self._d.verifier
        if url.auth_type == "AWS_IAM":
            if verifier is None:
                account = self._d.account.account_id
                caller = AccessKey("", "", self._d.root_arn, account)
            else:
                signed = SignedRequest(method, path, query, [(k.lower(), v) for k, v in headers])
                claim = presented(signed)
                if claim is None:
                    raise _forbidden()
                try:
                    caller = verifier.verify(signed, claim, "lambda", body=body).key
                except SignatureError as error:
                    refusal = json_auth.refused("lambda", error)
                    raise _message(403, refusal.message, refusal.code) from None
        if not may_invoke(
            self._d.settings,
            url,
            self._d.account,
            caller.principal_arn if caller is not None else None,
            self._d.authorizer,
        ):
            raise _forbidden()
        return caller

    async def _invoke(
        self,
        url: FunctionUrl,
        payload: bytes,
        request_id: str,
        trace_id: str,
        stream: ResponseStream | None,
    ) -> InvocationResult:
        try:
            resolved = self._d.functions.resolve(url.ref)
            return await self._d.invoker.run(
                resolved, payload, request_id, trace_id=trace_id, response_stream=stream
            )
        except AwsError as error:
            if error.status == 429:
                raise _message(429, "Rate Exceeded.", "TooManyRequestsException") from None
            if error.status == 404:
                raise _forbidden() from None
            log.info("function URL %s could not invoke: %s", url.url_id, error.message)
            raise _internal() from None

    async def _invoke_streaming(
        self, url: FunctionUrl, payload: bytes, request_id: str, trace_id: str, send: Send, common: Headers
    ) -> None:
        stream = ResponseStream()
        invocation = asyncio.ensure_future(self._invoke(url, payload, request_id, trace_id, stream))
        if not await wait_started(stream, invocation):  # a whole response: mapped as BUFFERED
            await _send_whole(send, _buffered(await invocation, common))
            return
        try:
            await _relay(stream, send, common)
        finally:
            with contextlib.suppress(_Refused):
                await invocation


async def _relay(stream: ResponseStream, send: Send, common: Headers) -> None:
    """Pass a streamed response on: its prelude (for the HTTP integration content type) sets status
    and headers, the body goes out chunk by chunk as it arrives."""
    integration = stream.content_type.split(";", 1)[0].strip() == HTTP_INTEGRATION_TYPE
    head: tuple[int, Headers] | None = None
    pending = b""
    while (chunk := await stream.read()) is not None:
        if head is not None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            continue
        pending += chunk
        if integration:
            parts = split_prelude(pending)
            if parts is None and len(pending) <= MAX_PRELUDE:
                continue
            head = _prelude(parts[0]) if parts is not None else None
            if head is None:
                await _send_whole(send, _refused(_internal(), common))
                return
            pending = parts[1] if parts is not None else b""
        else:
            head = (200, [("content-type", stream.content_type)])
        await _start(send, head[0], head[1] + common)
        if pending:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
    if head is not None:
        await send({"type": "http.response.body", "body": b""})
        return
    # The stream ended before its body began: an error, or a prelude without delimiter, or nothing.
    if stream.error_type is None:
        head = _prelude(pending) if integration else (200, [("content-type", stream.content_type)])
    if head is None:
        await _send_whole(send, _refused(_internal(), common))
        return
    await _send_whole(send, HttpResponse(head[0], tuple(head[1] + common)))


def _prelude(data: bytes) -> tuple[int, Headers] | None:
    try:
        document = orjson.loads(data) if data.strip() else {}
        if not isinstance(document, dict):
            return None
        return response_head(document)
    except (orjson.JSONDecodeError, MalformedResponse):
        return None


def _buffered(result: InvocationResult, extra: Headers) -> HttpResponse:
    if result.function_error:
        return _refused(_internal(), extra)
    try:
        response = response_v2(result.payload)
    except MalformedResponse:
        return _refused(_internal(), extra)
    return HttpResponse(response.status, (*response.headers, *extra), response.body)


def _refused(refused: _Refused, common: Headers) -> HttpResponse:
    headers = [_JSON, *common]
    if refused.error_type:
        headers.append(("x-amzn-ErrorType", refused.error_type))
    return HttpResponse(refused.status, tuple(headers), refused.body)


def _iam_authorizer(caller: AccessKey) -> dict[str, Any]:
    user_id = caller.account_id if caller.principal_arn.endswith(":root") else caller.access_key_id
    return {
        "iam": {
            "accessKey": caller.access_key_id,
            "accountId": caller.account_id,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": caller.principal_arn,
            "userId": user_id,
        }
    }


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Refused(499, b"")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SYNC_PAYLOAD:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _start(send: Send, status: int, headers: Headers) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.lower().encode("latin-1"), v.encode()) for k, v in headers],
        }
    )


async def _send_whole(send: Send, response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode()) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
