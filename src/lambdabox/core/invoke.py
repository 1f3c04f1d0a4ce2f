"""Invoking a function: resolve what to run, admit it under the concurrency limits, run or queue it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import orjson

from lambdabox.core import ids
from lambdabox.core.concurrency import ConcurrencyLimiter
from lambdabox.core.functions import FunctionService, Resolved
from lambdabox.core.http.stream import ResponseStream
from lambdabox.core.models import (
    FunctionState,
    FunctionVersion,
    InvocationRequest,
    InvocationResult,
    QueuedEvent,
)
from lambdabox.core.names import FunctionRef
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import EventQueue

MAX_SYNC_PAYLOAD = 6_291_456
MAX_ASYNC_PAYLOAD = 1_048_576
MAX_CLIENT_CONTEXT = 3583


class Executor(Protocol):
    async def run(self, version: FunctionVersion, request: InvocationRequest) -> InvocationResult: ...


def check_payload(payload: bytes) -> bytes:
    """An empty body is delivered as `{}`; anything else must be JSON."""
    if not payload:
        return b"{}"
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise AwsError(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {exc}",
        ) from None
    return payload


def check_sync_payload(payload: bytes) -> bytes:
    """The payload rules of a synchronous invocation: at most 6 MB, JSON (empty is `{}`)."""
    if len(payload) > MAX_SYNC_PAYLOAD:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation",
            413,
        )
    return check_payload(payload)


def _check_invocable(version: FunctionVersion) -> None:
    if version.state is not FunctionState.ACTIVE:
        raise AwsError(
            "ResourceConflictException",
            "The operation cannot be performed at this time. The function is currently in the following state: "
            f"{version.state.value}",
            409,
        )


class InvokeService:
    def __init__(
        self,
        functions: FunctionService,
        limiter: ConcurrencyLimiter,
        executor: Executor,
        queue: EventQueue,
        wake_async: Callable[[], None],
    ) -> None:
        self._functions = functions
        self._limiter = limiter
        self._executor = executor
        self._queue = queue
        self._wake_async = wake_async

    async def invoke(
        self,
        ref: FunctionRef,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        tail_logs: bool = False,
    ) -> InvocationResult:
        payload = check_sync_payload(payload)
        resolved = self._functions.resolve(ref)
        return await self.run(resolved, payload, request_id or ids.request_id(), client_context, tail_logs)

    async def run(
        self,
        resolved: Resolved,
        payload: bytes,
        request_id: str,
        client_context: str | None = None,
        tail_logs: bool = False,
        *,
        trace_id: str | None = None,
        response_stream: ResponseStream | None = None,
    ) -> InvocationResult:
        version = resolved.version
        _check_invocable(version)
        request = InvocationRequest(
            request_id=request_id,
            payload=payload,
            invoked_arn=resolved.invoked_arn,
            client_context=client_context,
            trace_id=trace_id or ids.trace_id(),
            tail_logs=tail_logs,
            response_stream=response_stream,
        )
        with self._limiter.acquire(version.name):
            return await self._executor.run(version, request)

    def dry_run(self, ref: FunctionRef) -> Resolved:
        resolved = self._functions.resolve(ref)
        _check_invocable(resolved.version)
        return resolved

    def enqueue(self, ref: FunctionRef, payload: bytes) -> str:
        """Accept an asynchronous invocation: once this returns, the event is durable."""
        if len(payload) > MAX_ASYNC_PAYLOAD:
            raise AwsError(
                "RequestEntityTooLargeException",
                f"{len(payload)} byte payload is too large for the Event invocation type (limit {MAX_ASYNC_PAYLOAD} bytes)",
                413,
            )
        payload = check_payload(payload)
        resolved = self._functions.resolve(ref)
        request_id = ids.request_id()
        now = time.time()
        self._queue.enqueue(
            QueuedEvent(
                id=request_id,
                function_name=ref.name,
                qualifier=resolved.qualifier,
                invoked_arn=resolved.invoked_arn,
                payload=payload,
                enqueued_at=now,
                not_before=now,
            )
        )
        self._wake_async()
        return request_id
