"""Multipart uploads: CreateMultipartUpload, UploadPart (streamed like PutObject), UploadPartCopy,
CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.listing import encoder
from lambdabox.api.s3.objects import (
    copy_source,
    new_object,
    preconditions,
    receive_body,
    refuse_unsupported,
    request_integrity,
)
from lambdabox.api.s3.shapes import checksum_members, owner
from lambdabox.core.s3 import checksums
from lambdabox.core.s3.errors import invalid_argument, invalid_request, malformed_xml
from lambdabox.core.s3.models import MultipartUpload, Part
from lambdabox.core.s3.multipart import CompletedPart, check_part_number
from lambdabox.core.s3.objects import WriteConditions

MAX_PAGE = 1000
_COPY_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


def _part_checksums(part: Part) -> dict[str, str]:
    return {f"Checksum{name}": value for name, value in part.checksums.items()}


async def create_multipart_upload(call: S3Call) -> S3Result:
    p = call.params
    refuse_unsupported(call.headers)
    upload = call.deps.multipart.create(
        new_object(call, p["Bucket"], p["Key"]), p.get("ChecksumAlgorithm"), p.get("ChecksumType")
    )
    return S3Result(
        {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "ServerSideEncryption": "AES256",
            "ChecksumAlgorithm": upload.checksum_algorithm,
            "ChecksumType": upload.checksum_type,
        }
    )


async def upload_part(call: S3Call) -> S3Result:
    p = call.params
    refuse_unsupported(call.headers)
    integrity = request_integrity(call)
    multipart = call.deps.multipart
    upload, writer = multipart.start_part(p["Bucket"], p["Key"], p["UploadId"], p["PartNumber"], integrity)
    integrity = await receive_body(call, writer, integrity)
    part = await multipart.put_part(upload, p["PartNumber"], writer, integrity)
    return S3Result({"ETag": part.quoted_etag, "ServerSideEncryption": "AES256", **_part_checksums(part)})


def _copy_range(header: str | None, size: int) -> tuple[int, int] | None:
    if header is None:
        return None
    match = _COPY_RANGE.fullmatch(header.strip())
    if match is None or int(match.group(1)) > int(match.group(2)):
        raise invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last "
            "are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            header,
        )
    first, last = int(match.group(1)), int(match.group(2))
    if last >= size:
        raise invalid_argument(
            f"Range specified is not valid for source object of size: {size}",
            "x-amz-copy-source-range",
            header,
        )
    return first, last


async def upload_part_copy(call: S3Call) -> S3Result:
    p = call.params
    source_bucket, source_key, version = copy_source(p["CopySource"])
    upload = call.deps.multipart.get(p["Bucket"], p["Key"], p["UploadId"])
    check_part_number(p["PartNumber"])
    objects = call.deps.objects
    source = objects.source(source_bucket, source_key, version, preconditions(p, "CopySource"))
    span = _copy_range(p.get("CopySourceRange"), source.size)
    part = await call.deps.multipart.copy_part(upload, p["PartNumber"], source, span)
    return S3Result(
        {
            "CopyPartResult": {
                "ETag": part.quoted_etag,
                "LastModified": part.last_modified,
                **_part_checksums(part),
            },
            "CopySourceVersionId": objects.version_label(source),
            "ServerSideEncryption": "AES256",
        }
    )


def _requested(entries: list[dict[str, Any]]) -> list[CompletedPart]:
    requested = []
    for entry in entries:
        if "PartNumber" not in entry:
            raise malformed_xml()
        found = {name: entry[f"Checksum{name}"] for name in checksums.KNOWN if f"Checksum{name}" in entry}
        requested.append(CompletedPart(entry["PartNumber"], entry.get("ETag", ""), found))
    return requested


def _location(call: S3Call, bucket: str, key: str) -> str:
    host = call.headers.get("host", "localhost")
    path = quote(key) if host.startswith(f"{bucket}.") else f"{bucket}/{quote(key)}"
    return f"http://{host}/{path}"


async def complete_multipart_upload(call: S3Call) -> S3Result:
    p = call.params
    upload = call.deps.multipart.get(p["Bucket"], p["Key"], p["UploadId"])
    kind = p.get("ChecksumType")
    if kind is not None and kind != upload.checksum_type:
        raise invalid_request(
            f"The upload was created using the {upload.checksum_type or 'null'} checksum mode. The complete "
            "request must use the same checksum mode."
        )
    record = await call.deps.multipart.complete(
        upload,
        _requested((p.get("MultipartUpload") or {}).get("Parts") or []),
        whole_checksums={name: p[f"Checksum{name}"] for name in checksums.KNOWN if f"Checksum{name}" in p},
        object_size=p.get("MpuObjectSize"),
        conditions=WriteConditions(p.get("IfMatch"), p.get("IfNoneMatch")),
        requester=call.requester,
    )
    return S3Result(
        {
            "Location": _location(call, record.bucket, record.key),
            "Bucket": record.bucket,
            "Key": record.key,
            "ETag": record.quoted_etag,
            **checksum_members(record),
            "VersionId": record.version_id,
            "ServerSideEncryption": "AES256",
        }
    )


async def abort_multipart_upload(call: S3Call) -> S3Result:
    p = call.params
    multipart = call.deps.multipart
    multipart.abort(multipart.get(p["Bucket"], p["Key"], p["UploadId"]))
    return S3Result()


async def list_parts(call: S3Call) -> S3Result:
    p = call.params
    upload = call.deps.multipart.get(p["Bucket"], p["Key"], p["UploadId"])
    marker = p.get("PartNumberMarker") or 0
    max_parts = int(min(p.get("MaxParts", MAX_PAGE), MAX_PAGE))
    parts, truncated = call.deps.multipart.parts(upload, marker, max_parts)
    identity = owner(call.deps.account)
    output: dict[str, Any] = {
        "Bucket": upload.bucket,
        "Key": upload.key,
        "UploadId": upload.upload_id,
        "PartNumberMarker": marker,
        "NextPartNumberMarker": parts[-1].number if parts else None,
        "MaxParts": max_parts,
        "IsTruncated": truncated,
        "Parts": [
            {
                "PartNumber": part.number,
                "LastModified": part.last_modified,
                "ETag": part.quoted_etag,
                "Size": part.size,
                **_part_checksums(part),
            }
            for part in parts
        ]
        or None,
        "Initiator": identity,
        "Owner": identity,
        "StorageClass": upload.storage_class,
        "ChecksumAlgorithm": upload.checksum_algorithm,
        "ChecksumType": upload.checksum_type,
    }
    return S3Result(output)


def _upload_entry(call: S3Call, upload: MultipartUpload, encode: Any) -> dict[str, Any]:
    identity = owner(call.deps.account)
    return {
        "UploadId": upload.upload_id,
        "Key": encode(upload.key),
        "Initiated": upload.initiated,
        "StorageClass": upload.storage_class,
        "Owner": identity,
        "Initiator": identity,
        "ChecksumAlgorithm": upload.checksum_algorithm,
        "ChecksumType": upload.checksum_type,
    }


async def list_multipart_uploads(call: S3Call) -> S3Result:
    p = call.params
    encode = encoder(call)
    prefix = p.get("Prefix") or ""
    delimiter = p.get("Delimiter") or None
    key_marker = p.get("KeyMarker") or ""
    upload_id_marker = p.get("UploadIdMarker") or None
    max_uploads = int(min(p.get("MaxUploads", MAX_PAGE), MAX_PAGE))
    page = call.deps.multipart.list_uploads(
        p["Bucket"], prefix, delimiter, key_marker, upload_id_marker, max_uploads
    )
    output: dict[str, Any] = {
        "Bucket": p["Bucket"],
        "KeyMarker": encode(key_marker),
        "UploadIdMarker": upload_id_marker or "",
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxUploads": max_uploads,
        "IsTruncated": page.truncated,
        "Uploads": [_upload_entry(call, u, encode) for u in page.items] or None,
        "CommonPrefixes": [{"Prefix": encode(c)} for c in page.common_prefixes] or None,
        "EncodingType": p.get("EncodingType"),
    }
    if isinstance(page.last, str):
        output["NextKeyMarker"] = encode(page.last)
    elif page.last is not None:
        output["NextKeyMarker"] = encode(page.last.key)
        output["NextUploadIdMarker"] = page.last.upload_id
    return S3Result(output)
