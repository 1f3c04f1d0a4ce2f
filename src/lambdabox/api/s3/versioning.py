"""Versioning: PutBucketVersioning, GetBucketVersioning, ListObjectVersions."""

from __future__ import annotations

from typing import Any

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.listing import encoder
from lambdabox.api.s3.shapes import owner
from lambdabox.core.s3.errors import malformed_xml
from lambdabox.core.s3.listing import MAX_KEYS
from lambdabox.core.s3.models import S3Object
from lambdabox.core.s3.versions import check_state, label


async def put_bucket_versioning(call: S3Call) -> S3Result:
    p = call.params
    config = p.get("VersioningConfiguration")
    if config is None:
        raise malformed_xml()
    status = config.get("Status")
    check_state(status, config.get("MFADelete"))
    if status is None:
        call.deps.buckets.get(p["Bucket"])  # nothing to change
    else:
        call.deps.buckets.set_versioning(p["Bucket"], status)
    return S3Result()


async def get_bucket_versioning(call: S3Call) -> S3Result:
    """A bucket never versioned answers an empty configuration."""
    return S3Result({"Status": call.deps.buckets.get(call.params["Bucket"]).versioning})


def _entry(call: S3Call, record: S3Object, latest: bool, encode: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode(record.key),
        "VersionId": label(record),
        "IsLatest": latest,
        "LastModified": record.last_modified,
        "Owner": owner(call.deps.account),
    }
    if not record.delete_marker:
        entry.update(ETag=record.quoted_etag, Size=record.size, StorageClass=record.storage_class)
        if record.checksums:
            entry.update(ChecksumAlgorithm=list(record.checksums), ChecksumType=record.checksum_type)
    return entry


async def list_object_versions(call: S3Call) -> S3Result:
    p = call.params
    encode = encoder(call)
    prefix = p.get("Prefix") or ""
    delimiter = p.get("Delimiter") or None
    key_marker = p.get("KeyMarker") or ""
    version_marker = p.get("VersionIdMarker") or None
    max_keys = int(min(p.get("MaxKeys", MAX_KEYS), MAX_KEYS))
    page = call.deps.objects.list_versions(
        p["Bucket"], prefix, delimiter, key_marker, version_marker, max_keys
    )
    versions = [_entry(call, r, latest, encode) for r, latest in page.entries if not r.delete_marker]
    markers = [_entry(call, r, latest, encode) for r, latest in page.entries if r.delete_marker]
    output: dict[str, Any] = {
        "IsTruncated": page.truncated,
        "KeyMarker": encode(key_marker),
        "VersionIdMarker": version_marker or "",
        "NextKeyMarker": encode(page.next_key_marker),
        "NextVersionIdMarker": page.next_version_marker,
        "Versions": versions or None,
        "DeleteMarkers": markers or None,
        "Name": p["Bucket"],
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(c)} for c in page.common_prefixes] or None,
        "EncodingType": p.get("EncodingType"),
    }
    return S3Result(output)
