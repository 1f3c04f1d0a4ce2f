"""A small HTTP/1.1 server for the Runtime API, one listening socket per execution environment.

The environment is known by the socket a runtime connects to, so the paths stay exactly AWS's.
Hot path: keep-alive, TCP_NODELAY, httptools parsing, no framework in between.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httptools
import orjson

PREFIX = b"/2018-06-01/runtime/"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # 6,291,556 as AWS's Runtime API


@dataclass(frozen=True)
class NextInvocation:
    request_id: str
    deadline_ms: int
    invoked_arn: str
    payload: bytes
    trace_id: str | None = None
    client_context: str | None = None
    cognito_identity: str | None = None
    content_type: str = "application/json"


class RuntimeApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


class RuntimeBackend(Protocol):
    """What an execution environment offers its runtime."""

    async def next_invocation(self) -> NextInvocation: ...
    def post_response(self, request_id: str, body: bytes, content_type: str | None) -> None: ...
    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> None: ...
    def post_init_error(self, body: bytes, error_type: str | None) -> None: ...
    def restore_next(self) -> None: ...  # SnapStart: the runtime finished Init and its before-snapshot hooks
    def post_restore_error(
        self, body: bytes, error_type: str | None
    ) -> None: ...  # an after-restore hook failed
    # Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`), chunk by chunk as they
    # arrive: `open_stream` says whether the invocation takes a stream (else the body is buffered).
    def open_stream(self, request_id: str, content_type: str | None) -> bool: ...
    def stream_chunk(self, request_id: str, chunk: bytes) -> None: ...
    def end_stream(self, request_id: str, error_type: str | None, error_body: bytes) -> None: ...


_REASONS = {
    200: b"OK",
    202: b"Accepted",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    413: b"Request Entity Too Large",
    500: b"Internal Server Error",
}
_ACCEPTED = b'{"status":"OK"}'


# Decides, from the client's port, whether a connection may use this Runtime API: True, False, or None when
# it cannot tell yet (the environment's process is not known yet): the connection then waits, unread, until
# `RuntimeApiServer.admit_waiting` asks again.
Admission = Callable[[int], bool | None]


class _Connection(asyncio.Protocol):
    def __init__(self, backend: RuntimeBackend, admit: Admission | None, waiting: set[_Connection]) -> None:
        self._backend = backend
        self._admit = admit
        self._waiting = waiting
        self._loop = asyncio.get_running_loop()  # (made by the loop's server, for each connection)
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._body_size = 0
        self._task: asyncio.Task[None] | None = None
        self._streaming: bytes | None = None  # the request id of a response being streamed through
        # Output is gathered while a read is parsed and written once at its end. Answers to requests
        # that a pipelined GET next follows (the bundled runtime sends its result and the next GET in
        # one write) are held until the next event goes out: the runtime reads them together.
        self._corked: list[bytes] | None = None
        self._held = b""
        self._urgent = False  # an error answer was gathered: not to be held

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.admit() is None and self._transport is not None:
            self._transport.pause_reading()
            self._waiting.add(self)

    def admit(self, final: bool = False) -> bool | None:
        """Ask the admission; a connection refused is closed. `final`: no more waiting (None refuses)."""
        transport = self._transport
        if self._admit is None or transport is None:
            return transport is not None
        peer = transport.get_extra_info("peername")
        verdict = self._admit(int(peer[1])) if peer else False
        if verdict is None and not final:
            return None
        if not verdict:
            self.refuse()  # not a process of this environment
            return False
        return True

    def refuse(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def resume(self) -> None:
        if self._transport is not None:
            self._transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self._corked = []
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(400, b'{"errorType":"InvalidRequest","errorMessage":"Malformed HTTP request"}')
            self._close()
        finally:
            out, self._corked = self._corked, None
            urgent, self._urgent = self._urgent, False
            if out:
                self._held += b"".join(out)
                # Held only when a GET next is waiting to carry it and it is good news: a refusal
                # (a runtime's answers to a request that failed end it, as with awslambdaric) goes now.
                if urgent or self._task is None or self._task.done():
                    self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._waiting.discard(self)
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._streaming = None
        self._headers = {}
        self._body = []
        self._body_size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        headers = self._headers
        if headers.get(b"lambda-runtime-function-response-mode") != b"streaming":
            return
        url = self._url.split(b"?", 1)[0]
        start, end = PREFIX + b"invocation/", b"/response"
        if self._parser.get_method() != b"POST" or not url.startswith(start) or not url.endswith(end):
            return
        request_id = url[len(start) : -len(end)]
        content_type = headers.get(b"content-type")
        try:
            streamed = self._backend.open_stream(
                request_id.decode(), content_type.decode() if content_type else None
            )
        except RuntimeApiError:
            return  # answered when the request is complete
        if streamed:
            self._streaming = request_id

    def on_body(self, body: bytes) -> None:
        if self._streaming is not None:
            self._backend.stream_chunk(self._streaming.decode(), body)
            return
        self._body_size += len(body)
        if self._body_size <= MAX_RESPONSE_BYTES:
            self._body.append(body)

    def on_message_complete(self) -> None:
        method = self._parser.get_method()
        url = self._url.split(b"?", 1)[0]
        headers = self._headers
        body = b"".join(self._body)
        oversize = self._body_size > MAX_RESPONSE_BYTES
        if method == b"GET" and url == PREFIX + b"invocation/next":
            self._task = self._loop.create_task(self._serve_next())
            return
        if method == b"GET" and url == PREFIX + b"restore/next":  # SnapStart: Init done, snapshot now
            try:
                self._backend.restore_next()
            except RuntimeApiError as error:
                self._write_error(error)
                return
            self._write(200, b"")
            return
        if self._streaming is not None:  # the trailers (if any) arrived as headers
            try:
                self._backend.end_stream(
                    self._streaming.decode(),
                    _text(headers.get(b"lambda-runtime-function-error-type")),
                    headers.get(b"lambda-runtime-function-error-body", b""),
                )
            except RuntimeApiError as error:
                self._write_error(error)
                return
            self._write(202, _ACCEPTED)
            return
        self._dispatch_post(method, url, headers, body, oversize)

    # request handling
    async def _serve_next(self) -> None:
        try:
            invocation = await self._backend.next_invocation()
        except RuntimeApiError as error:
            self._write_error(error)
            return
        except asyncio.CancelledError:
            self._flush()  # what was held for this answer goes out alone
            raise
        head = (
            f"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {invocation.request_id}\r\n"
            f"Lambda-Runtime-Deadline-Ms: {invocation.deadline_ms}\r\n"
            f"Lambda-Runtime-Invoked-Function-Arn: {invocation.invoked_arn}\r\n"
            f"Content-Type: {invocation.content_type}\r\n"
        )
        if invocation.trace_id:
            head += f"Lambda-Runtime-Trace-Id: {invocation.trace_id}\r\n"
        if invocation.client_context:
            head += f"Lambda-Runtime-Client-Context: {invocation.client_context}\r\n"
        if invocation.cognito_identity:
            head += f"Lambda-Runtime-Cognito-Identity: {invocation.cognito_identity}\r\n"
        head += f"Content-Length: {len(invocation.payload)}\r\n\r\n"
        self._send(head.encode() + invocation.payload)

    def _dispatch_post(
        self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes, oversize: bool
    ) -> None:
        if url == b"/2018-06-01/ping" or url == b"/ping":
            self._write(200, b"pong", [(b"Content-Type", b"text/plain")])
            return
        if method != b"POST" or not url.startswith(PREFIX):
            self._write(404, b'{"errorType":"InvalidRequest","errorMessage":"Unknown Runtime API path"}')
            return
        path = url[len(PREFIX) :].decode()
        error_type = headers.get(b"lambda-runtime-function-error-type")
        error_text = error_type.decode() if error_type else None
        try:
            if path == "init/error":
                self._backend.post_init_error(body, error_text)
            elif path == "restore/error":
                self._backend.post_restore_error(body, error_text)
            elif path.startswith("invocation/") and path.endswith("/response"):
                request_id = path[len("invocation/") : -len("/response")]
                mode = headers.get(b"lambda-runtime-function-response-mode")
                if mode is not None and mode != b"streaming":
                    self._backend.post_error(
                        request_id,
                        orjson.dumps(
                            {
                                "errorMessage": "Invalid response mode header",
                                "errorType": "Runtime.InvalidResponseModeHeader",
                            }
                        ),
                        "Runtime.InvalidResponseModeHeader",
                    )
                    raise RuntimeApiError(
                        400, "InvalidFunctionResponseMode", f"Invalid response mode: {mode.decode()}"
                    )
                if oversize:
                    self._backend.post_error(
                        request_id,
                        orjson.dumps(
                            {
                                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                                f"({MAX_RESPONSE_BYTES} bytes).",
                                "errorType": "Function.ResponseSizeTooLarge",
                            }
                        ),
                        "Function.ResponseSizeTooLarge",
                    )
                    raise RuntimeApiError(
                        413,
                        "RequestEntityTooLarge",
                        f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                    )
                content_type = headers.get(b"content-type")
                self._backend.post_response(request_id, body, content_type.decode() if content_type else None)
            elif path.startswith("invocation/") and path.endswith("/error"):
                request_id = path[len("invocation/") : -len("/error")]
                self._backend.post_error(request_id, body, error_text)
            else:
                raise RuntimeApiError(404, "InvalidRequest", "Unknown Runtime API path")
        except RuntimeApiError as error:
            self._write_error(error)
            return
        self._write(202, _ACCEPTED)

    # output
    def _write_error(self, error: RuntimeApiError) -> None:
        self._write(
            error.status, orjson.dumps({"errorMessage": error.message, "errorType": error.error_type})
        )

    def _write(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown"))]
        content_type_set = False
        for name, value in headers or ():
            head.append(name + b": " + value + b"\r\n")
            content_type_set = content_type_set or name == b"Content-Type"
        if not content_type_set:
            head.append(b"Content-Type: application/json\r\n")
        head.append(b"Content-Length: %d\r\n\r\n" % len(body))
        head.append(body)
        if status >= 300:
            self._urgent = True
        self._send(b"".join(head))

    def _send(self, data: bytes) -> None:
        if self._corked is not None:
            self._corked.append(data)
        else:
            self._held += data
            self._flush()
        if not self._parser.should_keep_alive():
            self._close()

    def _flush(self) -> None:
        data, self._held = self._held, b""
        transport = self._transport
        if data and transport is not None and not transport.is_closing():
            transport.write(data)

    def _close(self) -> None:
        if self._transport is not None:
            if self._corked:
                self._held += b"".join(self._corked)
                self._corked = []
            self._flush()
            self._transport.close()


def _text(value: bytes | None) -> str | None:
    return value.decode() if value else None


class RuntimeApiServer:
    """Serves one environment's Runtime API on its own loopback port."""

    def __init__(
        self, backend: RuntimeBackend, host: str = "127.0.0.1", admit: Admission | None = None
    ) -> None:
        self._backend = backend
        self._host = host
        self._admit = admit
        self._server: asyncio.Server | None = None
        self._waiting: set[_Connection] = set()  # connections whose admission could not be decided yet
        self.port = 0

    async def start(self) -> str:
        loop = asyncio.get_running_loop()
        # A socket of our own: given a host and port, the loop would resolve the address first (~70 µs).
        listener = socket.socket(socket.AF_INET6 if ":" in self._host else socket.AF_INET)
        try:
            listener.bind((self._host, 0))
            listener.listen(16)
            listener.setblocking(False)
            self._server = await loop.create_server(
                lambda: _Connection(self._backend, self._admit, self._waiting), sock=listener
            )
        except BaseException:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        return f"{self._host}:{self.port}"

    def admit_waiting(self) -> None:
        """Decide on the connections that came before the admission could (see `Admission`)."""
        waiting, self._waiting = self._waiting, set()
        for connection in waiting:
            if connection.admit(final=True):
                connection.resume()

    def close(self) -> None:
        for connection in self._waiting:  # nobody will decide on them now
            connection.refuse()
        self._waiting.clear()
        if self._server is not None:
            self._server.close()
            self._server = None
