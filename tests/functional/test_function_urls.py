"""Lambda function URLs end to end: the configuration API through boto3, the data plane through raw HTTP."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, aws_error, create_function, make_zip, unique
from tests.signing import sign

URL = re.compile(r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/")

ECHO = """
import base64, json

def handler(event, context):
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Custom": "yes"},
        "cookies": ["a=1; Max-Age=60", "b=2"],
        "body": json.dumps({"event": event, "request_id": context.aws_request_id}),
    }
"""


def _public(lambda_client: Any, name: str, qualifier: str | None = None, **extra: Any) -> str:
    """A NONE URL with the permission AWS requires for it; returns the URL id."""
    args: dict[str, Any] = {"FunctionName": name, "AuthType": "NONE", **extra}
    permission: dict[str, Any] = {
        "FunctionName": name,
        "StatementId": "public-url",
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    if qualifier:
        args["Qualifier"] = qualifier
        permission["Qualifier"] = qualifier
    created = lambda_client.create_function_url_config(**args)
    lambda_client.add_permission(**permission)
    match = URL.fullmatch(created["FunctionUrl"])
    assert match is not None, created["FunctionUrl"]
    return match.group(1)


def _by_host(server: Server, url_id: str, path: str = "/") -> tuple[str, dict[str, str]]:
    """The request URL (to the server's address) and the Host header of the virtual-host form."""
    return f"{server.endpoint}{path}", {"Host": f"{url_id}.lambda-url.{REGION}.localhost:{server.port}"}


def test_url_configuration_lifecycle(lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = deploy()
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    created = lambda_client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert URL.fullmatch(created["FunctionUrl"])
    assert created["FunctionArn"] == arn and created["AuthType"] == "AWS_IAM"
    assert created["InvokeMode"] == "BUFFERED" and "LastModifiedTime" not in created
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", created["CreationTime"])

    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert aws_error(excinfo) == (
        "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function",
        409,
    )

    got = lambda_client.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == created["FunctionUrl"] and got["LastModifiedTime"]
    cors = {
        "AllowOrigins": ["https://example.com"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-one"],
        "ExposeHeaders": ["x-two"],
        "MaxAge": 300,
        "AllowCredentials": True,
    }
    updated = lambda_client.update_function_url_config(
        FunctionName=name, AuthType="NONE", Cors=cors, InvokeMode="RESPONSE_STREAM"
    )
    assert updated["AuthType"] == "NONE" and updated["Cors"] == cors
    assert updated["InvokeMode"] == "RESPONSE_STREAM" and updated["FunctionUrl"] == created["FunctionUrl"]
    assert updated["CreationTime"] == created["CreationTime"]
    # A partial update keeps the rest; an empty Cors removes it.
    assert lambda_client.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")["Cors"] == cors
    assert "Cors" not in lambda_client.update_function_url_config(FunctionName=name, Cors={})

    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
    aliased = lambda_client.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"] == f"{arn}:live" and aliased["FunctionUrl"] != created["FunctionUrl"]
    listed = lambda_client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert sorted(u["FunctionArn"] for u in listed) == [arn, f"{arn}:live"]
    page = lambda_client.list_function_url_configs(FunctionName=name, MaxItems=1)
    assert len(page["FunctionUrlConfigs"]) == 1 and page["NextMarker"]

    lambda_client.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_url_config(FunctionName=name)
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.delete_function_url_config(FunctionName=name)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    # Deleting the alias deletes its URL.
    lambda_client.delete_alias(FunctionName=name, Name="live")
    assert lambda_client.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_url_configuration_refusals(lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = deploy()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=name, Qualifier="1", AuthType="NONE")
    code, message, status = aws_error(excinfo)
    assert (code, status) == ("ValidationException", 400) and "Value '1' at 'qualifier'" in message
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=f"{name}:1", AuthType="NONE")
    assert aws_error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=name, Qualifier="nope", AuthType="NONE")
    assert aws_error(excinfo)[:2] == (
        "ResourceNotFoundException",
        f"Alias not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:nope",
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=unique(), AuthType="NONE")
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=name, AuthType="OPEN")
    assert aws_error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE", Cors={"MaxAge": 86401})
    assert aws_error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function_url_config(
            FunctionName=name, AuthType="NONE", Cors={"AllowMethods": ["OPTIONS"]}
        )
    assert aws_error(excinfo)[0] == "ValidationException"


