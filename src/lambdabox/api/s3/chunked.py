"""Incremental decoder of `Content-Encoding: aws-chunked` request bodies.

Format: `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n` repeated, then a zero-size chunk, then
optional trailer lines `name:value\\r\\n` (e.g. `x-amz-checksum-crc32:...`, `x-amz-trailer-signature:...`)
and a final empty line. With `signatures` (a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body of a
verified request), every chunk's signature is checked when its last byte has arrived, and the trailer's
(`x-amz-trailer-signature`) when `trailer_signed`. A chunk's bytes are handed on before its signature is
checked: the caller discards what it wrote when decoding fails.
"""

from __future__ import annotations

import hashlib

from lambdabox.aws.sigv4 import ChunkSignatures
from lambdabox.errors import AwsError

MAX_LINE = 8192
_SIZE, _DATA, _CRLF, _TRAILER, _DONE = range(5)


def _malformed(detail: str) -> AwsError:
    return AwsError("InvalidRequest", f"Malformed aws-chunked body: {detail}", 400)


def _incomplete() -> AwsError:
    return AwsError("IncompleteBody", "The request body terminated unexpectedly", 400)


def _signature_mismatch() -> AwsError:
    return AwsError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key "
        "and signing method.",
        403,
    )


class AwsChunkedDecoder:
    def __init__(self, signatures: ChunkSignatures | None = None, *, trailer_signed: bool = False) -> None:
        self._state = _SIZE
        self._remaining = 0
        self._pending = b""
        self.trailers: dict[str, str] = {}
        self.decoded = 0
        self._signatures = signatures
        self._trailer_signed = trailer_signed and signatures is not None
        self._chunk_signature = ""
        self._chunk_hash = hashlib.sha256()

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
                piece = data[pos : pos + take]
                out.append(piece)
                pos += take
                self._remaining -= take
                self.decoded += take
                if self._signatures is not None:
                    self._chunk_hash.update(piece)
                if self._remaining == 0:
                    self._check_chunk()
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

    def _check_chunk(self) -> None:
        if self._signatures is None:
            return
        digest = self._chunk_hash.hexdigest()
        self._chunk_hash = hashlib.sha256()
        if not self._signatures.check_chunk(digest, self._chunk_signature):
            raise _signature_mismatch()

    def _line(self, line: bytes) -> None:
        if self._state == _SIZE:
            size_text, _, params = line.partition(b";")
            size_text = size_text.strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _malformed(f"invalid chunk size {size_text[:32]!r}") from None
            if size < 0:
                raise _malformed("negative chunk size")
            if self._signatures is not None:
                name, _, signature = params.decode("latin-1").partition("=")
                if name.strip() != "chunk-signature" or not signature.strip():
                    raise _incomplete()
                self._chunk_signature = signature.strip()
            if size == 0:
                self._check_chunk()
                self._state = _TRAILER
            else:
                self._remaining = size
                self._state = _DATA
            return
        if not line.strip():
            self._finish()
            return
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _malformed("invalid trailer line")
        self.trailers[name.strip().lower()] = value.strip()

    def _finish(self) -> None:
        """The trailer section ended (or the body ended right after the final chunk)."""
        self._state = _DONE
        if not self._trailer_signed:
            return
        signature = self.trailers.get("x-amz-trailer-signature")
        if signature is None:
            raise _incomplete()
        assert self._signatures is not None
        if not self._signatures.check_trailer(self.trailers, signature):
            raise _signature_mismatch()

    def close(self) -> None:
        """The body ended: it must have ended at a chunk boundary after the final chunk."""
        if self._state == _TRAILER and not self._pending:
            self._finish()
        if self._state != _DONE:
            raise AwsError(
                "IncompleteBody",
                "The request body terminated unexpectedly",
                400,
            )
