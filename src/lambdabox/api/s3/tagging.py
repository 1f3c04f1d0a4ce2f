"""Object and bucket tagging."""

from __future__ import annotations

from typing import Any

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.core.s3.errors import malformed_xml
from lambdabox.core.s3.tagging import check_tags


def _tag_pairs(call: S3Call) -> list[tuple[str, str]]:
    tagging = call.params.get("Tagging")
    if tagging is None:
        raise malformed_xml()
    return [(tag["Key"], tag["Value"]) for tag in tagging.get("TagSet", [])]


def _tag_set(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


async def put_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    tags = check_tags(_tag_pairs(call))
    call.deps.objects.set_tags(p["Bucket"], p["Key"], tags, call.requester)
    return S3Result()


async def get_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    record = call.deps.objects.head(p["Bucket"], p["Key"])
    return S3Result({"TagSet": _tag_set(record.tags)})


async def delete_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    call.deps.objects.set_tags(p["Bucket"], p["Key"], None, call.requester)
    return S3Result()


async def put_bucket_tagging(call: S3Call) -> S3Result:
    tags = check_tags(_tag_pairs(call), bucket=True)
    call.deps.buckets.set_tags(call.params["Bucket"], tags)
    return S3Result()


async def get_bucket_tagging(call: S3Call) -> S3Result:
    return S3Result({"TagSet": _tag_set(call.deps.buckets.tags(call.params["Bucket"]))})


async def delete_bucket_tagging(call: S3Call) -> S3Result:
    call.deps.buckets.set_tags(call.params["Bucket"], None)
    return S3Result()
