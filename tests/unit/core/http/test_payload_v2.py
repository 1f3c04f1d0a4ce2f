"""Payload format 2.0: the event built from an HTTP request and the result mapped back."""

from __future__ import annotations

import base64

import orjson
import pytest

from lambdabox.core.http import HttpRequest, MalformedResponse
from lambdabox.core.http.payload_v2 import event_v2, request_time, response_v2

NOW = 1583348638.390


def _event(request: HttpRequest, **extra: object) -> dict[str, object]:
    return event_v2(
        request,
        route_key="$default",
        stage="$default",
        api_id="abc",
        domain_prefix="abc",
        request_id="rid",
        now=NOW,
        **extra,  # type: ignore[arg-type]
    )


def test_event_maps_request_like_aws() -> None:
    request = HttpRequest(
        "POST",
        "/my/p%20ath",
        "a=1&a=2&b=x%20y&flag",
        (
            ("Host", "abc.lambda-url.us-east-1.localhost"),
            ("User-Agent", "ua/1"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "c1=v1; c2=v2"),
            ("Content-Type", "application/json; charset=utf-8"),
        ),
        b'{"k": "v"}',
        source_ip="10.0.0.1",
        domain_name="abc.lambda-url.us-east-1.localhost",
    )
    event = _event(request)
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/my/p%20ath"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&flag"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    headers = event["headers"]
    assert isinstance(headers, dict)
    assert headers["x-multi"] == "one,two" and "cookie" not in headers and headers["user-agent"] == "ua/1"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "flag": ""}
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    assert "pathParameters" not in event and "stageVariables" not in event
    context = event["requestContext"]
    assert context == {
        "accountId": "anonymous",
        "apiId": "abc",
        "domainName": "abc.lambda-url.us-east-1.localhost",
        "domainPrefix": "abc",
        "http": {
            "method": "POST",
            "path": "/my/p ath",
            "protocol": "HTTP/1.1",
            "sourceIp": "10.0.0.1",
            "userAgent": "ua/1",
        },
        "requestId": "rid",
        "routeKey": "$default",
        "stage": "$default",
        "time": "04/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    }


def test_event_leaves_out_empty_members_and_encodes_binary() -> None:
    empty = _event(HttpRequest("GET", "/", "", ()))
    assert "cookies" not in empty and "queryStringParameters" not in empty and "body" not in empty
    assert empty["isBase64Encoded"] is False
    binary = _event(HttpRequest("PUT", "/", "", (("content-type", "application/octet-stream"),), b"\x00\xff"))
    assert binary["isBase64Encoded"] is True and binary["body"] == base64.b64encode(b"\x00\xff").decode()
    untyped = _event(HttpRequest("PUT", "/", "", (), b"hello"))
    assert untyped["isBase64Encoded"] is True
    bad_text = _event(HttpRequest("PUT", "/", "", (("content-type", "text/plain"),), b"\xff"))
    assert bad_text["isBase64Encoded"] is True


def test_event_optional_members() -> None:
    event = _event(
        HttpRequest("GET", "/", "", ()),
        path_parameters={"id": "1"},
        stage_variables={"s": "v"},
        authorizer={"iam": {"accountId": "000000000000"}},
        account_id="000000000000",
    )
    assert event["pathParameters"] == {"id": "1"} and event["stageVariables"] == {"s": "v"}
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["authorizer"] == {"iam": {"accountId": "000000000000"}}
    assert context["accountId"] == "000000000000"


def test_request_time_format() -> None:
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"


def test_response_object() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-Num": 5},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "cookies": ["a=1; Max-Age=5", "b=2"],
        "body": "created",
    }
    response = response_v2(orjson.dumps(result))
    assert response.status == 201 and response.body == b"created"
    assert ("Content-Type", "text/plain") in response.headers and ("X-Num", "5") in response.headers
    assert [v for k, v in response.headers if k == "X-Many"] == ["a", "b"]
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1; Max-Age=5", "b=2"]


def test_response_base64_and_defaults() -> None:
    response = response_v2(orjson.dumps({"statusCode": 200, "body": "AP8=", "isBase64Encoded": True}))
    assert response.body == b"\x00\xff" and response.header("content-type") == "application/json"
    assert response_v2(b'{"statusCode": 204}').body == b""


@pytest.mark.parametrize(
    ("payload", "body"),
    [(b'{"message": "hi"}', b'{"message": "hi"}'), (b"[1,2]", b"[1,2]"), (b'"Hello"', b"Hello"), (b"", b"")],
)
def test_inferred_response(payload: bytes, body: bytes) -> None:
    response = response_v2(payload)
    assert response.status == 200 and response.body == body
    assert response.header("content-type") == "application/json"


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"statusCode": "abc"}',
        b'{"statusCode": 99}',
        b'{"statusCode": true}',
        b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
        b'{"statusCode": 200, "headers": []}',
        b'{"statusCode": 200, "cookies": "a=b"}',
        # Nothing that cannot go out as a header line: a name that is not a token, a line break.
        b'{"statusCode": 200, "headers": {"x bad": "1"}}',
        b'{"statusCode": 200, "headers": {"x-a": "1\\r\\nx-b: 2"}}',
        b'{"statusCode": 200, "multiValueHeaders": {"x-a": ["ok", "no\\n"]}}',
        b'{"statusCode": 200, "cookies": ["a=1\\r\\n"]}',
    ],
)
def test_malformed_response(payload: bytes) -> None:
    with pytest.raises(MalformedResponse):
        response_v2(payload)
