"""Opaque `NextToken`s as the JSON services hand them out: which listing they continue, and where."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson

from lambdabox.errors import AwsError

T = TypeVar("T")


def encode_token(kind: str, position: int | str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([kind, position])).decode().rstrip("=")


def decode_token(token: str, kind: str, invalid: Callable[[], AwsError]) -> int | str:
    """The position a token of listing `kind` names; `invalid()` (the service's error) for anything else."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise invalid() from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != 2
        or decoded[0] != kind
        or not isinstance(decoded[1], int | str)
    ):
        raise invalid()
    position: int | str = decoded[1]
    return position


def page_by_index(
    kind: str, items: Sequence[T], params: dict[str, Any], default: int, invalid: Callable[[], AwsError]
) -> tuple[list[T], str | None]:
    """One page of `items` from the position `NextToken` names, at most `MaxResults` long."""
    start = 0
    token = params.get("NextToken")
    if token:
        position = decode_token(token, kind, invalid)
        if not isinstance(position, int):
            raise invalid()
        start = position
    limit = params.get("MaxResults", default)
    chosen = list(items[start : start + limit])
    if start + limit >= len(items):
        return chosen, None
    return chosen, encode_token(kind, start + limit)
