"""Streaming an object's bytes into the store: buffered, then written and hashed off the event loop in
two threads at once, with one buffer in flight while the next one fills (network reads, disk writes
and hashing overlap)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from lambdabox.core.s3.checksums import Digests
from lambdabox.storage.interfaces import BlobWriter

BUFFER_BYTES = 1 << 20
SMALL_BYTES = 64 * 1024  # at most this much is hashed (and kept) on the event loop: no thread hand-off


class Upload:
    def __init__(self, writer: BlobWriter, algorithms: Iterable[str]) -> None:
        self._writer = writer
        self._digests = Digests(algorithms)
        self._updaters = self._digests.updaters()
        self._buffer = bytearray()
        self._pending: asyncio.Future[None] | None = None
        self.size = 0

    @property
    def blob_id(self) -> str:
        return self._writer.blob_id

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        self._buffer += data
        if len(self._buffer) >= BUFFER_BYTES:
            await self._hand_off()

    async def _hand_off(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending
        if self._buffer:
            # The filled buffer itself goes (no 1 MB copy per hand-off: an upload holds two buffers at
            # the most, the one being written and the one filling).
            data, self._buffer = self._buffer, bytearray()
            self._pending = asyncio.ensure_future(self._consume(data))

    async def _consume(self, data: bytearray) -> None:
        if len(data) <= SMALL_BYTES and self._writer.in_memory:
            self._writer.write(data)  # into memory (or the start of a spill to a file)
            for update in self._updaters:
                update(data)
            return
        await asyncio.gather(
            asyncio.to_thread(self._writer.write, data),
            *(asyncio.to_thread(update, data) for update in self._updaters),
        )

    async def finish(self) -> dict[str, bytes]:
        """Write what is buffered, make the blob durable, return the raw digests."""
        await self._hand_off()
        await self._hand_off()
        if self._writer.in_memory:
            self._writer.seal()  # nothing to flush: the bytes are committed with the object's record
        else:
            await asyncio.to_thread(self._writer.seal)
        return self._digests.raw()

    async def discard(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(Exception):
                await self._pending
            self._pending = None
        await asyncio.to_thread(self._writer.discard)
