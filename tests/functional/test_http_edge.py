"""The platform's HTTP/1.1 edge (api/http1.py): requests answered whole without ASGI keep HTTP/1.1's
rules — responses in request order when requests are pipelined (also behind or before one for S3, which
goes through ASGI), `Expect: 100-continue`, `Connection: close` and HTTP/1.0 closing the connection."""

from __future__ import annotations

import socket
from typing import BinaryIO

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY, Server


def _signed(
    server: Server,
    method: str,
    path: str,
    body: bytes = b"",
    service: str = "lambda",
    extra: dict[str, str] | None = None,
    version: str = "HTTP/1.1",
) -> tuple[bytes, bytes]:
    """A SigV4-signed request as bytes: (head, body)."""
    request = AWSRequest(method, f"{server.endpoint}{path}", data=body, headers=dict(extra or {}))
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, REGION).add_auth(request)
    request.headers["Host"] = server.endpoint.split("//", 1)[1]
    lines = [f"{method} {path} {version}"] + [f"{k}: {v}" for k, v in request.headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body


def _read_response(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    status_line = reader.readline()
    assert status_line, "the connection was closed without a response"
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int(reader.readline().strip(), 16):
            body += reader.read(size)
            reader.readline()
        reader.readline()
        return status, headers, body
    return status, headers, reader.read(int(headers.get("content-length", "0")))


def _connect(server: Server) -> socket.socket:
    host, port = server.endpoint.split("//", 1)[1].split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    functions = b"".join(_signed(server, "GET", "/2015-03-31/functions/"))
    settings = b"".join(_signed(server, "GET", "/2016-08-19/account-settings/"))
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(functions + settings + functions)
        answers = [_read_response(reader) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert b'"Functions"' in answers[0][2]
    assert b'"AccountLimit"' in answers[1][2]
    assert b'"Functions"' in answers[2][2]


def test_a_request_for_s3_pipelined_with_whole_requests_keeps_its_place(server: Server) -> None:
    functions = b"".join(_signed(server, "GET", "/2015-03-31/functions/"))
    buckets = b"".join(
        _signed(server, "GET", "/", service="s3", extra={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    )
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(functions + buckets + functions + buckets)
        answers = [_read_response(reader) for _ in range(4)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert b'"Functions"' in answers[0][2] and b'"Functions"' in answers[2][2]
    assert b"ListAllMyBucketsResult" in answers[1][2] and b"ListAllMyBucketsResult" in answers[3][2]


def test_expect_100_continue_is_answered_before_the_body_is_sent(server: Server) -> None:
    head, body = _signed(
        server,
        "POST",
        "/2015-03-31/functions/no-such-function-for-100-continue/invocations",
        b'{"a": 1}',
        extra={"Expect": "100-continue"},
    )
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(head)
        assert reader.readline().startswith(b"HTTP/1.1 100 ")
        assert reader.readline() == b"\r\n"
        sock.sendall(body)
        status, headers, answer = _read_response(reader)
    assert status == 404
    assert headers["x-amzn-errortype"].startswith("ResourceNotFoundException")
    assert b"no-such-function-for-100-continue" in answer


def test_connection_close_and_http_1_0_close_the_connection_after_the_answer(server: Server) -> None:
    for request in (
        b"".join(_signed(server, "GET", "/2015-03-31/functions/", extra={"Connection": "close"})),
        b"".join(_signed(server, "GET", "/2015-03-31/functions/", version="HTTP/1.0")),
    ):
        with _connect(server) as sock, sock.makefile("rb") as reader:
            sock.sendall(request)
            status, headers, body = _read_response(reader)
            assert status == 200 and b'"Functions"' in body
            assert headers.get("connection") == "close"
            assert reader.read() == b""  # closed by the server


def test_keep_alive_serves_many_requests_on_one_connection(server: Server) -> None:
    with _connect(server) as sock, sock.makefile("rb") as reader:
        for _ in range(5):
            sock.sendall(b"".join(_signed(server, "GET", "/2016-08-19/account-settings/")))
            status, headers, body = _read_response(reader)
            assert status == 200 and b'"AccountLimit"' in body
            assert "date" in headers and "x-amzn-requestid" in headers