def test_request_and_response_mapping(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy(ECHO)
    url_id = _public(lambda_client, name)
    target, host = _by_host(server, url_id, "/some/p%20ath?a=1&a=2&b=x%20y")
    response = http.request(
        "POST",
        target,
        headers={
            **host,
            "Content-Type": "application/json",
            "Cookie": "c1=v1; c2=v2",
            "User-Agent": "tester/1.0",
            "X-Multi": "one",
        },
        body=b'{"hello": "world"}',
    )
    assert response.status == 201, response.data
    assert response.headers["X-Custom"] == "yes" and response.headers["Content-Type"] == "application/json"
    assert response.headers.getlist("Set-Cookie") == ["a=1; Max-Age=60", "b=2"]
    document = response.json()
    assert response.headers["x-amzn-RequestId"] == document["request_id"]
    assert response.headers["X-Amzn-Trace-Id"].startswith("Root=1-")
    event = document["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/some/p%20ath" and event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-multi"] == "one" and event["headers"]["user-agent"] == "tester/1.0"
    assert "cookie" not in event["headers"] and event["headers"]["x-forwarded-proto"] == "http"
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["accountId"] == "anonymous" and context["apiId"] == url_id
    assert context["domainName"] == f"{url_id}.lambda-url.{REGION}.localhost"
    assert context["domainPrefix"] == url_id and context["requestId"] == document["request_id"]
    assert context["http"] == {
        "method": "POST",
        "path": "/some/p ath",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tester/1.0",
    }
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60 and "authorizer" not in context
    assert "pathParameters" not in event and "stageVariables" not in event

    # A binary body arrives base64-encoded; the path form reaches the same URL.
    binary = bytes(range(256))
    response = http.request(
        "PUT",
        f"{server.endpoint}/_lambdabox/url/{url_id}/bin",
        headers={"Content-Type": "application/octet-stream"},
        body=binary,
    )
    event = response.json()["event"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == binary
    assert event["rawPath"] == "/bin" and "queryStringParameters" not in event and "cookies" not in event


def test_inferred_responses_and_errors(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy(
        """
def handler(event, context):
    kind = event["rawPath"].strip("/")
    if kind == "dict":
        return {"message": "hi", "n": 1}
    if kind == "string":
        return "plain words"
    if kind == "binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"}, "body": "AAEC", "isBase64Encoded": True}
    if kind == "bad":
        return {"statusCode": "nope"}
    raise RuntimeError("boom")
"""
    )
    url_id = _public(lambda_client, name)
    base = f"{server.endpoint}/_lambdabox/url/{url_id}"
    plain = http.request("GET", f"{base}/dict")
    assert plain.status == 200 and plain.json() == {"message": "hi", "n": 1}
    assert plain.headers["Content-Type"] == "application/json"
    assert http.request("GET", f"{base}/string").data == b"plain words"
    binary = http.request("GET", f"{base}/binary")
    assert binary.data == b"\x00\x01\x02" and binary.headers["Content-Type"] == "image/png"
    for path in ("bad", "raise"):
        failed = http.request("GET", f"{base}/{path}")
        assert (failed.status, failed.data) == (502, b"Internal Server Error")
        assert failed.headers["x-amzn-RequestId"]


def test_auth_types(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy("def handler(event, context):\n    return event['requestContext']\n")
    # NONE without the resource-policy statement AWS requires: refused.
    created = lambda_client.create_function_url_config(FunctionName=name, AuthType="NONE")
    url_id = URL.fullmatch(created["FunctionUrl"]).group(1)  # type: ignore[union-attr]
    target, host = _by_host(server, url_id)
    refused = http.request("GET", target, headers=host)
    assert refused.status == 403 and refused.json() == {"Message": "Forbidden"}
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    # A statement for AWS_IAM URLs does not open a NONE URL.
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="iam-only",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="AWS_IAM",
    )
    assert http.request("GET", target, headers=host).status == 403

    # AWS_IAM: unsigned and wrongly signed requests are refused, the account's own signer passes.
    lambda_client.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert http.request("GET", target, headers=host).status == 403
    public_name = f"http://{host['Host']}/?q=1"
    signed = sign("GET", public_name, service="lambda")
    response = http.request("GET", f"{target}?q=1", headers={**signed, **host})
    assert response.status == 200, response.data
    iam = response.json()["authorizer"]["iam"]
    assert iam["accountId"] == "000000000000" and iam["userArn"] == "arn:aws:iam::000000000000:root"
    assert response.json()["accountId"] == "000000000000"
    wrong = sign("GET", public_name, service="lambda", secret="not-the-secret")
    refused = http.request("GET", f"{target}?q=1", headers={**wrong, **host})
    assert refused.status == 403 and "signature" in refused.json()["Message"]

    # Unknown URL ids are refused like AWS refuses them.
    unknown = http.request("GET", f"{server.endpoint}/_lambdabox/url/{'0' * 32}/")
    assert unknown.status == 403 and unknown.json() == {"Message": None}


def test_cors(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy(
        "def handler(event, context):\n    return {'method': event['requestContext']['http']['method']}\n"
    )
    url_id = _public(
        lambda_client,
        name,
        Cors={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-token"],
            "ExposeHeaders": ["x-result"],
            "MaxAge": 600,
        },
    )
    target = f"{server.endpoint}/_lambdabox/url/{url_id}/"
    preflight = http.request(
        "OPTIONS",
        target,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-token",
        },
    )
    assert preflight.status == 200 and preflight.data == b""
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-token"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    other = http.request(
        "OPTIONS", target, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    actual = http.request("GET", target, headers={"Origin": "https://app.example"})
    assert actual.json() == {"method": "GET"}
    assert actual.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert actual.headers["Access-Control-Expose-Headers"] == "x-result"


STREAMING_BOOTSTRAP = """#!/bin/sh
exec {python} -u stream.py
"""

STREAMING_RUNTIME = """
import http.client, json, os, time

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.split(":")
while True:
    conn = http.client.HTTPConnection(host, int(port))
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    response = conn.getresponse()
    request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
    event = json.loads(response.read())
    fail = event["rawPath"] == "/fail"

    def body():
        yield json.dumps({"statusCode": 207, "headers": {"content-type": "text/plain", "x-streamed": "1"},
                          "cookies": ["s=1"]}).encode() + b"\\0" * 8
        for n in range(3):
            yield f"part {n}\\n".encode()
            time.sleep(0.4)

    headers = {
        "Lambda-Runtime-Function-Response-Mode": "streaming",
        "Content-Type": "application/vnd.awslambda.http-integration-response",
        "Transfer-Encoding": "chunked",
    }
    post = http.client.HTTPConnection(host, int(port))
    if fail:
        post.putrequest("POST", f"/2018-06-01/runtime/invocation/{request_id}/response")
        for key, value in {**headers, "Trailer": "Lambda-Runtime-Function-Error-Type"}.items():
            post.putheader(key, value)
        post.endheaders()
        post.send(b"0\\r\\nLambda-Runtime-Function-Error-Type: Function.Boom\\r\\n\\r\\n")
    else:
        post.request("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", body=body(),
                     headers=headers, encode_chunked=True)
    post.getresponse().read()
"""


def _deploy_streaming_runtime(deploy: Callable[..., str]) -> str:
    """A provided.al2023 function whose runtime streams its responses (STREAMING_RUNTIME)."""
    files: dict[str, str | bytes] = {
        "bootstrap": STREAMING_BOOTSTRAP.format(python=os.path.realpath(sys.executable)),
        "stream.py": STREAMING_RUNTIME,
    }
    return str(
        deploy(zip_file=make_zip(files, modes={"bootstrap": 0o755}), runtime="provided.al2023", Timeout=10)
    )


def test_response_stream_arrives_in_pieces(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = _deploy_streaming_runtime(deploy)
    url_id = _public(lambda_client, name, InvokeMode="RESPONSE_STREAM")
    started = time.monotonic()
    response = http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/", preload_content=False)
    assert response.status == 207
    assert response.headers["x-streamed"] == "1" and response.headers.getlist("Set-Cookie") == ["s=1"]
    arrivals: list[tuple[float, bytes]] = []
    for piece in response.stream(64):
        arrivals.append((time.monotonic() - started, piece))
    response.release_conn()
    assert b"".join(p for _, p in arrivals) == b"part 0\npart 1\npart 2\n"
    # The first part is out well before the function finished (it sleeps 0.4 s after each part).
    assert len(arrivals) >= 2 and arrivals[-1][0] - arrivals[0][0] > 0.5

    failed = http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/fail")
    assert (failed.status, failed.data) == (502, b"Internal Server Error")


def test_buffered_runtime_under_response_stream(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy("def handler(event, context):\n    return {'statusCode': 202, 'body': 'whole'}\n")
    url_id = _public(lambda_client, name, InvokeMode="RESPONSE_STREAM")
    response = http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/")
    assert (response.status, response.data) == (202, b"whole")


def test_deleting_the_function_deletes_its_urls(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy()
    url_id = _public(lambda_client, name)
    assert http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/").status == 200
    lambda_client.delete_function(FunctionName=name)
    create_function(lambda_client, name=name)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_function_url_config(FunctionName=name)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    assert http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/").status == 403


def test_url_survives_restart(server_factory: Callable[..., Server]) -> None:
    own = server_factory()
    client = own.client()
    name = create_function(client)
    url = client.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    client.add_permission(
        FunctionName=name,
        StatementId="public",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    own.stop()
    own.start()
    assert own.client().get_function_url_config(FunctionName=name)["FunctionUrl"] == url
    url_id = URL.fullmatch(url).group(1)  # type: ignore[union-attr]
    response = urllib3.request("GET", f"{own.endpoint}/_lambdabox/url/{url_id}/x", body=b"", retries=False)
    assert response.status == 200 and json.loads(response.data)["rawPath"] == "/x"


def test_invoke_with_response_stream(lambda_client: Any, deploy: Callable[..., str]) -> None:
    files: dict[str, str | bytes] = {
        "bootstrap": STREAMING_BOOTSTRAP.format(python=os.path.realpath(sys.executable)),
        "stream.py": STREAMING_RUNTIME,
    }
    streaming = deploy(zip_file=make_zip(files, modes={"bootstrap": 0o755}), runtime="provided.al2023")
    response = lambda_client.invoke_with_response_stream(FunctionName=streaming, Payload=b'{"rawPath": "/"}')
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    events = list(response["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]
    assert len(chunks) >= 2 and b"".join(chunks).endswith(b"\0" * 8 + b"part 0\npart 1\npart 2\n")
    assert events[-1] == {"InvokeComplete": {}}
    failed = list(
        lambda_client.invoke_with_response_stream(FunctionName=streaming, Payload=b'{"rawPath": "/fail"}')[
            "EventStream"
        ]
    )
    assert failed[-1]["InvokeComplete"]["ErrorCode"] == "Function.Boom"

    whole = deploy(
        "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return {'n': event['n']}\n"
    )
    events = list(
        lambda_client.invoke_with_response_stream(FunctionName=whole, Payload=b'{"n": 3}')["EventStream"]
    )
    assert events == [{"PayloadChunk": {"Payload": b'{"n": 3}'}}, {"InvokeComplete": {}}]
    events = list(
        lambda_client.invoke_with_response_stream(
            FunctionName=whole, Payload=b'{"fail": true}', LogType="Tail"
        )["EventStream"]
    )
    complete = events[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "ValueError" and complete["ErrorDetails"] == "no"
    assert "START RequestId" in base64.b64decode(complete["LogResult"]).decode()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke_with_response_stream(FunctionName=unique())
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"


def _exchange(port: int, data: bytes, answers: int) -> list[tuple[list[bytes], bytes]]:
    """Send `data` in one write on a fresh connection and read `answers` responses (with a content-length)
    in the order they arrive: each as its header lines and its body."""
    out: list[tuple[list[bytes], bytes]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        buffered = b""
        while len(out) < answers:
            while b"\r\n\r\n" not in buffered:
                buffered += sock.recv(65536) or pytest.fail(f"connection closed after {buffered!r}")
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            length = next(int(v) for k, _, v in (x.partition(b": ") for x in lines) if k == b"content-length")
            while len(buffered) < length:
                buffered += sock.recv(65536) or pytest.fail("connection closed inside a body")
            out.append((lines, buffered[:length]))
            buffered = buffered[length:]
    return out


def test_repeated_response_headers_are_separate_lines(
    server: Server, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    url_id = _public(lambda_client, deploy(ECHO))
    request = f"GET /_lambdabox/url/{url_id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    [(lines, _)] = _exchange(server.port, request, 1)
    assert lines[0] == b"HTTP/1.1 201 Created"
    assert [line for line in lines if line.lower().startswith(b"set-cookie:")] == [
        b"set-cookie: a=1; Max-Age=60",
        b"set-cookie: b=2",
    ]


def test_pipelined_requests_are_answered_in_order(
    server: Server, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    url_id = _public(lambda_client, deploy("def handler(event, context):\n    return event['rawPath']\n"))
    requests = b"".join(
        f"GET /_lambdabox/url/{url_id}/{name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        for name in ("first", "second", "third")
    )
    answers = _exchange(server.port, requests, 3)
    assert [(lines[0], body) for lines, body in answers] == [
        (b"HTTP/1.1 200 OK", b"/first"),
        (b"HTTP/1.1 200 OK", b"/second"),
        (b"HTTP/1.1 200 OK", b"/third"),
    ]


def test_request_over_the_payload_limit_is_413(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    url_id = _public(lambda_client, deploy())
    response = http.request(
        "POST", f"{server.endpoint}/_lambdabox/url/{url_id}/", body=b"x" * (6 * 1024 * 1024 + 1)
    )
    assert response.status == 413 and response.headers["x-amzn-RequestId"]
    assert response.json() == {
        "Message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    }


def test_abandoned_stream_does_not_hold_the_invocation(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = _deploy_streaming_runtime(deploy)
    # One environment at most: the next invocation can only start once the abandoned one has ended.
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    url_id = _public(lambda_client, name, InvokeMode="RESPONSE_STREAM")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /_lambdabox/url/{url_id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        received = b""
        while b"part 0" not in received:
            received += sock.recv(65536) or pytest.fail(f"connection closed after {received!r}")
        assert received.startswith(b"HTTP/1.1 207 ") and b"transfer-encoding: chunked" in received
    # The client left after the first part; the function still ends (about a second later).
    deadline = time.monotonic() + 8
    while True:
        response = http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/")
        if response.status != 429 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (response.status, response.data) == (207, b"part 0\npart 1\npart 2\n")


def test_unsendable_response_header_is_502(
    server: Server, lambda_client: Any, deploy: Callable[..., str], http: urllib3.PoolManager
) -> None:
    name = deploy(
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'headers': {'x-a': '1\\r\\nx-injected: 2'}, 'body': 'no'}\n"
    )
    url_id = _public(lambda_client, name)
    response = http.request("GET", f"{server.endpoint}/_lambdabox/url/{url_id}/")
    assert (response.status, response.data) == (502, b"Internal Server Error")
    assert "x-injected" not in response.headers


def test_head_request_gets_the_head_only(
    server: Server, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    url_id = _public(lambda_client, deploy(ECHO))
    request = f"HEAD /_lambdabox/url/{url_id}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536) or pytest.fail(f"connection closed after {received!r}")
    head, _, rest = received.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 201 Created" and rest == b""
    assert [line for line in lines if line.startswith(b"set-cookie:")] == [
        b"set-cookie: a=1; Max-Age=60",
        b"set-cookie: b=2",
    ]
