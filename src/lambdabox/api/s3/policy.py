"""Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. Policies are validated and stored; IAM policy
evaluation will enforce them."""

from __future__ import annotations

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.core.s3.bucket_policy import is_public, malformed_policy


async def put_bucket_policy(call: S3Call) -> S3Result:
    p = call.params
    text = p.get("Policy")
    if not text:
        call.deps.buckets.get(p["Bucket"])
        raise malformed_policy("Policies must be valid JSON and the first byte must be '{'")
    call.deps.buckets.set_policy(p["Bucket"], text)
    return S3Result()


async def get_bucket_policy(call: S3Call) -> S3Result:
    text = call.deps.buckets.policy(call.params["Bucket"])
    return S3Result(raw=text.encode())


async def delete_bucket_policy(call: S3Call) -> S3Result:
    call.deps.buckets.set_policy(call.params["Bucket"], None)
    return S3Result()


async def get_bucket_policy_status(call: S3Call) -> S3Result:
    text = call.deps.buckets.policy(call.params["Bucket"])
    return S3Result({"PolicyStatus": {"IsPublic": is_public(text)}})
