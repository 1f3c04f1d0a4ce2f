"""ListObjects (v1) and ListObjectsV2: markers, continuation tokens, delimiter, url encoding."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.shapes import list_entry
from lambdabox.core.s3.errors import invalid_argument
from lambdabox.core.s3.listing import MAX_KEYS


def encoder(call: S3Call) -> Any:
    kind = call.params.get("EncodingType")
    if kind is None:
        return lambda text: text
    if kind != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", kind)
    return lambda text: None if text is None else quote(text, safe="/")


def _max_keys(call: S3Call) -> int:
    return int(min(call.params.get("MaxKeys", MAX_KEYS), MAX_KEYS))


async def list_objects(call: S3Call) -> S3Result:
    p = call.params
    encode = encoder(call)
    bucket = p["Bucket"]
    prefix = p.get("Prefix") or ""
    delimiter = p.get("Delimiter") or None
    marker = p.get("Marker") or ""
    max_keys = _max_keys(call)
    page = call.deps.objects.list(bucket, prefix, delimiter, marker, max_keys)
    output: dict[str, Any] = {
        "IsTruncated": page.truncated,
        "Marker": encode(marker),
        "Contents": [{**list_entry(o, call.deps.account), "Key": encode(o.key)} for o in page.objects]
        or None,
        "Name": bucket,
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(c)} for c in page.common_prefixes] or None,
        "EncodingType": p.get("EncodingType"),
    }
    if page.truncated and delimiter:
        output["NextMarker"] = encode(page.last)
    return S3Result(output)


def _token(after: str) -> str:
    return base64.urlsafe_b64encode(b"1:" + after.encode()).decode()


def _untoken(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if not raw.startswith(b"1:"):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
    return raw[2:].decode()


async def list_objects_v2(call: S3Call) -> S3Result:
    p = call.params
    encode = encoder(call)
    bucket = p["Bucket"]
    prefix = p.get("Prefix") or ""
    delimiter = p.get("Delimiter") or None
    token = p.get("ContinuationToken")
    start_after = p.get("StartAfter") or ""
    marker = _untoken(token) if token is not None else start_after
    max_keys = _max_keys(call)
    page = call.deps.objects.list(bucket, prefix, delimiter, marker, max_keys)
    owner_of = call.deps.account if p.get("FetchOwner") else None
    last = page.last
    output: dict[str, Any] = {
        "IsTruncated": page.truncated,
        "Contents": [{**list_entry(o, owner_of), "Key": encode(o.key)} for o in page.objects] or None,
        "Name": bucket,
        "Prefix": encode(prefix),
        "Delimiter": encode(delimiter),
        "MaxKeys": max_keys,
        "CommonPrefixes": [{"Prefix": encode(c)} for c in page.common_prefixes] or None,
        "EncodingType": p.get("EncodingType"),
        "KeyCount": page.count,
        "ContinuationToken": token,
        "NextContinuationToken": _token(last) if page.truncated and last is not None else None,
        "StartAfter": encode(start_after) if p.get("StartAfter") else None,
    }
    return S3Result(output)
