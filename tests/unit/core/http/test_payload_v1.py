"""Payload format 1.0: the event API Gateway builds and the Lambda proxy response mapping."""

from __future__ import annotations

import base64

import orjson
import pytest

from lambdabox.core.http.payload_v1 import event_v1, response_v1
from lambdabox.core.http.request import HttpRequest, MalformedResponse


def _request(body: bytes = b"", query: str = "") -> HttpRequest:
    return HttpRequest(
        method="GET",
        raw_path="/prod/a/b",
        raw_query=query,
        headers=(("Accept", "a"), ("X-Dup", "1"), ("X-Dup", "2"), ("User-Agent", "ua")),
        body=body,
        source_ip="10.0.0.1",
        domain_name="abc.execute-api.localhost",
    )


def _event(request: HttpRequest, **extra: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "resource": "/{proxy+}",
        "path": "/a/b",
        "stage": "prod",
        "stage_path": "/prod/a/b",
        "api_id": "abc",
        "account_id": "000000000000",
        "request_id": "rid",
        "now": 1428582896.0,
        "binary": False,
        **extra,
    }
    return event_v1(request, **arguments)  # type: ignore[arg-type]


def test_event_fields() -> None:
    event = _event(_request(b"hi", "x=1&x=2&y="), path_parameters={"proxy": "a/b"})
    assert event["resource"] == "/{proxy+}" and event["path"] == "/a/b" and event["httpMethod"] == "GET"
    assert event["headers"] == {"Accept": "a", "X-Dup": "2", "User-Agent": "ua"}
    assert event["multiValueHeaders"] == {"Accept": ["a"], "X-Dup": ["1", "2"], "User-Agent": ["ua"]}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert event["stageVariables"] is None
    assert event["body"] == "hi" and event["isBase64Encoded"] is False
    assert "version" not in event
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1428582896000
    assert context["path"] == "/prod/a/b" and context["stage"] == "prod"
    assert context["identity"]["sourceIp"] == "10.0.0.1" and context["identity"]["userAgent"] == "ua"


def test_http_api_flavour_and_binary_body() -> None:
    event = _event(_request(b"\x00\xff"), binary=True, http_api=True)
    assert event["version"] == "1.0"
    assert event["headers"] == {"accept": "a", "x-dup": "2", "user-agent": "ua"}
    assert event["isBase64Encoded"] is True and base64.b64decode(str(event["body"])) == b"\x00\xff"
    empty = _event(_request())
    assert empty["body"] is None and empty["queryStringParameters"] is None


def test_response_mapping() -> None:
    response = response_v1(
        orjson.dumps(
            {
                "statusCode": 201,
                "headers": {"X-One": "1", "X-Both": "single"},
                "multiValueHeaders": {"X-Both": ["a", "b"], "Set-Cookie": ["c=1", "d=2"]},
                "body": base64.b64encode(b"\x01\x02").decode(),
                "isBase64Encoded": True,
            }
        )
    )
    assert response.status == 201 and response.body == b"\x01\x02"
    assert ("X-One", "1") in response.headers
    assert [v for k, v in response.headers if k == "X-Both"] == ["a", "b"]
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["c=1", "d=2"]
    assert response.header("content-type") == "application/json"
    assert response_v1(b'{"statusCode": 204}').body == b""


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b'"text"',
        b"[1]",
        b"{}",
        b'{"statusCode": "abc"}',
        b'{"statusCode": true}',
        b'{"statusCode": 200, "body": {"a": 1}}',
        b'{"statusCode": 200, "headers": []}',
        b'{"statusCode": 200, "multiValueHeaders": {"a": "b"}}',
        b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
    ],
)
def test_malformed_responses(payload: bytes) -> None:
    with pytest.raises(MalformedResponse):
        response_v1(payload)
