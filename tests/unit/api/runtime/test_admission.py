"""A connection that reaches the Runtime API before its admission can be decided (the environment's
process is not known yet: the bundled runtime connects at once) waits, unread, for the decision."""

from __future__ import annotations

import asyncio
import socket

from lambdabox.api.runtime.server import RuntimeApiServer

from .test_pipelining import Backend, _invocation, _recv_some

GET_NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"


def _admission_run(decision: bool) -> tuple[bytes, bytes]:
    """What the client reads before the decision, and after it."""

    async def scenario() -> tuple[bytes, bytes]:
        backend = Backend()
        verdict: list[bool | None] = [None]
        server = RuntimeApiServer(backend, admit=lambda port: verdict[0])  # type: ignore[arg-type]
        host, port = (await server.start()).split(":")
        client = socket.create_connection((host, int(port)))
        loop = asyncio.get_running_loop()
        try:
            backend.queue.put_nowait(_invocation("r1"))
            await loop.sock_sendall(client, GET_NEXT)
            before = await asyncio.to_thread(_recv_some, client, 0.3)
            verdict[0] = decision
            server.admit_waiting()
            try:
                after = await asyncio.to_thread(_recv_some, client, 5.0)
            except ConnectionResetError:  # (closed with the request unread)
                after = b""
            return before, after
        finally:
            client.close()
            server.close()

    return asyncio.run(scenario())


def test_a_connection_waits_for_its_admission_then_is_served() -> None:
    before, after = _admission_run(True)
    assert before == b""  # not read, not answered: nobody knows yet whose connection it is
    assert after.startswith(b"HTTP/1.1 200 OK\r\n") and b"Lambda-Runtime-Aws-Request-Id: r1" in after


def test_a_connection_refused_after_waiting_is_closed_unanswered() -> None:
    before, after = _admission_run(False)
    assert before == b""
    assert after == b""  # closed without an answer
