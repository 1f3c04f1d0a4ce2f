"""Object checksums as S3 computes them: MD5 for the ETag plus the flexible checksum algorithms.

Values travel base64-encoded (big-endian integers for the CRCs), as in `x-amz-checksum-<algorithm>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Iterable
from typing import Protocol

import crc32c

from lambdabox.errors import AwsError


class Hasher(Protocol):
    def update(self, data: bytes | bytearray, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc:
    def __init__(self, step: Callable[[bytes | bytearray, int], int], size: int) -> None:
        self._step = step
        self._size = size
        self._value = 0

    def update(self, data: bytes | bytearray) -> None:
        self._value = self._step(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


def _crc64nvme_table() -> list[int]:
    poly = 0x9A6C9329AC4BC9B5  # CRC-64/NVME, reflected
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64nvme_table()
_MASK64 = 0xFFFFFFFFFFFFFFFF


def _crc64nvme(data: bytes | bytearray, value: int) -> int:
    """Pure Python (slow: a few MB/s); only used when a client asks for CRC64NVME."""
    crc = value ^ _MASK64
    table = _CRC64_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _MASK64


_FACTORIES: dict[str, Callable[[], Hasher]] = {
    "CRC32": lambda: _Crc(zlib.crc32, 4),
    "CRC32C": lambda: _Crc(crc32c.crc32c, 4),
    "CRC64NVME": lambda: _Crc(_crc64nvme, 8),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "MD5": hashlib.md5,
}
_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64, "MD5": 16}
SUPPORTED = frozenset(_FACTORIES)
# Every algorithm of the model's ChecksumAlgorithm enum; the XXHASH family is not computed here.
KNOWN = frozenset((*SUPPORTED, "XXHASH64", "XXHASH3", "XXHASH128"))


def check_algorithm(algorithm: str) -> str:
    upper = algorithm.upper()
    if upper not in KNOWN:
        raise AwsError(
            "InvalidRequest",
            "Value for x-amz-sdk-checksum-algorithm header is invalid.",
            400,
        )
    if upper not in SUPPORTED:
        raise AwsError(
            "NotImplemented",
            f"The checksum algorithm {upper} is not implemented by Lambdabox yet.",
            501,
        )
    return upper


def check_value(algorithm: str, value: str) -> str:
    """A checksum value sent by a client must be base64 of the algorithm's digest size."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _DIGEST_SIZES[algorithm]:
        raise AwsError(
            "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.", 400
        )
    return value


class Digests:
    """Several digests of one byte stream, updated together (called from a worker thread)."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._hashers = {name: _FACTORIES[name]() for name in algorithms}

    def update(self, data: bytes | bytearray) -> None:
        for hasher in self._hashers.values():
            hasher.update(data)

    def raw(self) -> dict[str, bytes]:
        return {name: hasher.digest() for name, hasher in self._hashers.items()}


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def mismatch(algorithm: str) -> AwsError:
    return AwsError("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.", 400)
