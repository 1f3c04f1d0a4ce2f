"""Conditional requests (RFC 9110 as S3 applies them) and byte ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lambdabox.core.s3.models import S3Object
from lambdabox.errors import AwsError


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    @property
    def empty(self) -> bool:
        return (
            self.if_match is None
            and self.if_none_match is None
            and self.if_modified_since is None
            and self.if_unmodified_since is None
        )


def _etags(header: str) -> list[str]:
    return [part.strip().removeprefix("W/").strip('"') for part in header.split(",") if part.strip()]


def etag_matches(header: str, etag: str) -> bool:
    tags = _etags(header)
    return "*" in tags or etag in tags


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def failed_read_condition(obj: S3Object, conditions: Preconditions) -> int | None:
    """412 or 304 when a conditional GET/HEAD does not apply, else None (S3's evaluation order)."""
    modified = int(obj.last_modified)
    if conditions.if_match is not None:
        if not etag_matches(conditions.if_match, obj.etag):
            return 412
    elif conditions.if_unmodified_since is not None and modified > _seconds(conditions.if_unmodified_since):
        return 412
    if conditions.if_none_match is not None:
        if etag_matches(conditions.if_none_match, obj.etag):
            return 304
    elif conditions.if_modified_since is not None and modified <= _seconds(conditions.if_modified_since):
        return 304
    return None


def precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": condition},
    )


def check_read(obj: S3Object, conditions: Preconditions) -> None:
    outcome = failed_read_condition(obj, conditions)
    if outcome == 412:
        raise precondition_failed("If-Match" if conditions.if_match is not None else "If-Unmodified-Since")
    if outcome == 304:
        raise AwsError("NotModified", "Not Modified", 304, headers={"ETag": obj.quoted_etag})


def check_copy_source(obj: S3Object, conditions: Preconditions) -> None:
    """x-amz-copy-source-if-*: every failure is a 412 (S3 never answers 304 to a copy)."""
    outcome = failed_read_condition(obj, conditions)
    if outcome is not None:
        names = [
            ("x-amz-copy-source-If-Match", conditions.if_match),
            ("x-amz-copy-source-If-Unmodified-Since", conditions.if_unmodified_since),
            ("x-amz-copy-source-If-None-Match", conditions.if_none_match),
            ("x-amz-copy-source-If-Modified-Since", conditions.if_modified_since),
        ]
        raise precondition_failed(next(name for name, value in names if value is not None))


def check_write(current: S3Object | None, if_match: str | None, if_none_match: str | None) -> None:
    """Conditional writes: `If-None-Match: *` refuses an existing key, `If-Match` needs that ETag."""
    if if_none_match is not None and current is not None:
        if if_none_match.strip() != "*":
            raise AwsError("NotImplemented", "If-None-Match only supports the value *.", 501)
        raise precondition_failed("If-None-Match")
    if if_match is not None:
        if current is None:
            raise AwsError("NoSuchKey", "The specified key does not exist.", 404)
        if not etag_matches(if_match, current.etag):
            raise precondition_failed("If-Match")


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a `Range` header; None to send the whole object.

    Malformed or multi-range headers are ignored as S3 does; an unsatisfiable one raises InvalidRange.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if first_text:
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
        if last_text and last < first:
            return None
        if first >= size:
            raise invalid_range(header, size)
        return first, min(last, size - 1)
    suffix = int(last_text)
    if suffix == 0 or size == 0:
        raise invalid_range(header, size)
    return max(0, size - suffix), size - 1


def invalid_range(header: str, size: int) -> AwsError:
    return AwsError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        fields={"RangeRequested": header, "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )
