"""The Runtime API answers a pipelined result + GET next in one write, and the bundled runtime client
pipelines them; refusals are never held back."""

from __future__ import annotations

import asyncio
import socket
import threading

from lambdabox.api.runtime.server import NextInvocation, RuntimeApiError, RuntimeApiServer
from lambdabox.runtimes.python import lambdabox_runtime_client


class Backend:
    """Hands out queued invocations; records the results it is given."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[NextInvocation] = asyncio.Queue()
        self.results: list[tuple[str, bytes]] = []

    async def next_invocation(self) -> NextInvocation:
        return await self.queue.get()

    def post_response(self, request_id: str, body: bytes, content_type: str | None) -> None:
        if request_id == "unknown":
            raise RuntimeApiError(400, "InvalidRequestID", "Invalid request ID: 'unknown'")
        self.results.append((request_id, body))

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        self.results.append((request_id, body))

    def post_init_error(self, body: bytes, error_type: str | None) -> None: ...
    def restore_next(self) -> None: ...
    def post_restore_error(self, body: bytes, error_type: str | None) -> None: ...
    def open_stream(self, request_id: str, content_type: str | None) -> bool:
        return False

    def stream_chunk(self, request_id: str, chunk: bytes) -> None: ...
    def end_stream(self, request_id: str, error_type: str | None, error_body: bytes) -> None: ...


def _invocation(request_id: str, payload: bytes = b'{"n":1}') -> NextInvocation:
    return NextInvocation(request_id, 1_900_000_000_000, "arn:aws:lambda:us-east-1:1:function:f", payload)


def _recv_some(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return b""


def test_a_pipelined_result_is_answered_together_with_the_next_event() -> None:
    async def scenario() -> None:
        backend = Backend()
        server = RuntimeApiServer(backend)  # type: ignore[arg-type]
        endpoint = await server.start()
        host, port = endpoint.split(":")
        client = socket.create_connection((host, int(port)))
        loop = asyncio.get_running_loop()
        try:
            backend.queue.put_nowait(_invocation("r1"))
            get_next = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
            await loop.sock_sendall(client, get_next)
            first = await asyncio.to_thread(_recv_some, client, 5.0)
            assert first.startswith(b"HTTP/1.1 200 OK\r\n") and b"Lambda-Runtime-Aws-Request-Id: r1" in first
            post = b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"
            await loop.sock_sendall(client, post + b'"ok"' + get_next)
            held = await asyncio.to_thread(_recv_some, client, 0.2)
            assert held == b""  # the 202 waits for the next event
            assert backend.results == [("r1", b'"ok"')]  # but the result was taken at once
            backend.queue.put_nowait(_invocation("r2"))
            both = await asyncio.to_thread(_recv_some, client, 5.0)
            accepted, _, rest = both.partition(b'{"status":"OK"}')
            assert accepted.startswith(b"HTTP/1.1 202 Accepted\r\n")
            assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and b"Lambda-Runtime-Aws-Request-Id: r2" in rest
            # A refusal is not held back, even with a GET next behind it.
            bad = post.replace(b"/r1/", b"/unknown/")
            await loop.sock_sendall(client, bad + b'"ok"' + get_next)
            refused = await asyncio.to_thread(_recv_some, client, 5.0)
            assert refused.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"InvalidRequestID" in refused
        finally:
            client.close()
            server.close()

    asyncio.run(scenario())


def test_the_bundled_client_pipelines_next_behind_each_result() -> None:
    async def scenario() -> None:
        backend = Backend()
        server = RuntimeApiServer(backend)  # type: ignore[arg-type]
        endpoint = await server.start()
        for n in range(4):  # the answer to the third result goes out with the fourth event
            backend.queue.put_nowait(_invocation(f"r{n}", b'{"n":%d}' % n))
        stop = threading.Event()
        seen: list[tuple[str, bytes]] = []

        def runtime() -> None:
            client = lambdabox_runtime_client.RuntimeClient(endpoint)
            try:
                for _ in range(3):
                    request = client.wait_next_invocation()
                    seen.append((request.invoke_id, request.event_body))
                    client.post_invocation_result(request.invoke_id, request.event_body)
            finally:
                client.close()
                stop.set()

        thread = threading.Thread(target=runtime, daemon=True)
        thread.start()
        try:
            while not stop.is_set():
                await asyncio.sleep(0.01)
        finally:
            server.close()
        assert seen == [("r0", b'{"n":0}'), ("r1", b'{"n":1}'), ("r2", b'{"n":2}')]
        assert backend.results == seen

    asyncio.run(scenario())
