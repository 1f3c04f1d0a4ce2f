"""The `application/vnd.amazon.eventstream` message encoding (what botocore's EventStreamBuffer reads):
prelude (total length, headers length, prelude CRC32), headers, payload, message CRC32."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7  # header value type: UTF-8 string


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    encoded = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + bytes(encoded) + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event(event_type: str, payload: bytes, content_type: str = "application/octet-stream") -> bytes:
    return encode_message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload
    )
