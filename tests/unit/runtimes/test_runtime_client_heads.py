"""The bundled runtime client reads a response head whole when it arrived in one piece, and line by line
when it did not (split across writes, bare LF line ends, interim 1xx answers): the same event either way."""

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


@pytest.mark.parametrize("send", [_whole, _split, _bare_lf, _interim])
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
