"""Deployment packages named by S3 location (`Code.S3Bucket/S3Key[/S3ObjectVersion]`)."""

from __future__ import annotations

from typing import Protocol

from lambdabox.core.s3.conditions import Preconditions
from lambdabox.core.s3.objects import ObjectService
from lambdabox.errors import AwsError

MAX_PACKAGE_BYTES = 262_144_000  # through S3 the zip may be as large as the unzipped limit


class CodeSource(Protocol):
    def fetch(self, bucket: str, key: str, version: str | None) -> bytes: ...


class S3CodeSource:
    """Reads packages from this platform's own S3, with the error wording Lambda uses for S3 failures."""

    def __init__(self, objects: ObjectService) -> None:
        self._objects = objects

    def fetch(self, bucket: str, key: str, version: str | None) -> bytes:
        try:
            record, handle = self._objects.open(bucket, key, Preconditions(), version)
        except AwsError as error:
            raise _s3_error(error.code, error.message) from None
        with handle:
            if record.size > MAX_PACKAGE_BYTES:
                raise AwsError(
                    "InvalidParameterValueException",
                    f"Unzipped size must be smaller than {MAX_PACKAGE_BYTES} bytes",
                )
            return handle.read()


def _s3_error(code: str, message: str) -> AwsError:
    return AwsError(
        "InvalidParameterValueException",
        f"Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}",
    )
