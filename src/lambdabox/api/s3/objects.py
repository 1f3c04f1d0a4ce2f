"""Object operations: PutObject (streamed), GetObject/HeadObject (ranges, parts, conditions, versions),
CopyObject, DeleteObject and DeleteObjects (versions and delete markers)."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import unquote

from lambdabox.api.s3.body import content_sha256
from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.shapes import checksum_members, content_from, object_members
from lambdabox.core.s3 import checksums
from lambdabox.core.s3.conditions import Preconditions, byte_range, etag_matches, precondition_failed
from lambdabox.core.s3.errors import invalid_argument, invalid_request, malformed_xml, not_implemented
from lambdabox.core.s3.models import S3Object
from lambdabox.core.s3.objects import (
    MAX_PUT_BYTES,
    Integrity,
    NewObject,
    WriteConditions,
    check_content_md5,
)
from lambdabox.core.s3.tagging import parse_tagging_header
from lambdabox.core.s3.uploads import Upload
from lambdabox.core.s3.versions import check_version_id, valid_version_id
from lambdabox.errors import AwsError

# A GET holds about three of these at once (being read, being sent, in the socket's buffer): small, so
# that the AWS CLI's ten ranged GETs at once cost the server a few MB, not 10-30.
READ_CHUNK = 256 * 1024
MAX_DELETE_KEYS = 1000
_UNSUPPORTED_WRITE_HEADERS = {
    "x-amz-server-side-encryption-customer-key": "Server-side encryption with customer-provided keys",
    "x-amz-write-offset-bytes": "Appending to objects",
    "x-amz-object-lock-mode": "Object Lock",
}


def refuse_unsupported(headers: Mapping[str, str]) -> None:
    for header, feature in _UNSUPPORTED_WRITE_HEADERS.items():
        if header in headers:
            raise not_implemented(feature)


def _checksum_request(params: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, str | None]:
    """The checksum algorithms a write asks for, with the value sent in a header (None: a trailer or
    only an algorithm name; S3 then computes it)."""
    found: dict[str, str | None] = {
        name: headers[f"x-amz-checksum-{name.lower()}"]
        for name in checksums.KNOWN
        if f"x-amz-checksum-{name.lower()}" in headers
    }
    trailer = headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        found.setdefault(trailer.removeprefix("x-amz-checksum-").upper(), None)
    if len(found) > 1:
        raise AwsError(
            "InvalidRequest",
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            400,
        )
    algorithm = params.get("ChecksumAlgorithm")
    if algorithm is not None and not found:
        found[checksums.check_algorithm(algorithm)] = None
    out: dict[str, str | None] = {}
    for name, value in found.items():
        checked = checksums.check_algorithm(name)
        out[checked] = None if value is None else checksums.check_value(checked, value)
    return out


def new_object(call: S3Call, bucket: str, key: str) -> NewObject:
    p = call.params
    return NewObject(
        bucket=bucket,
        key=key,
        content=content_from(p, call.headers),
        metadata=dict(p.get("Metadata") or {}),
        tags=parse_tagging_header(p["Tagging"]) if "Tagging" in p else {},
        storage_class=p.get("StorageClass") or "STANDARD",
        website_redirect=p.get("WebsiteRedirectLocation"),
    )


def _written(record: S3Object) -> dict[str, Any]:
    return {
        "ETag": record.quoted_etag,
        "ServerSideEncryption": "AES256",
        "VersionId": record.version_id,
        **checksum_members(record),
    }


def request_integrity(call: S3Call) -> Integrity:
    """What a streamed write claims about its body (length, digests), checked before it is read."""
    p, headers = call.params, call.headers
    body = call.body
    declared = body.decoded_length if body.chunked else p.get("ContentLength")
    if declared is None and "transfer-encoding" not in headers:
        raise AwsError("MissingContentLength", "You must provide the Content-Length HTTP header.", 411)
    if declared is not None and declared > MAX_PUT_BYTES:
        raise AwsError(
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            400,
            fields={"ProposedSize": str(declared), "MaxSizeAllowed": str(MAX_PUT_BYTES)},
        )
    wanted = _checksum_request(p, headers)
    md5 = p.get("ContentMD5")
    if md5 is not None:
        check_content_md5(md5)
    return Integrity(md5, content_sha256(headers), wanted)


async def receive_body(call: S3Call, upload: Upload, integrity: Integrity) -> Integrity:
    """Stream the request body into `upload` (discarded on failure); returns the integrity claims
    completed with the checksums sent as trailers."""
    body = call.body
    try:
        async for chunk in body.chunks():
            await upload.write(chunk)
            if upload.size > MAX_PUT_BYTES:
                raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
    except BaseException:
        await upload.discard()
        raise
    trailed = {
        name: body.trailers.get(f"x-amz-checksum-{name.lower()}") if value is None else value
        for name, value in integrity.checksums.items()
    }
    for name, value in trailed.items():
        if value is not None:
            checksums.check_value(name, value)
    return Integrity(integrity.content_md5, integrity.content_sha256, trailed)


async def put_object(call: S3Call) -> S3Result:
    p = call.params
    refuse_unsupported(call.headers)
    integrity = request_integrity(call)
    spec = new_object(call, p["Bucket"], p["Key"])
    conditions = WriteConditions(p.get("IfMatch"), p.get("IfNoneMatch"))
    objects = call.deps.objects
    objects.precheck_write(spec.bucket, spec.key, conditions)
    upload = objects.start_upload(spec, integrity.algorithms())
    integrity = await receive_body(call, upload, integrity)
    record = await objects.put(upload, spec, integrity, conditions, call.requester)
    return S3Result(_written(record))


def preconditions(params: Mapping[str, Any], prefix: str = "") -> Preconditions:
    return Preconditions(
        if_match=params.get(f"{prefix}IfMatch"),
        if_none_match=params.get(f"{prefix}IfNoneMatch"),
        if_modified_since=params.get(f"{prefix}IfModifiedSince"),
        if_unmodified_since=params.get(f"{prefix}IfUnmodifiedSince"),
    )


def _response_overrides(params: Mapping[str, Any], output: dict[str, Any]) -> None:
    for member in ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentType"):
        value = params.get(f"Response{member}")
        if value is not None:
            output[member] = value
    if params.get("ResponseExpires") is not None:
        output["Expires"] = params["ResponseExpires"]


def _version(params: Mapping[str, Any]) -> str | None:
    version = params.get("VersionId")
    return None if version is None else check_version_id(version)


def _ranged(record: S3Object, params: Mapping[str, Any], output: dict[str, Any]) -> tuple[int, int]:
    """Offset and length to send; sets 206 members when a range or part was asked for."""
    part = params.get("PartNumber")
    if part is not None:
        if params.get("Range") is not None:
            raise invalid_request("Cannot specify both Range header and partNumber query parameter")
        sizes = record.parts or (record.size,)
        if not 1 <= part <= len(sizes):
            raise AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)
        first = sum(sizes[: part - 1])
        span: tuple[int, int] | None = (first, first + sizes[part - 1] - 1) if sizes[part - 1] else None
        output["PartsCount"] = len(sizes)
    else:
        span = byte_range(params.get("Range"), record.size)
    if span is None:
        return 0, record.size
    first, last = span
    output["ContentRange"] = f"bytes {first}-{last}/{record.size}"
    output["ContentLength"] = last - first + 1
    for name in list(output):
        if name.startswith("Checksum"):
            del output[name]  # a part of an object has no full-object checksum
    return first, last - first + 1


async def _stream(handle: BinaryIO, offset: int, length: int) -> AsyncIterator[bytes]:
    try:
        if isinstance(handle, io.BytesIO):  # a small object, stored in the database
            yield handle.getbuffer()[offset : offset + length].tobytes()
            return
        if offset:
            handle.seek(offset)
        remaining = length
        while remaining > 0:
            # Allocated here, filled by a worker thread: memory malloc'd in worker threads lands in
            # per-thread arenas that keep it after parallel downloads (+25 MB for 10 ranged GETs).
            buffer = bytearray(min(READ_CHUNK, remaining))
            count = await asyncio.to_thread(os.readv, handle.fileno(), [buffer])
            if not count:
                raise OSError("object file ended early")
            remaining -= count
            yield bytes(memoryview(buffer)[:count])
    finally:
        handle.close()


def _read_output(call: S3Call, record: S3Object) -> tuple[dict[str, Any], tuple[int, int], int]:
    p = call.params
    output = object_members(record, with_checksums=p.get("ChecksumMode") == "ENABLED")
    output["VersionId"] = call.deps.objects.version_label(record)
    _response_overrides(p, output)
    offset, length = _ranged(record, p, output)
    status = 206 if "ContentRange" in output else 200
    return output, (offset, length), status


async def get_object(call: S3Call) -> S3Result:
    p = call.params
    record, handle = call.deps.objects.open(p["Bucket"], p["Key"], preconditions(p), _version(p))
    try:
        output, (offset, length), status = _read_output(call, record)
    except BaseException:
        handle.close()
        raise
    return S3Result(output, stream=_stream(handle, offset, length), status=status)


async def head_object(call: S3Call) -> S3Result:
    p = call.params
    record = call.deps.objects.head(p["Bucket"], p["Key"], preconditions(p), _version(p))
    output, _, status = _read_output(call, record)
    return S3Result(output, status=status)


async def delete_object(call: S3Call) -> S3Result:
    p = call.params
    version = _version(p)
    if p.get("IfMatch") is not None:
        record = call.deps.objects.head(p["Bucket"], p["Key"], version_id=version)
        if not etag_matches(p["IfMatch"], record.etag):
            raise precondition_failed("If-Match")
    deletion = await call.deps.objects.delete(p["Bucket"], p["Key"], call.requester, version)
    return S3Result({"VersionId": deletion.version_id, "DeleteMarker": deletion.delete_marker or None})


async def delete_objects(call: S3Call) -> S3Result:
    p = call.params
    request = p.get("Delete")
    if not request or "Objects" not in request:
        raise malformed_xml()
    entries = request["Objects"]
    if len(entries) > MAX_DELETE_KEYS:
        raise malformed_xml()
    bucket = p["Bucket"]
    call.deps.objects.bucket(bucket)
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for entry in entries:
        key = entry["Key"]
        version = entry.get("VersionId")
        if version is not None and not valid_version_id(version):
            errors.append(
                {
                    "Key": key,
                    "VersionId": version,
                    "Code": "NoSuchVersion",
                    "Message": "The specified version does not exist.",
                }
            )
            continue
        try:
            if call.authorize_delete is not None:
                call.authorize_delete(key, version)
            deletion = await call.deps.objects.delete(bucket, key, call.requester, version)
        except AwsError as error:
            errors.append({"Key": key, "Code": error.code, "Message": error.message})
            continue
        if not request.get("Quiet"):
            done: dict[str, Any] = {"Key": key, "VersionId": version}
            if deletion.delete_marker:
                done.update(DeleteMarker=True, DeleteMarkerVersionId=deletion.version_id)
            deleted.append(done)
    return S3Result({"Deleted": deleted or None, "Errors": errors or None})


def copy_source(text: str) -> tuple[str, str, str | None]:
    """(bucket, key, version id) of `x-amz-copy-source`."""
    path, _, query = text.partition("?")
    version = None
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "versionId":
            version = unquote(value)
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            "x-amz-copy-source",
            text,
        )
    return bucket, key, None if version is None else check_version_id(version, "x-amz-copy-source")


def _directive(params: Mapping[str, Any], member: str, header: str) -> bool:
    value = params.get(member) or "COPY"
    if value not in ("COPY", "REPLACE"):
        raise invalid_argument(f"Unknown {header.removeprefix('x-amz-').replace('-', ' ')}.", header, value)
    return value == "REPLACE"


async def copy_object(call: S3Call) -> S3Result:
    p = call.params
    refuse_unsupported(call.headers)
    source_bucket, source_key, version = copy_source(p["CopySource"])
    replace_metadata = _directive(p, "MetadataDirective", "x-amz-metadata-directive")
    replace_tags = _directive(p, "TaggingDirective", "x-amz-tagging-directive")
    algorithm = p.get("ChecksumAlgorithm")
    record, source = await call.deps.objects.copy(
        source_bucket,
        source_key,
        new_object(call, p["Bucket"], p["Key"]),
        replace_metadata=replace_metadata,
        replace_tags=replace_tags,
        source_conditions=preconditions(p, "CopySource"),
        conditions=WriteConditions(p.get("IfMatch"), p.get("IfNoneMatch")),
        checksum_algorithm=None if algorithm is None else checksums.check_algorithm(algorithm),
        requester=call.requester,
        source_version=version,
    )
    result = {"ETag": record.quoted_etag, "LastModified": record.last_modified, **checksum_members(record)}
    return S3Result(
        {
            "CopyObjectResult": result,
            "ServerSideEncryption": "AES256",
            "VersionId": record.version_id,
            "CopySourceVersionId": call.deps.objects.version_label(source),
        }
    )
