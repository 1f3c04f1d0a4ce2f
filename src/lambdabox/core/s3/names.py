"""Bucket names and object keys as S3 accepts them; ARNs and the key encoding of event records."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote_plus

from lambdabox.errors import AwsError

MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid general-purpose bucket name, or None when it is."""
    if not 3 <= len(name) <= 63:
        return "Bucket names must be between 3 and 63 characters long"
    if _BUCKET.fullmatch(name) is None:
        return (
            "Bucket names can consist only of lowercase letters, numbers, dots and hyphens, "
            "and must begin and end with a letter or number"
        )
    if ".." in name or ".-" in name or "-." in name:
        return "Bucket names must not contain two adjacent periods or a period next to a hyphen"
    if _IP.fullmatch(name):
        return "Bucket names must not be formatted as an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "Bucket names must not use a reserved prefix or suffix"
    return None


def check_bucket_name(name: str) -> None:
    if bucket_name_problem(name) is not None:
        raise AwsError(
            "InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": name}
        )


def check_key(key: str) -> None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise AwsError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            fields={"MaxSizeAllowed": str(MAX_KEY_BYTES), "Size": str(len(key.encode()))},
        )


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def event_key(key: str) -> str:
    """Keys in event records: form-encoded (space -> '+', '@' -> '%40') with '/' left as is."""
    return quote_plus(key, safe="/")


def owner_id(account_id: str) -> str:
    """The account's canonical user id (64 hex characters), stable for an account."""
    return hashlib.sha256(f"lambdabox-canonical-user:{account_id}".encode()).hexdigest()


def owner_principal(account_id: str) -> str:
    """The short principal id S3 puts into `ownerIdentity` of event records."""
    digest = hashlib.sha256(f"lambdabox-principal:{account_id}".encode()).hexdigest()
    return "A" + digest[:13].upper()
