"""Request bodies read straight from ASGI `receive`, chunk by chunk, decoding aws-chunked on the way."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from lambdabox.api.s3.chunked import AwsChunkedDecoder
from lambdabox.aws.sigv4 import STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, ChunkSignatures
from lambdabox.core.s3 import checksums
from lambdabox.core.s3.objects import check_content_md5
from lambdabox.errors import AwsError

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
MAX_XML_BODY = 10 * 1024 * 1024
SPECIAL_SHA256 = frozenset(
    {
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)


class ClientDisconnected(Exception):
    """The client went away before the request body was complete."""


def content_sha256(headers: Mapping[str, str]) -> str | None:
    """The hex digest to verify from `x-amz-content-sha256`, None for the special values."""
    value = headers.get("x-amz-content-sha256")
    if value is None or value in SPECIAL_SHA256:
        return None
    if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise AwsError(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
            "sha256 value.",
            400,
            fields={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value},
        )
    return value.lower()


class RequestBody:
    """`signatures`: the chunk signature chain of a verified request (None: chunk signatures unchecked,
    authentication is off)."""

    def __init__(
        self, receive: Receive, headers: Mapping[str, str], signatures: ChunkSignatures | None = None
    ) -> None:
        self._receive = receive
        encodings = [e.strip().lower() for e in headers.get("content-encoding", "").split(",")]
        mode = headers.get("x-amz-content-sha256", "")
        self.chunked = "aws-chunked" in encodings or mode.startswith("STREAMING-")
        signed = mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
        self._decoder = (
            AwsChunkedDecoder(signatures if signed else None, trailer_signed=mode == STREAMING_SIGNED_TRAILER)
            if self.chunked
            else None
        )
        length = headers.get("content-length")
        self.present = headers.get("transfer-encoding") is not None or (length not in (None, "0"))
        decoded = headers.get("x-amz-decoded-content-length")
        self.decoded_length = int(decoded) if decoded and decoded.isdigit() else None
        self.consumed = not self.present

    @property
    def trailers(self) -> dict[str, str]:
        return self._decoder.trailers if self._decoder is not None else {}

    async def chunks(self) -> AsyncIterator[bytes]:
        """The payload, decoded, as it arrives. Raises ClientDisconnected if the client goes away."""
        if self.consumed:
            return
        decoder = self._decoder
        more = True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected
            data = message.get("body", b"")
            more = message.get("more_body", False)
            if decoder is None:
                if data:
                    yield data
            else:
                for piece in decoder.feed(data):
                    yield piece
        self.consumed = True
        if decoder is not None:
            decoder.close()
            if self.decoded_length is not None and decoder.decoded != self.decoded_length:
                raise AwsError(
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the x-amz-decoded-content-length "
                    "HTTP header",
                    400,
                )

    async def read_all(self, limit: int = MAX_XML_BODY) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise AwsError("MaxMessageLengthExceeded", "Your request was too big.", 400)
            parts.append(chunk)
        return b"".join(parts)


def verify_small_body(body: bytes, headers: Mapping[str, str], trailers: Mapping[str, str]) -> None:
    """Content-MD5, x-amz-content-sha256 and x-amz-checksum-* of a body read whole (XML payloads)."""
    md5 = headers.get("content-md5")
    if md5 is not None and check_content_md5(md5) != hashlib.md5(body).digest():
        raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
    sha = content_sha256(headers)
    if sha is not None and hashlib.sha256(body).hexdigest() != sha:
        raise AwsError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
        )
    for algorithm in checksums.SUPPORTED:
        name = f"x-amz-checksum-{algorithm.lower()}"
        expected = trailers.get(name) or headers.get(name)
        if expected is None:
            continue
        checksums.check_value(algorithm, expected)
        digests = checksums.Digests([algorithm])
        digests.update(body)
        if base64.b64encode(digests.raw()[algorithm]).decode() != expected:
            raise checksums.mismatch(algorithm)
