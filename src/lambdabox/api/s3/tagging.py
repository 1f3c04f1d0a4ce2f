"""Object and bucket tagging."""

from __future__ import annotations

from typing import Any

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.core.s3.errors import malformed_xml, not_implemented
from lambdabox.core.s3.tagging import check_tags
from lambdabox.core.s3.versions import check_version_id


def _tag_pairs(call: S3Call) -> list[tuple[str, str]]:
    tagging = call.params.get("Tagging")
    if tagging is None:
        raise malformed_xml()
    return [(tag["Key"], tag["Value"]) for tag in tagging.get("TagSet", [])]


def _tag_set(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _only_current(call: S3Call) -> None:
    """Tags can be changed on the current version only (a noncurrent version's are read-only here)."""
    p = call.params
    if p.get("VersionId") is None:
        return
    asked = call.deps.objects.head(p["Bucket"], p["Key"], version_id=check_version_id(p["VersionId"]))
    current = call.deps.objects.head(p["Bucket"], p["Key"])
    if (asked.version_id or "null") != (current.version_id or "null"):
        raise not_implemented("Changing the tags of a noncurrent object version")


async def put_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    tags = check_tags(_tag_pairs(call))
    _only_current(call)
    record = call.deps.objects.set_tags(p["Bucket"], p["Key"], tags, call.requester)
    return S3Result({"VersionId": call.deps.objects.version_label(record)})


async def get_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    version = p.get("VersionId")
    objects = call.deps.objects
    record = objects.head(
        p["Bucket"], p["Key"], version_id=None if version is None else check_version_id(version)
    )
    return S3Result({"TagSet": _tag_set(record.tags), "VersionId": objects.version_label(record)})


async def delete_object_tagging(call: S3Call) -> S3Result:
    p = call.params
    _only_current(call)
    record = call.deps.objects.set_tags(p["Bucket"], p["Key"], None, call.requester)
    return S3Result({"VersionId": call.deps.objects.version_label(record)})


async def put_bucket_tagging(call: S3Call) -> S3Result:
    tags = check_tags(_tag_pairs(call), bucket=True)
    call.deps.buckets.set_tags(call.params["Bucket"], tags)
    return S3Result()


async def get_bucket_tagging(call: S3Call) -> S3Result:
    return S3Result({"TagSet": _tag_set(call.deps.buckets.tags(call.params["Bucket"]))})


async def delete_bucket_tagging(call: S3Call) -> S3Result:
    call.deps.buckets.set_tags(call.params["Bucket"], None)
    return S3Result()
