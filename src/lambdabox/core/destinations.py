"""Where the outcome of an asynchronous invocation goes: OnSuccess / OnFailure destinations.

The record is the one AWS sends (spec §5): version, timestamp, requestContext (requestId, functionArn,
condition, approximateInvokeCount), requestPayload, responseContext, responsePayload. Lambda functions
receive it as their event (an asynchronous invocation); EventBridge buses as the `detail` of a
"Lambda Function Invocation Result - Success|Failure" event from source `lambda`."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdabox.core.invoke import InvokeService
from lambdabox.core.models import InvocationResult, QueuedEvent
from lambdabox.core.names import Account, parse_function_ref
from lambdabox.errors import AwsError

log = logging.getLogger("lambdabox.destinations")

# Routes an event to the rules of an EventBridge bus (the events service's `route`).
RouteEvent = Callable[[str, Mapping[str, Any]], int]


def _iso(stamp: float) -> str:
    moment = datetime.fromtimestamp(stamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_or_text(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode("utf-8", "replace")


def invocation_record(
    event: QueuedEvent, condition: str, attempts: int, result: InvocationResult | None
) -> dict[str, Any]:
    function_arn = event.invoked_arn if event.invoked_arn.count(":") >= 7 else f"{event.invoked_arn}:$LATEST"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "requestContext": {
            "requestId": event.id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    if result is not None:
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": result.executed_version}
        if result.function_error is not None:
            response_context["functionError"] = result.function_error
        record["responseContext"] = response_context
        record["responsePayload"] = _json_or_text(result.payload)
    return record


class Destinations:
    def __init__(
        self, invoker: InvokeService, account: Account, route_event: RouteEvent | None = None
    ) -> None:
        self._invoker = invoker
        self._account = account
        self._route_event = route_event

    def deliver(self, destination: str, record: dict[str, Any], success: bool) -> None:
        """Send `record`; a destination that cannot take it is logged, never retried forever."""
        try:
            if ":lambda:" in destination and ":function:" in destination:
                self._invoker.enqueue(parse_function_ref(self._account, destination), orjson.dumps(record))
            elif ":events:" in destination and ":event-bus/" in destination and self._route_event is not None:
                function_arn = record["requestContext"]["functionArn"].rsplit(":", 1)[0]
                outcome = "Success" if success else "Failure"
                self._route_event(
                    destination.rsplit("/", 1)[1],
                    {
                        "version": "0",
                        "id": str(uuid.uuid4()),
                        "detail-type": f"Lambda Function Invocation Result - {outcome}",
                        "source": "lambda",
                        "account": self._account.account_id,
                        "time": _iso(time.time())[:19] + "Z",
                        "region": self._account.region,
                        "resources": [destination, function_arn],
                        "detail": record,
                    },
                )
            else:
                log.warning(
                    "destination %s: this destination type is not served by Lambdabox yet", destination
                )
        except AwsError as error:
            log.warning("destination %s refused the record: %s", destination, error.message)
