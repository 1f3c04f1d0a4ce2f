"""Object operations: PutObject (streamed), GetObject/HeadObject (ranges, conditions), CopyObject,
DeleteObject and DeleteObjects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import unquote

from lambdabox.api.s3.body import content_sha256
from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.shapes import checksum_members, content_from, object_members
from lambdabox.core.s3 import checksums
from lambdabox.core.s3.conditions import Preconditions, byte_range, etag_matches, precondition_failed
from lambdabox.core.s3.errors import invalid_argument, malformed_xml, not_implemented
from lambdabox.core.s3.models import S3Object
from lambdabox.core.s3.objects import (
    MAX_PUT_BYTES,
    Integrity,
    NewObject,
    WriteConditions,
    check_content_md5,
)
from lambdabox.core.s3.tagging import parse_tagging_header
from lambdabox.errors import AwsError

READ_CHUNK = 1 << 20
MAX_DELETE_KEYS = 1000
_UNSUPPORTED_WRITE_HEADERS = {
    "x-amz-server-side-encryption-customer-key": "Server-side encryption with customer-provided keys",
    "x-amz-write-offset-bytes": "Appending to objects",
    "x-amz-object-lock-mode": "Object Lock",
}


def _refuse_unsupported(headers: Mapping[str, str]) -> None:
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


def _new_object(call: S3Call, bucket: str, key: str) -> NewObject:
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
    return {"ETag": record.quoted_etag, "ServerSideEncryption": "AES256", **checksum_members(record)}


async def put_object(call: S3Call) -> S3Result:
    p, headers = call.params, call.headers
    _refuse_unsupported(headers)
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
    sha256 = content_sha256(headers)
    spec = _new_object(call, p["Bucket"], p["Key"])
    conditions = WriteConditions(p.get("IfMatch"), p.get("IfNoneMatch"))
    objects = call.deps.objects
    objects.precheck_write(spec.bucket, spec.key, conditions)
    integrity = Integrity(md5, sha256, wanted)
    upload = objects.start_upload(spec, integrity.algorithms())
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
        for name, value in wanted.items()
    }
    for name, value in trailed.items():
        if value is not None:
            checksums.check_value(name, value)
    integrity = Integrity(md5, sha256, trailed)
    record = await objects.put(upload, spec, integrity, conditions, call.requester)
    return S3Result(_written(record))


def _preconditions(params: Mapping[str, Any], prefix: str = "") -> Preconditions:
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


def _check_version(params: Mapping[str, Any]) -> None:
    version = params.get("VersionId")
    if version is not None and version != "null":
        raise invalid_argument("Invalid version id specified", "versionId", version)


def _ranged(record: S3Object, params: Mapping[str, Any], output: dict[str, Any]) -> tuple[int, int]:
    """Offset and length to send; sets 206 members when a range or part was asked for."""
    part = params.get("PartNumber")
    if part is not None:
        if part != 1:
            raise AwsError("InvalidPartNumber", "The requested partnumber is not satisfiable", 416)
        span: tuple[int, int] | None = (0, record.size - 1) if record.size else None
        output["PartsCount"] = 1
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
        if offset:
            handle.seek(offset)
        remaining = length
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK, remaining))
            if not chunk:
                raise OSError("object file ended early")
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _read_output(call: S3Call, record: S3Object) -> tuple[dict[str, Any], tuple[int, int], int]:
    p = call.params
    output = object_members(record, with_checksums=p.get("ChecksumMode") == "ENABLED")
    _response_overrides(p, output)
    offset, length = _ranged(record, p, output)
    status = 206 if "ContentRange" in output else 200
    return output, (offset, length), status


async def get_object(call: S3Call) -> S3Result:
    p = call.params
    _check_version(p)
    record, handle = call.deps.objects.open(p["Bucket"], p["Key"], _preconditions(p))
    try:
        output, (offset, length), status = _read_output(call, record)
    except BaseException:
        handle.close()
        raise
    return S3Result(output, stream=_stream(handle, offset, length), status=status)


async def head_object(call: S3Call) -> S3Result:
    p = call.params
    _check_version(p)
    record = call.deps.objects.head(p["Bucket"], p["Key"], _preconditions(p))
    output, _, status = _read_output(call, record)
    return S3Result(output, status=status)


async def delete_object(call: S3Call) -> S3Result:
    p = call.params
    _check_version(p)
    if p.get("IfMatch") is not None:
        record = call.deps.objects.head(p["Bucket"], p["Key"])
        if not etag_matches(p["IfMatch"], record.etag):
            raise precondition_failed("If-Match")
    await call.deps.objects.delete(p["Bucket"], p["Key"], call.requester)
    return S3Result()


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
        if version is not None and version != "null":
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
            await call.deps.objects.delete(bucket, key, call.requester)
        except AwsError as error:
            errors.append({"Key": key, "Code": error.code, "Message": error.message})
            continue
        if not request.get("Quiet"):
            deleted.append({"Key": key, **({"VersionId": version} if version else {})})
    return S3Result({"Deleted": deleted or None, "Errors": errors or None})


def _copy_source(text: str) -> tuple[str, str, str | None]:
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
    return bucket, key, version


def _directive(params: Mapping[str, Any], member: str, header: str) -> bool:
    value = params.get(member) or "COPY"
    if value not in ("COPY", "REPLACE"):
        raise invalid_argument(f"Unknown {header.removeprefix('x-amz-').replace('-', ' ')}.", header, value)
    return value == "REPLACE"


async def copy_object(call: S3Call) -> S3Result:
    p = call.params
    _refuse_unsupported(call.headers)
    source_bucket, source_key, version = _copy_source(p["CopySource"])
    if version is not None and version != "null":
        raise invalid_argument("Invalid version id specified", "x-amz-copy-source", p["CopySource"])
    replace_metadata = _directive(p, "MetadataDirective", "x-amz-metadata-directive")
    replace_tags = _directive(p, "TaggingDirective", "x-amz-tagging-directive")
    algorithm = p.get("ChecksumAlgorithm")
    record, _ = await call.deps.objects.copy(
        source_bucket,
        source_key,
        _new_object(call, p["Bucket"], p["Key"]),
        replace_metadata=replace_metadata,
        replace_tags=replace_tags,
        source_conditions=_preconditions(p, "CopySource"),
        conditions=WriteConditions(p.get("IfMatch"), p.get("IfNoneMatch")),
        checksum_algorithm=None if algorithm is None else checksums.check_algorithm(algorithm),
        requester=call.requester,
    )
    result = {"ETag": record.quoted_etag, "LastModified": record.last_modified, **checksum_members(record)}
    return S3Result({"CopyObjectResult": result, "ServerSideEncryption": "AES256"})
