"""`RestJsonProtocol.answer`: the one request loop of the rest-json front ends (Lambda, Scheduler, API Gateway)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from botocore.model import OperationModel

from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import (
    INTERNAL_MESSAGE,
    Output,
    RestJsonProtocol,
    params_only,
    with_service,
)
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.errors import AwsError


@pytest.fixture(scope="module")
def protocol() -> RestJsonProtocol:
    return RestJsonProtocol(load_service_model("lambda"))


def get_function(name: str = "f", query: str = "") -> WireRequest:
    return WireRequest("GET", f"/2015-03-31/functions/{name}", query, {}, b"")


def answer(
    protocol: RestJsonProtocol,
    request: WireRequest,
    handlers: Mapping[str, Callable[[dict[str, Any]], Output]],
    **hooks: Any,
) -> WireResponse:
    hooks.setdefault("service", "Lambda")
    hooks.setdefault("internal_code", "ServiceException")
    return asyncio.run(protocol.answer(request, handlers, params_only, **hooks))


def body(response: WireResponse) -> Any:
    return orjson.loads(response.body)


def test_runs_the_handler_bound_to_its_service(protocol: RestJsonProtocol) -> None:
    def handler(service: str, params: dict[str, Any]) -> Output:
        return {"Configuration": {"FunctionName": f"{service}:{params['FunctionName']}"}}

    response = answer(protocol, get_function("f"), with_service({"GetFunction": handler}, "svc"))
    assert response.status == 200
    assert body(response) == {"Configuration": {"FunctionName": "svc:f"}}
    assert len(response.headers["x-amzn-RequestId"]) == 36


def test_unimplemented_operation_is_501_naming_the_service(protocol: RestJsonProtocol) -> None:
    response = answer(protocol, get_function(), {}, service="Lambda")
    assert response.status == 501
    assert response.headers["x-amzn-ErrorType"] == "NotImplementedException"
    assert "The Lambda operation GetFunction is not implemented by Lambdabox yet." in response.body.decode()


def test_unknown_path_is_404(protocol: RestJsonProtocol) -> None:
    response = answer(protocol, WireRequest("GET", "/nowhere", "", {}, b""), {})
    assert response.status == 404
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "x-amzn-RequestId" in response.headers


def test_validation_code_is_the_protocols() -> None:
    apigateway = RestJsonProtocol(load_service_model("apigatewayv2"), validation_code="BadRequestException")
    request = WireRequest("POST", "/v2/apis", "", {}, b'{"Name": "a"}')  # ProtocolType is required
    response = answer(apigateway, request, {"CreateApi": lambda params: {}}, service="API Gateway")
    assert response.status == 400
    assert response.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert "protocolType" in body(response)["Message"]


def test_hooks_run_in_order(protocol: RestJsonProtocol) -> None:
    seen: list[str] = []
    cached = protocol.route(get_function())

    def route(request: WireRequest) -> tuple[OperationModel, dict[str, str]]:
        seen.append("route")
        return cached[0], dict(cached[1])

    def authorize(operation: str, params: dict[str, Any]) -> None:
        seen.append(f"authorize {operation} {params['FunctionName']}")

    def handler(params: dict[str, Any]) -> Output:
        seen.append("handler")
        return {}

    answer(
        protocol,
        get_function(),
        {"GetFunction": handler},
        route=route,
        admit=lambda request: seen.append("admit"),
        authorize=authorize,
    )
    assert seen == ["route", "admit", "authorize GetFunction f", "handler"]


def test_admit_refuses_before_the_input_is_read(protocol: RestJsonProtocol) -> None:
    def admit(request: WireRequest) -> None:
        raise AwsError("AccessDeniedException", "no", 403)

    bad = get_function("f", "Qualifier=" + "x" * 200)  # fails validation if it were read
    response = answer(protocol, bad, {"GetFunction": lambda params: {}}, admit=admit)
    assert (response.status, response.headers["x-amzn-ErrorType"]) == (403, "AccessDeniedException")


def test_authorize_runs_after_validation(protocol: RestJsonProtocol) -> None:
    def authorize(operation: str, params: dict[str, Any]) -> None:
        raise AwsError("AccessDeniedException", "no", 403)

    bad = get_function("f", "Qualifier=" + "x" * 200)
    response = answer(protocol, bad, {"GetFunction": lambda params: {}}, authorize=authorize)
    assert (response.status, response.headers["x-amzn-ErrorType"]) == (400, "ValidationException")


def test_unexpected_failure_is_a_logged_500_in_the_services_words(
    protocol: RestJsonProtocol, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(params: dict[str, Any]) -> Output:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="lambdabox.rest_json"):
        response = answer(
            protocol,
            get_function(),
            {"GetFunction": broken},
            service="EventBridge Scheduler",
            internal_code="InternalServerException",
            internal_message="Unexpected error during processing of request.",
        )
    assert response.status == 500
    assert response.headers["x-amzn-ErrorType"] == "InternalServerException"
    assert body(response)["message"] == "Unexpected error during processing of request."
    request_id = response.headers["x-amzn-RequestId"]
    assert f"EventBridge Scheduler request {request_id} failed" in caplog.text
    default = answer(protocol, get_function(), {"GetFunction": broken})
    assert INTERNAL_MESSAGE in default.body.decode()


@dataclass
class Call:
    params: dict[str, Any]
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)
    body_stream: AsyncIterator[bytes] | None = None


def test_async_handler_with_a_call_record_and_finish(protocol: RestJsonProtocol) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    async def handler(call: Call) -> Output:
        await asyncio.sleep(0)
        call.headers["Content-Type"] = "text/plain"
        call.body_stream = chunks()
        call.request_id = "mine"
        return {"StatusCode": 200, "Payload": b"out"}

    def finish(call: Call, response: WireResponse) -> str:
        response.headers.update(call.headers)
        response.stream = call.body_stream
        return call.request_id

    def make_call(params: dict[str, Any], request: WireRequest, request_id: str) -> Call:
        return Call(params, request_id)

    handlers: dict[str, Callable[[Call], Awaitable[Output]]] = {"Invoke": handler}
    request = WireRequest("POST", "/2015-03-31/functions/f/invocations", "", {}, b"{}")
    response = asyncio.run(
        protocol.answer(
            request, handlers, make_call, service="Lambda", internal_code="ServiceException", finish=finish
        )
    )
    assert (response.status, response.body) == (200, b"out")
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["x-amzn-RequestId"] == "mine"
    assert response.stream is not None
    asyncio.run(response.stream.aclose())  # type: ignore[attr-defined]
