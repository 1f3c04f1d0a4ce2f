from __future__ import annotations

import base64

import orjson
import pytest

from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol
from lambdabox.aws.wire import WireRequest
from lambdabox.errors import AwsError


@pytest.fixture(scope="module")
def protocol() -> RestJsonProtocol:
    return RestJsonProtocol(load_service_model("lambda", {"MemorySize": {"max": 10240}}))


def request(method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> WireRequest:
    return WireRequest(
        method, path, query, {k.replace("_", "-").lower(): v for k, v in headers.items()}, body
    )


def test_routes_by_request_uri_and_fixed_query(protocol: RestJsonProtocol) -> None:
    assert (
        protocol.route(request("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=x"))[0].name
        == "GetLayerVersionByArn"
    )
    assert protocol.route(request("GET", "/2018-10-31/layers"))[0].name == "ListLayers"
    operation, params = protocol.route(
        request(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations",
        )
    )
    assert operation.name == "Invoke"
    assert params == {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f"}


def test_unknown_path_and_wrong_method(protocol: RestJsonProtocol) -> None:
    with pytest.raises(AwsError) as excinfo:
        protocol.route(request("GET", "/nothing"))
    assert excinfo.value.status == 404
    with pytest.raises(AwsError) as excinfo:
        protocol.route(request("PATCH", "/2015-03-31/functions/f/invocations"))
    assert excinfo.value.status == 405


def test_parses_members_by_location(protocol: RestJsonProtocol) -> None:
    req = request(
        "POST",
        "/2015-03-31/functions/f/invocations",
        "Qualifier=2",
        b'{"a":1}',
        x_amz_invocation_type="Event",
        x_amz_log_type="Tail",
    )
    operation, path = protocol.route(req)
    params = protocol.parse(operation, req, path)
    assert params == {
        "FunctionName": "f",
        "Qualifier": "2",
        "InvocationType": "Event",
        "LogType": "Tail",
        "Payload": b'{"a":1}',
    }
    tags = request("DELETE", "/2017-03-31/tags/arn", "tagKeys=a&tagKeys=b")
    operation, path = protocol.route(tags)
    assert protocol.parse(operation, tags, path)["TagKeys"] == ["a", "b"]


def test_decodes_base64_blobs_in_json(protocol: RestJsonProtocol) -> None:
    body = orjson.dumps(
        {"FunctionName": "f", "Code": {"ZipFile": base64.b64encode(b"zip").decode()}, "MemorySize": 256}
    )
    req = request("POST", "/2015-03-31/functions", body=body)
    operation, path = protocol.route(req)
    params = protocol.parse(operation, req, path)
    assert params["Code"] == {"ZipFile": b"zip"}
    assert params["MemorySize"] == 256


def test_validation_messages(protocol: RestJsonProtocol) -> None:
    operation = protocol.model.operation_model("CreateFunction")
    with pytest.raises(AwsError) as excinfo:
        protocol.validate(operation, {"FunctionName": "f", "Role": "bad", "Code": {}, "MemorySize": 20000})
    error = excinfo.value
    assert error.code == "ValidationException"
    assert error.message.startswith("2 validation errors detected: ")
    assert (
        "Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240"
        in error.message
    )
    assert (
        "at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in error.message
    )


def test_serializes_headers_status_and_payload(protocol: RestJsonProtocol) -> None:
    operation = protocol.model.operation_model("Invoke")
    response = protocol.serialize(
        operation, {"StatusCode": 200, "FunctionError": "Unhandled", "ExecutedVersion": "1", "Payload": b"{}"}
    )
    assert response.status == 200
    assert response.body == b"{}"
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.headers["X-Amz-Executed-Version"] == "1"
    deleted = protocol.serialize(protocol.model.operation_model("DeleteFunction"), {"StatusCode": 204})
    assert (deleted.status, deleted.body) == (204, b"")


def test_error_message_key_follows_the_model(protocol: RestJsonProtocol) -> None:
    not_found = protocol.serialize_error(AwsError("ResourceNotFoundException", "gone", 404))
    assert orjson.loads(not_found.body) == {"Type": "User", "Message": "gone"}
    assert not_found.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    throttled = protocol.serialize_error(
        AwsError(
            "TooManyRequestsException",
            "Rate Exceeded.",
            429,
            fields={"Reason": "R"},
            headers={"Retry-After": "1"},
        )
    )
    assert orjson.loads(throttled.body) == {"Type": "User", "message": "Rate Exceeded.", "Reason": "R"}
    assert throttled.headers["Retry-After"] == "1"
