"""rest-json URI labels that are not identifiers (apigatewayv2's `{resource-arn}`) and iso8601 dates."""

from __future__ import annotations

from datetime import UTC, datetime

from lambdabox.aws.json_values import encode_value
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol
from lambdabox.aws.wire import WireRequest


def test_hyphenated_uri_label_is_routed_and_decoded() -> None:
    protocol = RestJsonProtocol(load_service_model("apigatewayv2"))
    arn = "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc"
    request = WireRequest("GET", f"/v2/tags/{arn}", "", {}, b"")
    operation, params = protocol.route(request)
    assert operation.name == "GetTags"
    assert params == {"resource-arn": "arn:aws:apigateway:us-east-1::/apis/abc"}
    assert protocol.parse(operation, request, params) == {
        "ResourceArn": "arn:aws:apigateway:us-east-1::/apis/abc"
    }


def test_iso8601_timestamps_are_written_as_strings() -> None:
    model = load_service_model("apigatewayv2")
    shape = model.operation_model("GetApi").output_shape.members["CreatedDate"]
    assert encode_value(shape, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    # Without a timestampFormat, rest-json dates stay epoch seconds (apigateway v1's createdDate).
    v1 = load_service_model("apigateway").operation_model("GetRestApi").output_shape.members["createdDate"]
    assert encode_value(v1, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == 1704164645.0
