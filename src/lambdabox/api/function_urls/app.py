"""The function URL data plane: a `DataPlane` of the edge that turns HTTP requests into payload 2.0
invocations.

Addressed by host (`<url-id>.lambda-url.<region>.localhost[:port]`) or by path
(`/_lambdabox/url/<url-id>/<path...>`). The edge reads each request whole (up to the synchronous invoke
payload limit). BUFFERED URLs answer once the function returned; RESPONSE_STREAM URLs answer once the
streamed response's status and headers are known, and pass its body on chunk by chunk as the runtime
posts it (a runtime that does not stream is answered as BUFFERED, as AWS does).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

from lambdabox.api.function_urls import cors
from lambdabox.api.http_wire import to_wire
from lambdabox.aws import json_auth
from lambdabox.aws.sigv4 import SignatureError, Verifier
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core import ids
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.function_urls import FunctionUrl, FunctionUrls, may_invoke
from lambdabox.core.functions import FunctionService
from lambdabox.core.http import HttpRequest, HttpResponse, MalformedResponse
from lambdabox.core.http.payload_v2 import event_v2, iam_authorizer, response_head, response_v2
from lambdabox.core.http.stream import HTTP_INTEGRATION_TYPE, ResponseStream, split_prelude, wait_started
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.identity import AccessKey
from lambdabox.core.invoke import MAX_SYNC_PAYLOAD, InvokeService
from lambdabox.core.models import InvocationResult
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.function_urls")

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
    """The edge's `lambda-url` data plane: it checks signatures itself (AWS_IAM URLs) and answers whole."""

    max_body = MAX_SYNC_PAYLOAD  # a larger request is refused (`too_large`) as it arrives

    def __init__(self, deps: UrlDeps) -> None:
        self._d = deps
        self._domain_suffix = f".lambda-url.{deps.account.region}.localhost"
        # Invocations behind streamed responses: each runs to its end (and its outcome is collected)
        # whether or not the client reads the response to its end.
        self._streaming: set[asyncio.Future[InvocationResult]] = set()

    def too_large(self, head: WireRequest) -> WireResponse:
        return to_wire(_refused(_too_large(), _common(ids.request_id(), ids.trace_id())))

    async def handle(self, request: WireRequest) -> WireResponse:
        request_id = ids.request_id()
        trace_id = ids.trace_id()
        common = _common(request_id, trace_id)
        try:
            return await self._serve(request, request_id, trace_id, common)
        except _Refused as refused:
            return to_wire(_refused(refused, common))
        except Exception:
            log.exception("function URL request %s failed", request_id)
            return to_wire(_refused(_message(500, "Internal Server Error"), common))

    async def _serve(
        self, request: WireRequest, request_id: str, trace_id: str, common: Headers
    ) -> WireResponse:
        path = request.raw_path
        if path.startswith(PATH_PREFIX):
            url_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
            event_path = "/" + rest
        else:
            url_id = (request.header("host") or "").split(".", 1)[0]
            event_path = path
        url = self._d.urls.by_id(url_id.lower())
        if url is None:
            raise _message(403, None, "AccessDeniedException")
        origin = request.header("origin")
        if url.cors is not None and origin is not None:
            request_method = request.header("access-control-request-method")
            if cors.is_preflight(request.method, origin, request_method):
                answer = cors.preflight_headers(
                    url.cors, origin, request_method or "", request.header("access-control-request-headers")
                )
                return to_wire(HttpResponse(200, (*answer, *common)))
        caller = self._authorize(url, request)
        client = request.client_host
        http_request = HttpRequest(
            method=request.method,
            raw_path=event_path,
            raw_query=request.query_string,
            headers=(
                *request.header_pairs,
                ("x-amzn-trace-id", trace_id),
                ("x-forwarded-for", client),
                ("x-forwarded-port", str(request.server_port)),
                ("x-forwarded-proto", "http"),
            ),
            body=request.body,
            source_ip=client,
            protocol=f"HTTP/{request.http_version}",
            domain_name=url.url_id + self._domain_suffix,
        )
        event = event_v2(
            http_request,
            route_key="$default",
            stage="$default",
            api_id=url.url_id,
            domain_prefix=url.url_id,
            request_id=request_id,
            now=time.time(),
            authorizer=iam_authorizer(caller) if caller is not None else None,
            account_id=caller.account_id if caller is not None else "anonymous",
        )
        payload = orjson.dumps(event)
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise _too_large()
        extra = cors.response_headers(url.cors, origin) if url.cors is not None and origin else []
        if url.invoke_mode == "RESPONSE_STREAM":
            return await self._invoke_streaming(url, payload, request_id, trace_id, extra + common)
        result = await self._invoke(url, payload, request_id, trace_id, None)
        return to_wire(_buffered(result, extra + common))

    def _authorize(self, url: FunctionUrl, request: WireRequest) -> AccessKey | None:
        """The verified signer of an AWS_IAM request (None for NONE URLs); refuses with 403."""
        caller: AccessKey | None = None
        verifier = self._d.verifier
        if url.auth_type == "AWS_IAM":
            if verifier is None:
                account = self._d.account.account_id
                caller = AccessKey("", "", self._d.root_arn, account)
            else:
                try:
                    verified = verifier.signer_of(request, "lambda", body=request.body)
                except SignatureError as error:
                    refusal = json_auth.refused("lambda", error)
                    raise _message(403, refusal.message, refusal.code) from None
                if verified is None:
                    raise _forbidden()
                caller = verified.key
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
        self, url: FunctionUrl, payload: bytes, request_id: str, trace_id: str, common: Headers
    ) -> WireResponse:
        stream = ResponseStream()
        invocation = asyncio.ensure_future(self._invoke(url, payload, request_id, trace_id, stream))
        self._streaming.add(invocation)
        invocation.add_done_callback(self._settled)
        if not await wait_started(stream, invocation):  # a whole response: mapped as BUFFERED
            return to_wire(_buffered(await invocation, common))
        return await _opened(stream, common)

    def _settled(self, invocation: asyncio.Future[InvocationResult]) -> None:
        """A streamed invocation ended; its outcome, already passed on or no longer wanted, is collected."""
        self._streaming.discard(invocation)
        if not invocation.cancelled():
            invocation.exception()


