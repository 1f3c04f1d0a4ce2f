"""The bundled runtime client reads the Runtime API's answers however they arrive (in one piece or split
across writes, with CRLF or bare LF line ends, behind interim 1xx answers, with a length, chunked, or up to
the end of the connection): the same event either way."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from lambdabox.runtimes.python import lambdabox_runtime_client

BODY = b'{"n": 1}'
HEAD = (
    "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r-1\r\nLambda-Runtime-Deadline-Ms: 1900000000000\r\n"
    "lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:1:function:f\r\n"
    "Lambda-Runtime-Trace-Id:  Root=1-2-3 \r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(BODY)}\r\n\r\n"
).encode()


def _whole(conn: socket.socket) -> None:
    conn.sendall(HEAD + BODY)


def _split(conn: socket.socket) -> None:
    for piece in (HEAD[:40], HEAD[40:-3], HEAD[-3:] + BODY):
        conn.sendall(piece)
        time.sleep(0.05)


def _bare_lf(conn: socket.socket) -> None:
    conn.sendall(HEAD.replace(b"\r\n", b"\n") + BODY)


def _interim(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" + HEAD + BODY)


def _mixed_line_ends(conn: socket.socket) -> None:
    conn.sendall(HEAD[:-2].replace(b"\r\n", b"\n") + b"\r\n" + BODY)  # bare LF lines, CRLF blank line


def _chunked(conn: socket.socket) -> None:
    head = HEAD.replace(b"Content-Length: %d" % len(BODY), b"Transfer-Encoding: chunked")
    conn.sendall(head + b"3;ext=1\r\n" + BODY[:3] + b"\r\n")
    time.sleep(0.05)
    conn.sendall(b"%x\r\n" % (len(BODY) - 3) + BODY[3:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n")


def _until_close(conn: socket.socket) -> None:
    head = HEAD.replace(b"Content-Length: %d\r\n" % len(BODY), b"Connection: close\r\n")
    conn.sendall(head + BODY[:2])
    time.sleep(0.05)
    conn.sendall(BODY[2:])
    conn.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize(
    "send", [_whole, _split, _bare_lf, _mixed_line_ends, _interim, _chunked, _until_close]
)
def test_the_event_is_the_same_however_its_head_arrives(send: Callable[[socket.socket], None]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)  # GET next
            send(conn)
            time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = lambdabox_runtime_client.RuntimeClient(f"127.0.0.1:{port}")
    try:
        request = client.wait_next_invocation()
    finally:
        client.close()
        listener.close()
    assert request.invoke_id == "r-1"
    assert request.deadline_time_in_ms == 1_900_000_000_000
    assert request.invoked_function_arn == "arn:aws:lambda:us-east-1:1:function:f"
    assert request.x_amzn_trace_id == "Root=1-2-3"
    assert request.content_type == "application/json"
    assert request.event_body == BODY


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:9001", ("127.0.0.1", 9001)),
        ("localhost", ("localhost", 80)),
        ("[::1]:9001", ("::1", 9001)),
        ("[::1]", ("::1", 80)),
        ("host:", ("host", 80)),
    ],
)
def test_the_runtime_api_address_splits_as_http_client_splits_it(
    address: str, expected: tuple[str, int]
) -> None:
    assert lambdabox_runtime_client.split_address(address) == expected


def test_a_malformed_answer_is_refused() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):  # the call is retried once on a fresh connection
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SPDY/3 200 OK\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    client = lambdabox_runtime_client.RuntimeClient(f"127.0.0.1:{listener.getsockname()[1]}")
    try:
        with pytest.raises(lambdabox_runtime_client.ProtocolError, match="bad status line"):
            client.restore_next()
    finally:
        client.close()
        listener.close()
