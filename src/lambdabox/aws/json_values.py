"""JSON-document values of botocore shapes: base64 blobs, epoch timestamps, integers, nested members.
Shared by the rest-json and json protocols."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson
from botocore.model import Shape, StructureShape

from lambdabox.errors import AwsError


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise AwsError("SerializationException", f"Could not parse request body: {exc}") from None


def decode_value(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        assert isinstance(shape, StructureShape)
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in value and value[wire_name] is not None:
                out[name] = decode_value(member, value[wire_name])
        return out
    if kind == "list" and isinstance(value, list):
        return [decode_value(shape.member, item) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: decode_value(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        if not isinstance(value, str):
            raise AwsError("SerializationException", "Expected a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise AwsError("InvalidParameterValueException", "Could not decode base64 content.") from None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AwsError(
                "SerializationException", f"NUMBER_VALUE can not be converted to {kind}: {value!r}"
            )
        return int(value)
    if kind == "timestamp" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return value


def encode_value(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out[member.serialization.get("name", name)] = encode_value(member, item)
        return out
    if kind == "list":
        return [encode_value(shape.member, item) for item in value]
    if kind == "map":
        return {k: encode_value(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode()
    if kind == "timestamp":
        if shape.serialization.get("timestampFormat") == "iso8601":  # e.g. apigatewayv2's dates
            stamp = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
            return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if isinstance(value, datetime):
            return value.timestamp()
        return float(value)
    return value