async def _opened(stream: ResponseStream, common: Headers) -> WireResponse:
    """A streamed response once its status and headers are known (from its prelude, for the HTTP
    integration content type), its body passed on chunk by chunk as it arrives."""
    integration = stream.content_type.split(";", 1)[0].strip() == HTTP_INTEGRATION_TYPE
    pending = b""
    while (chunk := await stream.read()) is not None:
        pending += chunk
        if not integration:
            return to_wire(
                HttpResponse(200, (("content-type", stream.content_type), *common)), _rest(pending, stream)
            )
        parts = split_prelude(pending)
        if parts is None:
            if len(pending) <= MAX_PRELUDE:
                continue
            return to_wire(_refused(_internal(), common))
        head = _prelude(parts[0])
        if head is None:
            return to_wire(_refused(_internal(), common))
        return to_wire(HttpResponse(head[0], (*head[1], *common)), _rest(parts[1], stream))
    # The stream ended before its body began: an error, or a prelude without delimiter, or nothing.
    whole: tuple[int, Headers] | None = None
    if stream.error_type is None:
        whole = _prelude(pending) if integration else (200, [("content-type", stream.content_type)])
    if whole is None:
        return to_wire(_refused(_internal(), common))
    return to_wire(HttpResponse(whole[0], (*whole[1], *common)))


async def _rest(first: bytes, stream: ResponseStream) -> AsyncIterator[bytes]:
    """A streamed response's body from `first` on, chunk by chunk as the runtime posts it."""
    if first:
        yield first
    while (chunk := await stream.read()) is not None:
        yield chunk


def _common(request_id: str, trace_id: str) -> Headers:
    return [("x-amzn-RequestId", request_id), ("X-Amzn-Trace-Id", trace_id)]


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
