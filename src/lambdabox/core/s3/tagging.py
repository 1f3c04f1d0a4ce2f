"""Object and bucket tag sets with S3's limits and wording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl

from lambdabox.errors import AwsError

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
_ALLOWED = re.compile(r"[\w\s+\-=.:/@]*", re.UNICODE)


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidTag", message, 400)


def check_tags(pairs: Sequence[tuple[str, str]], *, bucket: bool = False) -> dict[str, str]:
    limit = MAX_BUCKET_TAGS if bucket else MAX_OBJECT_TAGS
    if len(pairs) > limit:
        if bucket:
            raise _invalid(f"Bucket tag count cannot be greater than {limit}")
        raise AwsError("BadRequest", f"Object tags cannot be greater than {limit}", 400)
    tags: dict[str, str] = {}
    for key, value in pairs:
        if not 1 <= len(key) <= 128 or _ALLOWED.fullmatch(key) is None:
            raise _invalid("The TagKey you have provided is invalid")
        if len(value) > 256 or _ALLOWED.fullmatch(value) is None:
            raise _invalid("The TagValue you have provided is invalid")
        if key.lower().startswith("aws:"):
            raise _invalid("Your TagKey cannot be prefixed with aws:")
        if key in tags:
            raise _invalid("Cannot provide multiple Tags with the same key")
        tags[key] = value
    return tags


def parse_tagging_header(header: str) -> dict[str, str]:
    """`x-amz-tagging: k1=v1&k2=v2` (URL query encoding)."""
    try:
        pairs = parse_qsl(header, keep_blank_values=True, strict_parsing=bool(header))
    except ValueError:
        raise AwsError(
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "
            "without tag name duplicates.",
            400,
            fields={"ArgumentName": "x-amz-tagging", "ArgumentValue": header},
        ) from None
    if len({key for key, _ in pairs}) != len(pairs):
        raise AwsError(
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "
            "without tag name duplicates.",
            400,
            fields={"ArgumentName": "x-amz-tagging", "ArgumentValue": header},
        )
    return check_tags(pairs)
