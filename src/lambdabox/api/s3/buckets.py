"""Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation."""

from __future__ import annotations

import base64
import binascii

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.api.s3.shapes import owner
from lambdabox.core.s3.errors import invalid_argument, not_implemented
from lambdabox.core.s3.names import bucket_arn
from lambdabox.errors import AwsError

MAX_BUCKETS_PAGE = 10000
NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


async def create_bucket(call: S3Call) -> S3Result:
    p = call.params
    if p.get("ObjectLockEnabledForBucket"):
        raise not_implemented("Object Lock")
    configuration = p.get("CreateBucketConfiguration") or {}
    bucket = call.deps.buckets.create(p["Bucket"], configuration.get("LocationConstraint"))
    return S3Result({"Location": f"/{bucket.name}", "BucketArn": bucket_arn(bucket.name)})


async def head_bucket(call: S3Call) -> S3Result:
    bucket = call.deps.buckets.get(call.params["Bucket"])
    return S3Result({"BucketRegion": bucket.region, "AccessPointAlias": False})


async def delete_bucket(call: S3Call) -> S3Result:
    call.deps.buckets.delete(call.params["Bucket"])
    return S3Result()


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_argument("Invalid continuation token", "continuation-token", token) from None


async def list_buckets(call: S3Call) -> S3Result:
    p = call.params
    limit = p.get("MaxBuckets", MAX_BUCKETS_PAGE)
    if not 1 <= limit <= MAX_BUCKETS_PAGE:
        raise invalid_argument(
            "Provided max-buckets not an integer or within integer range", "max-buckets", str(limit)
        )
    after = _untoken(p["ContinuationToken"]) if p.get("ContinuationToken") else ""
    prefix = p.get("Prefix") or ""
    region = p.get("BucketRegion")
    buckets = [
        b
        for b in call.deps.buckets.list()
        if b.name > after and b.name.startswith(prefix) and (region is None or b.region == region)
    ]
    page = buckets[:limit]
    output = {
        "Buckets": [{"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page],
        "Owner": owner(call.deps.account),
        "Prefix": p.get("Prefix"),
        "ContinuationToken": _token(page[-1].name) if len(buckets) > limit else None,
    }
    return S3Result(output)


async def get_bucket_location(call: S3Call) -> S3Result:
    """The one S3 document whose root element carries the value (botocore parses it by hand)."""
    bucket = call.deps.buckets.get(call.params["Bucket"])
    raw = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="{NAMESPACE}">'
        f"{bucket.location_constraint or ''}</LocationConstraint>"
    )
    return S3Result(raw=raw.encode())


def check_owner(call: S3Call) -> None:
    expected = call.params.get("ExpectedBucketOwner")
    if expected is not None and expected != call.deps.account.account_id:
        raise AwsError("AccessDenied", "Access Denied", 403)
