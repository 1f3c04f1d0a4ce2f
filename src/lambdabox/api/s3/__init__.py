"""The S3 front end (rest-xml, streaming)."""

from lambdabox.api.s3.addressing import DEFAULT_ROOTS, Addressing
from lambdabox.api.s3.context import S3Deps
from lambdabox.api.s3.service import S3Api

__all__ = ["DEFAULT_ROOTS", "Addressing", "S3Api", "S3Deps"]
