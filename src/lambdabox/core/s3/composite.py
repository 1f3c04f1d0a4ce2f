"""Checksums of an object assembled from parts, computed from the parts' own digests (the bytes are not
read again): the multipart ETag, composite checksums and full-object CRCs.

- ETag: MD5 of the concatenated binary part MD5s, hex, then `-<parts>`.
- COMPOSITE: the algorithm applied to the concatenated binary part checksums, base64, then `-<parts>`.
- FULL_OBJECT (CRC family only): the CRC of the whole object, combined from the part CRCs with zlib's
  crc32_combine method, generalized to any reflected CRC whose init and xorout are all ones.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from lambdabox.core.s3.checksums import Digests, encode

# Reflected polynomial and width of each CRC S3 can combine into a full-object checksum.
_CRCS = {"CRC32": (0xEDB88320, 32), "CRC32C": (0x82F63B78, 32), "CRC64NVME": (0x9A6C9329AC4BC9B5, 64)}
FULL_OBJECT_ALGORITHMS = frozenset(_CRCS)


def multipart_etag(part_etags: Sequence[str]) -> str:
    digest = hashlib.md5(b"".join(bytes.fromhex(etag) for etag in part_etags)).hexdigest()
    return f"{digest}-{len(part_etags)}"


def composite(algorithm: str, part_checksums: Sequence[str]) -> str:
    digests = Digests([algorithm])
    for value in part_checksums:
        digests.update(base64.b64decode(value))
    return f"{encode(digests.raw()[algorithm])}-{len(part_checksums)}"


def _multiply(a: int, b: int, poly: int, width: int) -> int:
    """a * b modulo the CRC polynomial, in the reflected bit order (the top bit is x^0)."""
    if a == 0:
        return 0
    mask = 1 << (width - 1)
    product = 0
    while True:
        if a & mask:
            product ^= b
            if a & (mask - 1) == 0:
                return product
        mask >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1


def _powers(poly: int, width: int) -> list[int]:
    """x^(2^k) modulo the polynomial, k = 0..63 (enough for any object length in bits)."""
    powers = [1 << (width - 2)]  # x^1
    for _ in range(63):
        powers.append(_multiply(powers[-1], powers[-1], poly, width))
    return powers


_POWERS = {name: _powers(poly, width) for name, (poly, width) in _CRCS.items()}


def _shift(crc: int, length: int, algorithm: str) -> int:
    """The CRC register after `length` more zero bytes (without the init/xorout conditioning)."""
    poly, width = _CRCS[algorithm]
    powers = _POWERS[algorithm]
    factor = 1 << (width - 1)  # x^0
    bits, k = length * 8, 0
    while bits:
        if bits & 1:
            factor = _multiply(powers[k], factor, poly, width)
        bits >>= 1
        k += 1
    return _multiply(factor, crc, poly, width)


def combine_crc(algorithm: str, parts: Sequence[tuple[str, int]]) -> str:
    """The full-object CRC from each part's (base64 CRC, size), in order."""
    width = _CRCS[algorithm][1]
    crc = 0  # the CRC of no bytes
    for value, size in parts:
        crc = _shift(crc, size, algorithm) ^ int.from_bytes(base64.b64decode(value), "big")
    return encode(crc.to_bytes(width // 8, "big"))
