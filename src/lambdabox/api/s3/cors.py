"""Put/Get/DeleteBucketCors, CORS preflights (OPTIONS) and the CORS headers of actual requests."""

from __future__ import annotations

from collections.abc import Mapping

from lambdabox.api.s3.context import S3Call, S3Deps, S3Result
from lambdabox.core.s3 import cors
from lambdabox.errors import AwsError

NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


async def put_bucket_cors(call: S3Call) -> S3Result:
    p = call.params
    call.deps.buckets.get(p["Bucket"])
    call.deps.buckets.set_cors(p["Bucket"], cors.parse_rules(p.get("CORSConfiguration")))
    return S3Result()


async def get_bucket_cors(call: S3Call) -> S3Result:
    return S3Result({"CORSRules": cors.rules_output(call.deps.buckets.cors(call.params["Bucket"]))})


async def delete_bucket_cors(call: S3Call) -> S3Result:
    bucket = call.params["Bucket"]
    call.deps.buckets.get(bucket)
    call.deps.buckets.set_cors(bucket, None)
    return S3Result()


def _forbidden(message: str, method: str, resource_type: str) -> AwsError:
    return AwsError("AccessForbidden", message, 403, fields={"Method": method, "ResourceType": resource_type})


def _rules(deps: S3Deps, bucket: str) -> tuple[cors.CorsRule, ...] | None:
    try:
        return deps.buckets.get(bucket).cors
    except AwsError:
        return None


async def preflight(call: S3Call) -> S3Result:
    """OPTIONS /{Bucket}[/{Key}]: 200 with the matching rule's Access-Control-* headers, or 403."""
    headers = call.headers
    bucket = call.params.get("Bucket")
    origin = headers.get("origin")
    if not origin:
        raise AwsError("BadRequest", "Insufficient information. Origin request header needed.", 400)
    method = headers.get("access-control-request-method") or "OPTIONS"
    try:
        rules = call.deps.buckets.get(bucket or "").cors
    except AwsError:
        raise _forbidden("CORSResponse: Bucket not found", method, "BUCKET") from None
    if rules is None:
        raise _forbidden("CORSResponse: CORS is not enabled for this bucket.", method, "BUCKET")
    requested = cors.split_header_list(headers.get("access-control-request-headers"))
    rule = cors.find_rule(rules, origin, method, requested)
    if rule is None:
        raise _forbidden(NOT_ALLOWED, method, "OBJECT")
    return S3Result(status=200, headers=cors.response_headers(rule, origin, requested))


def actual_request_headers(
    deps: S3Deps, bucket: str | None, method: str, headers: Mapping[str, str]
) -> dict[str, str]:
    """CORS headers for a request with an Origin header (none when no rule matches)."""
    origin = headers.get("origin")
    if not origin or not bucket:
        return {}
    rules = _rules(deps, bucket)
    rule = cors.find_rule(rules or (), origin, method)
    return cors.response_headers(rule, origin) if rule is not None else {}
