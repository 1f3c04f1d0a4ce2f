"""A response a function streams while it runs (the Runtime API's `streaming` response mode), handed
from the execution environment to whoever waits for it (a function URL, InvokeWithResponseStream)."""

from __future__ import annotations

import asyncio
from typing import Any

# The content type a runtime gives a streamed HTTP response that starts with a JSON prelude
# (`awslambda.HttpResponseStream.from(...)`): prelude, eight NUL bytes, then the body.
HTTP_INTEGRATION_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\x00" * 8
MAX_STREAMED_BYTES = 20 * 1024 * 1024  # AWS's (soft) limit of a streamed response


class ResponseStream:
    """Chunks in arrival order, then the end (with the error the runtime reported in its trailers).
    Written from the event loop by the environment; read by one consumer on the same loop."""

    def __init__(self, limit: int = MAX_STREAMED_BYTES) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._opened = asyncio.Event()
        self.limit = limit
        self.size = 0
        self.content_type = "application/octet-stream"
        self.error_type: str | None = None
        self.error_body = b""
        self.closed = False

    @property
    def opened(self) -> bool:
        return self._opened.is_set()

    async def wait_opened(self) -> None:
        await self._opened.wait()

    def open(self, content_type: str | None) -> None:
        """The runtime started a streamed response."""
        if content_type:
            self.content_type = content_type
        self._opened.set()

    def write(self, chunk: bytes) -> bool:
        """Pass a chunk on; False once the response is over its size limit (the rest is dropped)."""
        if self.closed:
            return False
        self.size += len(chunk)
        if self.size > self.limit:
            return False
        if chunk:
            self._queue.put_nowait(chunk)
        return True

    def close(self, error_type: str | None = None, error_body: bytes = b"") -> None:
        if self.closed:
            return
        self.closed = True
        self.error_type = error_type
        self.error_body = error_body
        self._queue.put_nowait(None)

    async def read(self) -> bytes | None:
        """The next chunk; None at the end."""
        return await self._queue.get()


def split_prelude(buffered: bytes) -> tuple[bytes, bytes] | None:
    """(prelude, rest of the body) once the delimiter has arrived, else None."""
    at = buffered.find(PRELUDE_DELIMITER)
    if at < 0:
        return None
    return buffered[:at], buffered[at + len(PRELUDE_DELIMITER) :]


async def wait_started(stream: ResponseStream, invocation: asyncio.Future[Any]) -> bool:
    """True once the runtime started streaming its response; False when the invocation ended first
    (the runtime answered with a whole response, or failed before streaming)."""
    opened = asyncio.ensure_future(stream.wait_opened())
    try:
        await asyncio.wait((invocation, opened), return_when=asyncio.FIRST_COMPLETED)
    finally:
        opened.cancel()
    return stream.opened
