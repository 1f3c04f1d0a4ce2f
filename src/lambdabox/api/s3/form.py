"""A streaming `multipart/form-data` reader for S3's browser form uploads (POST Object).

S3 reads the form fields up to the part named `file` (at most 20 KB of them), then streams the file's
bytes; parts after the file are ignored. The reader keeps only the bytes that may still be the start of
the next boundary, so a file of any size passes through with bounded memory.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from email.message import Message

from lambdabox.errors import AwsError

MAX_FIELDS_BYTES = 20 * 1024
MAX_PART_HEADER = 8192


def malformed() -> AwsError:
    return AwsError(
        "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.", 400
    )


def _too_large() -> AwsError:
    return AwsError(
        "MaxPostPreDataLengthExceededError",
        "Your POST request fields preceeding the upload file was too large.",
        400,
    )


def boundary_of(content_type: str) -> bytes:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise malformed()
    return boundary.encode("latin-1")


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str | None


class FormReader:
    def __init__(self, content_type: str, chunks: AsyncIterator[bytes]) -> None:
        self._delimiter = b"--" + boundary_of(content_type)
        self._source = chunks
        self._buffer = bytearray()
        self._done = False  # the source is exhausted

    async def _fill(self) -> bool:
        if self._done:
            return False
        try:
            chunk = await anext(self._source)
        except StopAsyncIteration:
            self._done = True
            return False
        self._buffer += chunk
        return True

    async def _find(self, marker: bytes, limit: int) -> int:
        while (at := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit or not await self._fill():
                raise malformed() if len(self._buffer) <= limit else _too_large()
        return at

    async def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            if not await self._fill():
                raise malformed()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    async def _after_delimiter(self) -> bool:
        """True when another part follows (CRLF), False at the closing `--`."""
        ending = await self._take(2)
        if ending == b"--":
            return False
        if ending != b"\r\n":
            raise malformed()
        return True

    async def _part_headers(self) -> Message:
        end = await self._find(b"\r\n\r\n", MAX_PART_HEADER) if not self._buffer.startswith(b"\r\n") else -2
        raw = bytes(self._buffer[: max(end, 0)])
        del self._buffer[: end + 4]
        message = Message()
        for line in raw.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if not sep:
                raise malformed()
            message[name.strip()] = value.strip()
        return message

    async def fields(self) -> tuple[dict[str, str], FilePart | None]:
        """The fields before the file (lower-case names, first value wins) and the file part, if any;
        after it, `file_chunks` streams the file."""
        fields: dict[str, str] = {}
        size = 0
        at = await self._find(self._delimiter, MAX_FIELDS_BYTES)
        del self._buffer[: at + len(self._delimiter)]
        separator = b"\r\n" + self._delimiter
        while await self._after_delimiter():
            headers = await self._part_headers()
            name = headers.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                raise malformed()
            if name.lower() == "file":
                filename = headers.get_param("filename", header="content-disposition")
                return fields, FilePart(
                    filename if isinstance(filename, str) else "", headers.get("content-type")
                )
            end = await self._find(separator, MAX_FIELDS_BYTES - size)
            value = bytes(self._buffer[:end]).decode("utf-8", "replace")
            del self._buffer[: end + len(separator)]
            size += len(name) + len(value)
            if size > MAX_FIELDS_BYTES:
                raise _too_large()
            fields.setdefault(name.lower(), value)
        return fields, None

    async def file_chunks(self) -> AsyncGenerator[bytes, None]:
        """The file's bytes, then the rest of the body is read and ignored."""
        separator = b"\r\n" + self._delimiter
        keep = len(separator) - 1
        while True:
            at = self._buffer.find(separator)
            if at >= 0:
                if at:
                    yield bytes(self._buffer[:at])
                self._buffer.clear()
                break
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                yield bytes(self._buffer[:cut])
                del self._buffer[:cut]
            if not await self._fill():
                raise malformed()
        while await self._fill():  # parts after the file: read, ignored
            self._buffer.clear()
