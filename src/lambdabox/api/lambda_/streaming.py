"""InvokeWithResponseStream: the function's response as an event stream of `PayloadChunk` events, passed
on as the runtime streams it, closed by one `InvokeComplete` event (with the error, if any)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.invoke import client_context
from lambdabox.aws.eventstream import CONTENT_TYPE, event
from lambdabox.core.http.stream import ResponseStream, wait_started
from lambdabox.core.invoke import check_sync_payload
from lambdabox.core.models import InvocationResult


def _complete(error_code: str | None, details: str | None, log_result: str | None) -> bytes:
    document: dict[str, Any] = {}
    if error_code:
        document["ErrorCode"] = error_code
        document["ErrorDetails"] = details or ""
    if log_result is not None:
        document["LogResult"] = log_result
    return event("InvokeComplete", orjson.dumps(document), "application/json")


def _error_details(payload: bytes) -> str:
    with contextlib.suppress(orjson.JSONDecodeError):
        document = orjson.loads(payload)
        if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
            return str(document["errorMessage"])
    return payload.decode("utf-8", "replace")


async def _whole(result: InvocationResult) -> AsyncIterator[bytes]:
    """A runtime that answered with a whole response: one chunk, then the end."""
    if result.function_error:
        yield _complete(result.error_type or "Unhandled", _error_details(result.payload), result.log_tail)
        return
    if result.payload:
        yield event("PayloadChunk", result.payload)
    yield _complete(None, None, result.log_tail)


async def _streamed(
    stream: ResponseStream, invocation: asyncio.Future[InvocationResult]
) -> AsyncIterator[bytes]:
    while (chunk := await stream.read()) is not None:
        yield event("PayloadChunk", chunk)
    result = await invocation
    if stream.error_type is not None:
        yield _complete(stream.error_type, _error_details(stream.error_body), result.log_tail)
    else:
        yield _complete(None, None, result.log_tail)


async def invoke_with_response_stream(call: Call) -> Output:
    params = call.params
    ref = call.ref()
    invoker = call.deps.invoker
    if params.get("InvocationType") == "DryRun":
        invoker.dry_run(ref)
        return {"StatusCode": 204}
    payload = check_sync_payload(params.get("Payload") or b"")
    context = client_context(params.get("ClientContext"))
    resolved = call.deps.functions.resolve(ref)
    stream = ResponseStream()
    invocation = asyncio.ensure_future(
        invoker.run(
            resolved,
            payload,
            call.request_id,
            context,
            params.get("LogType") == "Tail",
            response_stream=stream,
        )
    )
    if await wait_started(stream, invocation):
        call.body_stream = _streamed(stream, invocation)
    else:
        call.body_stream = _whole(await invocation)  # admission errors (throttles, state) raise here
    return {
        "StatusCode": 200,
        "ExecutedVersion": resolved.version.version,
        "ResponseStreamContentType": CONTENT_TYPE,
    }
