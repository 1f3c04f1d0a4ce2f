"""The query protocol server side against botocore's own client serializer and response parser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.parsers import QueryParser
from botocore.serialize import QuerySerializer

from lambdabox.aws.model import load_service_model
from lambdabox.aws.query_protocol import QueryProtocol
from lambdabox.aws.wire import WireRequest
from lambdabox.errors import AwsError

IAM = QueryProtocol(load_service_model("iam"))
STS = QueryProtocol(load_service_model("sts"))


def form_request(protocol: QueryProtocol, operation: str, params: dict[str, Any]) -> WireRequest:
    model = protocol.model.operation_model(operation)
    serialized = QuerySerializer().serialize_to_request(params, model)
    body = urlencode(serialized["body"]).encode()
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    return WireRequest("POST", "/", "", headers, body)


def round_trip(protocol: QueryProtocol, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    fields = protocol.form(form_request(protocol, operation, params))
    model = protocol.operation(fields)
    assert model.name == operation
    return protocol.parse(model, fields)


def test_parses_what_botocore_serializes() -> None:
    params = {
        "RoleArn": "arn:aws:iam::000000000000:role/r",
        "RoleSessionName": "s1",
        "DurationSeconds": 900,
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/A"}, {"arn": "arn:aws:iam::aws:policy/B"}],
        "Tags": [{"Key": "k", "Value": "v"}],
        "TransitiveTagKeys": ["k"],
    }
    assert round_trip(STS, "AssumeRole", params) == params
    listing = {"Scope": "Local", "OnlyAttached": True, "MaxItems": 5}
    assert round_trip(IAM, "ListPolicies", listing) == listing
    assert round_trip(IAM, "UntagUser", {"UserName": "u", "TagKeys": []}) == {"UserName": "u", "TagKeys": []}


def test_maps_nested_structures_and_timestamps() -> None:
    # Other query services' shapes exercise what IAM and STS do not: maps (SNS), structures inside lists
    # (CloudFormation), timestamps and doubles (CloudWatch).
    cloudformation = QueryProtocol(load_service_model("cloudformation"))
    params = {
        "StackName": "s",
        "Parameters": [{"ParameterKey": "a", "ParameterValue": "b", "UsePreviousValue": False}],
    }
    assert round_trip(cloudformation, "UpdateStack", params) == params
    sns = QueryProtocol(load_service_model("sns"))
    attributes = {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message": "m",
                  "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}}  # fmt: skip
    assert round_trip(sns, "Publish", attributes) == attributes
    cloudwatch = QueryProtocol(load_service_model("cloudwatch"))
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = {"Namespace": "n", "MetricData": [{"MetricName": "m", "Timestamp": moment, "Value": 1.5}]}
    assert round_trip(cloudwatch, "PutMetricData", data) == data


def test_get_query_string_and_unknown_actions() -> None:
    request = WireRequest("GET", "/", "Action=GetUser&Version=2010-05-08&UserName=bob", {}, b"")
    fields = IAM.form(request)
    assert IAM.parse(IAM.operation(fields), fields) == {"UserName": "bob"}
    with pytest.raises(AwsError) as missing:
        IAM.operation({})
    assert (missing.value.code, missing.value.message) == ("MissingAction", "Missing Action")
    with pytest.raises(AwsError) as unknown:
        IAM.operation({"Action": "Fly"})
    assert unknown.value.message == "Could not find operation Fly for version 2010-05-08"
    with pytest.raises(AwsError) as wrong:
        fields = {"Action": "ListUsers", "MaxItems": "many"}
        IAM.parse(IAM.operation(fields), fields)
    assert wrong.value.code == "ValidationError"


def parsed(protocol: QueryProtocol, operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    model = protocol.model.operation_model(operation)
    response = {"body": body, "headers": {}, "status_code": status}
    result: dict[str, Any] = QueryParser().parse(response, model.output_shape)
    return result


def test_serialized_outputs_parse_back() -> None:
    model = STS.model.operation_model("GetCallerIdentity")
    body = STS.serialize(model, {"UserId": "u", "Account": "000000000000", "Arn": "arn"}, "req-1")
    assert body.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<GetCallerIdentityResponse xmlns="https://sts'
    )
    assert b"<GetCallerIdentityResult>" in body and b"<RequestId>req-1</RequestId>" in body
    result = parsed(STS, "GetCallerIdentity", body)
    assert (result["UserId"], result["Arn"]) == ("u", "arn")
    users = {"Users": [{"Path": "/", "UserName": "a", "UserId": "AIDA", "Arn": "x", "CreateDate": 0.0}],
             "IsTruncated": True, "Marker": "2"}  # fmt: skip
    result = parsed(IAM, "ListUsers", IAM.serialize(IAM.model.operation_model("ListUsers"), users, "r"))
    assert result["Users"][0]["UserName"] == "a" and result["IsTruncated"] is True and result["Marker"] == "2"
    empty = IAM.serialize(IAM.model.operation_model("DeleteUser"), None, "r2")
    assert empty.endswith(
        b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DeleteUserResponse>"
    )


def test_errors_take_the_models_status() -> None:
    response = IAM.serialize_error(AwsError("NoSuchEntity", "gone <here>"), "rid")
    assert response.status == 404
    assert (
        b"<Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>gone &lt;here&gt;</Message></Error>"
        in (response.body)
    )
    assert (
        IAM.serialize_error(AwsError("ServiceFailure", "x", 500), "r").body.count(b"<Type>Receiver</Type>")
        == 1
    )
    refused = IAM.refuse(
        AwsError("UnrecognizedClientException", "The security token included in the request is invalid.")
    )
    assert refused.status == 403 and b"<Code>InvalidClientTokenId</Code>" in refused.body
    missing = STS.refuse(AwsError("MissingAuthenticationTokenException", "Missing Authentication Token"))
    assert b"<Message>Request is missing Authentication Token</Message>" in missing.body
