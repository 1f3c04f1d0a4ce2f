"""Domain records as S3 output members."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdabox.core.names import Account
from lambdabox.core.s3.models import ContentHeaders, S3Object
from lambdabox.core.s3.names import owner_id


def owner(account: Account) -> dict[str, str]:
    return {"ID": owner_id(account.account_id)}


def checksum_members(record: S3Object) -> dict[str, Any]:
    out: dict[str, Any] = {f"Checksum{name}": value for name, value in record.checksums.items()}
    if record.checksums:
        out["ChecksumType"] = record.checksum_type
    return out


def content_members(content: ContentHeaders) -> dict[str, Any]:
    return {
        "ContentType": content.content_type,
        "ContentEncoding": content.content_encoding,
        "ContentDisposition": content.content_disposition,
        "ContentLanguage": content.content_language,
        "CacheControl": content.cache_control,
        "Expires": content.expires,
    }


def content_from(params: Mapping[str, Any], headers: Mapping[str, str]) -> ContentHeaders:
    """Representation headers of a write; aws-chunked is a transfer detail, not stored."""
    encodings = [
        e.strip()
        for e in (params.get("ContentEncoding") or "").split(",")
        if e.strip() and e.strip() != "aws-chunked"
    ]
    return ContentHeaders(
        content_type=params.get("ContentType") or "binary/octet-stream",
        content_encoding=",".join(encodings) or None,
        content_disposition=params.get("ContentDisposition"),
        content_language=params.get("ContentLanguage"),
        cache_control=params.get("CacheControl"),
        expires=headers.get("expires"),
    )


def object_members(record: S3Object, *, with_checksums: bool) -> dict[str, Any]:
    """Headers of GetObject/HeadObject for a whole object."""
    out: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": record.last_modified,
        "ContentLength": record.size,
        "ETag": record.quoted_etag,
        **content_members(record.content),
        "Metadata": record.metadata or None,
        "WebsiteRedirectLocation": record.website_redirect,
        "StorageClass": None if record.storage_class == "STANDARD" else record.storage_class,
        "TagCount": len(record.tags) or None,
        "ServerSideEncryption": "AES256",
    }
    if with_checksums:
        out.update(checksum_members(record))
    return out


def list_entry(record: S3Object, account: Account | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": record.key,
        "LastModified": record.last_modified,
        "ETag": record.quoted_etag,
        "Size": record.size,
        "StorageClass": record.storage_class,
    }
    if record.checksums:
        entry["ChecksumAlgorithm"] = list(record.checksums)
        entry["ChecksumType"] = record.checksum_type
    if account is not None:
        entry["Owner"] = owner(account)
    return entry
