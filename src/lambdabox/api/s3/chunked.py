"""Incremental decoder of `Content-Encoding: aws-chunked` request bodies.

Format: `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n` repeated, then a zero-size chunk, then
optional trailer lines `name:value\\r\\n` (e.g. `x-amz-checksum-crc32:...`, `x-amz-trailer-signature:...`)
and a final empty line. Chunk signatures are not verified here (SigV4 verification comes later).
"""

from __future__ import annotations

from lambdabox.errors import AwsError

MAX_LINE = 8192
_SIZE, _DATA, _CRLF, _TRAILER, _DONE = range(5)


def _malformed(detail: str) -> AwsError:
    return AwsError("InvalidRequest", f"Malformed aws-chunked body: {detail}", 400)


class AwsChunkedDecoder:
    def __init__(self) -> None:
        self._state = _SIZE
        self._remaining = 0
        self._pending = b""
        self.trailers: dict[str, str] = {}
        self.decoded = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes) -> list[bytes]:
        """Decode another piece of the body; returns the payload bytes it contained."""
        if self._pending:
            data = self._pending + data
            self._pending = b""
        out: list[bytes] = []
        pos = 0
        end = len(data)
        while pos < end:
            state = self._state
            if state == _DATA:
                take = min(self._remaining, end - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                self.decoded += take
                if self._remaining == 0:
                    self._state = _CRLF
            elif state == _CRLF:
                if end - pos < 2:
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise _malformed("chunk data longer than its declared size")
                pos += 2
                self._state = _SIZE
            elif state == _DONE:
                pos = end
            else:
                line_end = data.find(b"\r\n", pos)
                if line_end < 0:
                    if end - pos > MAX_LINE:
                        raise _malformed("header line too long")
                    break
                self._line(data[pos:line_end])
                pos = line_end + 2
        if pos < end:
            self._pending = data[pos:]
        return out

    def _line(self, line: bytes) -> None:
        if self._state == _SIZE:
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _malformed(f"invalid chunk size {size_text[:32]!r}") from None
            if size < 0:
                raise _malformed("negative chunk size")
            if size == 0:
                self._state = _TRAILER
            else:
                self._remaining = size
                self._state = _DATA
            return
        if not line.strip():
            self._state = _DONE
            return
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _malformed("invalid trailer line")
        self.trailers[name.strip().lower()] = value.strip()

    def close(self) -> None:
        """The body ended: it must have ended at a chunk boundary after the final chunk."""
        if self._state == _TRAILER and not self._pending:
            self._state = _DONE
        if self._state != _DONE:
            raise AwsError(
                "IncompleteBody",
                "The request body terminated unexpectedly",
                400,
            )
