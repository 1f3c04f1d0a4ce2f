"""Invoke (RequestResponse, Event, DryRun) and the deprecated InvokeAsync."""

from __future__ import annotations

import base64
import binascii

import orjson

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.core.invoke import MAX_CLIENT_CONTEXT
from lambdabox.errors import AwsError


def client_context(encoded: str | None) -> str | None:
    if not encoded:
        return None
    if len(encoded) > MAX_CLIENT_CONTEXT:
        raise AwsError(
            "InvalidParameterValueException",
            f"Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes.",
        )
    try:
        text = base64.b64decode(encoded, validate=True).decode()
        orjson.loads(text)
    except (binascii.Error, UnicodeDecodeError, orjson.JSONDecodeError):
        raise AwsError(
            "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object."
        ) from None
    return text


async def invoke(call: Call) -> Output:
    params = call.params
    invocation_type = params.get("InvocationType") or "RequestResponse"
    payload = params.get("Payload") or b""
    ref = call.ref()
    invoker = call.deps.invoker
    if invocation_type == "DryRun":
        invoker.dry_run(ref)
        return {"StatusCode": 204}
    if invocation_type == "Event":
        call.request_id = invoker.enqueue(ref, payload)
        return {"StatusCode": 202}
    context = client_context(params.get("ClientContext"))
    result = await invoker.invoke(
        ref,
        payload,
        request_id=call.request_id,
        client_context=context,
        tail_logs=params.get("LogType") == "Tail",
    )
    output: dict[str, object] = {
        "StatusCode": 200,
        "ExecutedVersion": result.executed_version,
        "Payload": result.payload,
    }
    if result.function_error:
        output["FunctionError"] = result.function_error
    if result.log_tail is not None:
        output["LogResult"] = result.log_tail
    call.headers["Content-Type"] = result.content_type
    return output


def invoke_async(call: Call) -> Output:
    payload = call.params.get("InvokeArgs") or b""
    if len(payload) > 262_144:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"{len(payload)} byte payload is too large for the InvokeAsync operation (limit 262144 bytes)",
            413,
        )
    call.request_id = call.deps.invoker.enqueue(call.ref(qualifier_member=None), payload)
    return {"Status": 202}
