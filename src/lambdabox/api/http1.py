"""uvicorn's httptools protocol, writing each response in one piece.

uvicorn writes a response's head and its body with two `transport.write` calls: two syscalls on this side
and, often, two segments and two wake-ups for the client. Here a connection's writes are gathered and
go out together when the response is complete (or, for a response streamed chunk by chunk, at the end of
the event loop's current turn), so a whole response costs one write.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from lambdabox.api.edge import Edge, Whole, close_stream, request_head
from lambdabox.aws.wire import WireRequest, WireResponse


class _GatheringTransport:
    """Wraps a connection's transport: writes are held until `flush` (called when a response is complete)
    or the end of the loop's turn, whichever comes first; everything else is the transport's own."""

    __slots__ = ("_held", "_loop", "_scheduled", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._scheduled: asyncio.Handle | None = None

    def write(self, data: bytes) -> None:
        self._held.append(data)
        if self._scheduled is None:
            self._scheduled = self._loop.call_soon(self.flush)

    def send(self, data: bytes) -> None:
        """Write `data` behind what is held, now (a whole response: nothing to wait for)."""
        self._held.append(data)
        self.flush()

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if self._held:
            data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatheringHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _GatheringTransport(transport, self.loop)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()


_UNSAFE = re.compile(rb"[\x00\r\n]")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Whole:
    """A whole request the protocol answers itself. It stands where uvicorn keeps its current
    request-response cycle (`cycle`), so that uvicorn queues a request pipelined behind it."""

    __slots__ = ("body", "disconnected", "head", "keep_alive", "response_complete", "size", "target")

    def __init__(self, target: Whole, head: WireRequest, keep_alive: bool) -> None:
        self.target = target
        self.head = head
        self.keep_alive = keep_alive
        self.body: list[bytes] = []
        self.size = 0
        self.response_complete = False
        self.disconnected = False

    @property
    def message_event(self) -> _Whole:  # uvicorn sets its cycle's event when the connection is lost
        return self

    def set(self) -> None:
        pass


class EdgeHttpProtocol(GatheringHttpToolsProtocol):
    """HTTP/1.1 for the platform's port. Requests the edge answers whole (every service but S3, and the
    data planes) are read and answered here, without an ASGI cycle; the rest go to the ASGI app (S3's
    streamed bodies, HEAD requests, requests pipelined behind another)."""

    edge: Edge  # set by `serving`
    _whole: _Whole | None = None  # the whole request being read or answered

    @classmethod
    def serving(cls, edge: Edge) -> type[EdgeHttpProtocol]:
        """The protocol class for a server whose requests `edge` routes."""
        return type("EdgeHttpProtocol", (cls,), {"edge": edge})

    def on_headers_complete(self) -> None:
        cycle = self.cycle
        method = self.parser.get_method()
        if (
            method != b"HEAD"
            and (cycle is None or cycle.response_complete)
            and not self.parser.should_upgrade()
        ):
            head = self._head(method)
            target = self.edge.route(head)
            if isinstance(target, Whole):
                whole = _Whole(target, head, self.parser.should_keep_alive())
                self._whole = whole
                self.cycle = whole  # type: ignore[assignment]
                if self.expect_100_continue:
                    self.transport.write(_CONTINUE)
                return
        self._whole = None
        super().on_headers_complete()

    def _head(self, method: bytes) -> WireRequest:
        url = httptools.parse_url(self.url)
        return request_head(
            method.decode("ascii"),
            url.path,
            url.query or b"",
            self.headers,
            self.client,
            self.server,
            self.parser.get_http_version(),
        )

    def on_body(self, body: bytes) -> None:
        whole = self._whole
        if whole is None:
            super().on_body(body)
            return
        if whole.response_complete:
            return
        whole.size += len(body)
        if whole.size > whole.target.max_body:  # refused at once; the rest of the body is not read
            whole.keep_alive = False
            self._finish(whole, whole.target.too_large(whole.head))
            return
        whole.body.append(body)

    def on_message_complete(self) -> None:
        whole = self._whole
        if whole is None:
            super().on_message_complete()
            return
        if whole.response_complete:
            return
        task = self.loop.create_task(self._answer(whole))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    async def _answer(self, whole: _Whole) -> None:
        try:
            response = await whole.target.respond(whole.head, b"".join(whole.body))
            if response.stream is not None:
                await self._stream(whole, response)
                return
            self._finish(whole, response)
        except Exception:
            self.logger.exception("Exception in a request to %s", whole.head.raw_path)
            if not whole.response_complete:
                whole.keep_alive = False
                self._finish(
                    whole,
                    WireResponse(
                        500, {"content-type": "text/plain; charset=utf-8"}, b"Internal Server Error"
                    ),
                )

    def _head_bytes(self, whole: _Whole, response: WireResponse, framing: bytes) -> list[bytes]:
        out = [STATUS_LINE[response.status]]
        for name, value in self.server_state.default_headers:  # date, server
            out += (name, b": ", value, b"\r\n")
        for key, text in (*response.headers.items(), *response.header_list):
            name, value = key.encode("latin-1"), text.encode("latin-1")
            if _UNSAFE.search(name) or _UNSAFE.search(value):
                raise RuntimeError(f"Invalid HTTP header {key!r}")
            out += (name, b": ", value, b"\r\n")
        if not whole.keep_alive:
            out.append(b"connection: close\r\n")
        out.append(framing)
        return out

    def _finish(self, whole: _Whole, response: WireResponse) -> None:
        """Writes a whole response in one piece and ends the request."""
        if not whole.disconnected:
            out = self._head_bytes(whole, response, b"content-length: %d\r\n\r\n" % len(response.body))
            out.append(response.body)  # (HEAD requests go through ASGI)
            self.transport.send(b"".join(out))  # type: ignore[attr-defined]
        self._complete(whole)

    async def _stream(self, whole: _Whole, response: WireResponse) -> None:
        """A response produced piece by piece, sent chunked as it comes."""
        assert response.stream is not None
        stream = response.stream
        try:
            head = b"".join(self._head_bytes(whole, response, b"transfer-encoding: chunked\r\n\r\n"))
        except Exception:  # answered 500 by `_answer`
            await close_stream(stream)
            raise
        try:
            self.transport.write(head)
            async for chunk in stream:
                if whole.disconnected:
                    break
                if chunk:
                    self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                    await self.flow.drain()
            if not whole.disconnected:
                self.transport.write(b"0\r\n\r\n")
        finally:
            await close_stream(stream)
            self._complete(whole)

    def _complete(self, whole: _Whole) -> None:
        whole.response_complete = True
        if self._whole is whole:
            self._whole = None
        if whole.disconnected:
            return
        if not whole.keep_alive:
            self.transport.close()
        self.on_response_complete()  # writes what is gathered; starts a pipelined request, or the keep-alive timer

    def shutdown(self) -> None:
        whole = self._whole
        if whole is not None and not whole.response_complete:
            whole.keep_alive = False  # closed once answered
            return
        super().shutdown()
