"""POST Object: an upload from a browser form (`multipart/form-data` POSTed to the bucket), as
botocore's `generate_presigned_post` prepares it.

The request carries no SigV4 header: the form's `policy` (base64 JSON) is signed instead, with SigV4
(`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`) or Signature Version 2
(`AWSAccessKeyId`, `signature`). The policy must not have expired and its conditions must hold; the file is
streamed to a new blob, checked against `content-length-range`, then committed like a PutObject and
announced as `ObjectCreated:Post`. The answer follows `success_action_redirect` (303) or
`success_action_status` (200, 201 with a PostResponse document, or 204, the default).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from lambdabox.api.s3.auth import S3Auth, access_denied
from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.form import FormReader
from lambdabox.core.s3.errors import invalid_argument
from lambdabox.core.s3.models import ContentHeaders, S3Object
from lambdabox.core.s3.objects import MAX_PUT_BYTES, Integrity, NewObject, WriteConditions
from lambdabox.core.s3.post_policy import SizeRange, check_conditions, decode_policy
from lambdabox.errors import AwsError

# The fields each signature version needs, as S3 names them in its error.
SIGV4_FIELDS = {
    "policy": "Policy",
    "x-amz-algorithm": "X-Amz-Algorithm",
    "x-amz-credential": "X-Amz-Credential",
    "x-amz-date": "X-Amz-Date",
    "x-amz-signature": "X-Amz-Signature",
}
SIGV2_FIELDS = {"awsaccesskeyid": "AWSAccessKeyId", "policy": "Policy", "signature": "Signature"}
XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _missing_field(name: str) -> AwsError:
    return invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of "
        "the fields.",
        name,
        "",
    )


def _check_signature_fields(fields: Mapping[str, str]) -> bool:
    """Whether the form is signed; every field of its signature version must be there."""
    for required in (SIGV4_FIELDS, SIGV2_FIELDS):
        if any(name in fields for name in required if name != "policy"):
            for name, shown in required.items():
                if name not in fields:
                    raise _missing_field(shown)
            return True
    if "policy" in fields:
        raise _missing_field("X-Amz-Signature")
    return False


def _content(fields: Mapping[str, str]) -> ContentHeaders:
    return ContentHeaders(
        content_type=fields.get("content-type") or "binary/octet-stream",
        content_encoding=fields.get("content-encoding"),
        content_disposition=fields.get("content-disposition"),
        cache_control=fields.get("cache-control"),
        expires=fields.get("expires"),
    )


async def post_object(
    call: S3Call,
    auth: S3Auth | None,
    authorize: Callable[[str | None, str], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> S3Result:
    """`authorize(signer, key)`: IAM authorization of the upload (anonymous ones: by the bucket policy)."""
    bucket = call.params["Bucket"]
    call.deps.buckets.get(bucket)
    reader = FormReader(call.headers.get("content-type", ""), call.body.chunks())
    fields, file = await reader.fields()
    if not fields.get("key"):
        raise _missing_field("key")
    signed = _check_signature_fields(fields)
    if file is None:
        raise invalid_argument("POST requires exactly one file upload per request.", "file", "0")
    requester = call.requester
    key = fields["key"].replace("${filename}", file.filename)
    if auth is not None:
        signer_arn: str | None = None
        if signed:
            signer = auth.verify_post(fields)
            requester = replace(requester, principal_id=f"AWS:{signer.access_key_id}")
            signer_arn = signer.principal_arn
        elif authorize is None:
            raise access_denied()
        if authorize is not None:
            authorize(signer_arn, key)  # anonymous uploads need a bucket policy that allows them
    size: SizeRange | None = None
    if "policy" in fields:
        conditions = decode_policy(fields["policy"], datetime.fromtimestamp(clock(), UTC))
        size = check_conditions(conditions, fields, bucket, key)
    spec = NewObject(
        bucket=bucket,
        key=key,
        content=_content(fields),
        metadata={
            name[len("x-amz-meta-") :]: value
            for name, value in fields.items()
            if name.startswith("x-amz-meta-")
        },
        storage_class=fields.get("x-amz-storage-class") or "STANDARD",
        website_redirect=fields.get("x-amz-website-redirect-location"),
    )
    integrity = Integrity()
    objects = call.deps.objects
    upload = objects.start_upload(spec, integrity.algorithms())
    limit = min(MAX_PUT_BYTES, size.maximum) if size is not None else MAX_PUT_BYTES
    try:
        async with aclosing(reader.file_chunks()) as chunks:
            async for chunk in chunks:
                await upload.write(chunk)
                if upload.size > limit:
                    break  # no need to read further: refused below
        if size is not None:
            size.check(upload.size)
        if upload.size > MAX_PUT_BYTES:
            raise AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
    except BaseException:
        await upload.discard()
        raise
    record = await objects.put(
        upload, spec, integrity, WriteConditions(), requester, event="ObjectCreated:Post"
    )
    return _answer(call, fields, record)


def _location(call: S3Call, record: S3Object) -> str:
    host = call.headers.get("host", "localhost")
    path = quote(record.key, safe="/~")
    if host.startswith(record.bucket + "."):
        return f"http://{host}/{path}"
    return f"http://{host}/{record.bucket}/{path}"


def _answer(call: S3Call, fields: Mapping[str, str], record: S3Object) -> S3Result:
    output: dict[str, Any] = {"ETag": record.quoted_etag, "ServerSideEncryption": "AES256"}
    location = _location(call, record)
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    if redirect:
        query = (
            f"bucket={quote(record.bucket, safe='')}&key={quote(record.key, safe='')}"
            f"&etag={quote(record.quoted_etag, safe='')}"
        )
        separator = "&" if "?" in redirect else "?"
        return S3Result(output, status=303, headers={"Location": f"{redirect}{separator}{query}"})
    status = fields.get("success_action_status")
    if status == "201":
        document = (
            f"{XML}<PostResponse><Location>{escape(location)}</Location><Bucket>{escape(record.bucket)}</Bucket>"
            f"<Key>{escape(record.key)}</Key><ETag>{escape(record.quoted_etag)}</ETag></PostResponse>"
        )
        return S3Result(output, raw=document.encode(), status=201, headers={"Location": location})
    return S3Result(output, status=200 if status == "200" else 204, headers={"Location": location})
