"""Streaming an object's bytes into the store: gathered in small batches, each written and hashed off the
event loop by a worker thread while the next batch is received (network reads overlap disk writes and
hashing).

An upload holds at most two batches (the one in the worker, the one gathering), and a batch is small:
ten parts uploaded at once (the AWS CLI's default) cost the server a few MB, not 20-30 (with 1 MB
buffers, two per upload). The pieces received are kept as they are, not copied into a buffer growing by
reallocation. While a batch is written the upload reads no more of its request, so the HTTP protocol
stops reading its socket (backpressure to the client). One thread job per batch, not one per digest: a
hand-off costs the event loop one wake-up, and the uploads in progress share the worker threads anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from lambdabox.core.s3.checksums import Digests
from lambdabox.storage.interfaces import BlobWriter

BUFFER_BYTES = 256 * 1024
SMALL_BYTES = 64 * 1024  # at most this much is hashed (and kept) on the event loop: no thread hand-off

Chunk = bytes | bytearray


class Upload:
    def __init__(self, writer: BlobWriter, algorithms: Iterable[str]) -> None:
        self._writer = writer
        self._digests = Digests(algorithms)
        self._batch: list[Chunk] = []
        self._batched = 0
        self._pending: asyncio.Future[None] | None = None
        self.size = 0

    @property
    def blob_id(self) -> str:
        return self._writer.blob_id

    async def write(self, data: Chunk) -> None:
        """Take `data` as it is (not copied: the caller must not change it afterwards)."""
        if not data:
            return
        self.size += len(data)
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= BUFFER_BYTES:
            await self._hand_off()

    async def _hand_off(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            await pending
        if not self._batch:
            return
        batch, size = self._batch, self._batched
        self._batch, self._batched = [], 0
        if size <= SMALL_BYTES and self._writer.in_memory:
            self._consume(batch)  # into memory (or the start of a spill to a file)
            return
        self._pending = asyncio.get_running_loop().run_in_executor(None, self._consume, batch)

    def _consume(self, batch: list[Chunk]) -> None:
        for chunk in batch:
            self._writer.write(chunk)
            self._digests.update(chunk)

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
