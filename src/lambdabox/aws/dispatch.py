"""Which AWS service a request on the shared port is for: SigV4 credential scope, target header, path."""

from __future__ import annotations

import re

from lambdabox.aws.wire import WireRequest

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(
    r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&%/]+(?:%2F|/)([^&%/]+)(?:%2F|/)aws4_request"
)
_TARGET_PREFIXES = {
    "Logs_20140328": "logs",
    "AWSEvents": "events",
    "TrentService": "kms",
    "secretsmanager": "secretsmanager",
    "AmazonSSM": "ssm",
}
# Virtual-hosted-style S3 hosts (`bucket.localhost`, `bucket.s3.localhost`, `*.s3.<region>.amazonaws.com`).
_S3_HOST = re.compile(
    r"(?:[^:]+\.localhost|(?:[^:]+\.)?s3(?:[.-][a-z0-9-]+)*\.(?:localhost|amazonaws\.com))(?::\d+)?",
    re.IGNORECASE,
)
_LAMBDA_PATH = re.compile(
    r"/20(14-11-13|15-03-31|16-08-19|17-03-31|17-10-31|18-10-31|19-09-25|19-09-30|20-04-22|20-06-30|21-07-20|21-10-31|21-11-15|24-08-31)/"
)


# Services recognised by the shape of their requests. They claim a request by its shape alone, whatever
# its credential scope names (the scope is then checked against them: a wrong one is refused as AWS does);
# a request scoped to one of them that does not have its shape is not theirs.
_BY_SHAPE = frozenset({"lambda", "logs", "events", "kms", "secretsmanager", "ssm"})


# Data planes addressed by host name, or by a path under /_lambdabox/ for clients that cannot resolve
# `*.localhost`: they get the raw request before any service or internal endpoint is considered.
_EXECUTE_API_HOST = re.compile(r"[a-z0-9]+\.execute-api(?:\.[a-z0-9-]+)?\.localhost(?::\d+)?", re.IGNORECASE)
# Lambda function URLs: `<url-id>.lambda-url.<region>.localhost[:port]`, or `/_lambdabox/url/<url-id>/...`.
_LAMBDA_URL_HOST = re.compile(r"[a-z0-9]{32}\.lambda-url\.[a-z0-9-]+\.localhost(?::\d+)?", re.IGNORECASE)


def data_plane_of(request: WireRequest) -> str | None:
    """The data plane a request is for: `execute-api` for API Gateway invocations
    (`<api-id>.execute-api.localhost`, or `/_lambdabox/execute-api/<api-id>/...`); None otherwise."""
    if _EXECUTE_API_HOST.fullmatch(request.header("host") or "") or request.raw_path.startswith(
        "/_lambdabox/execute-api/"
    ):
        return "execute-api"
    if _LAMBDA_URL_HOST.fullmatch(request.header("host") or "") or request.raw_path.startswith(
        "/_lambdabox/url/"
    ):
        return "lambda-url"
    return None


def _scoped_service(request: WireRequest) -> str | None:
    authorization = request.header("authorization")
    if authorization:
        match = _SCOPE.search(authorization)
        return match.group(1) if match else None
    if "X-Amz-Credential" in request.query_string:
        match = _QUERY_SCOPE.search(request.query_string)
        if match:
            return match.group(1)
    return None


def service_of(request: WireRequest) -> str | None:
    """The service a request is for; None leaves it to the default service (S3): anonymous requests,
    Signature Version 2, and requests scoped to a shape-recognised service without its shape."""
    target = request.header("x-amz-target")
    if target:
        known = _TARGET_PREFIXES.get(target.split(".", 1)[0])
        if known is not None:
            return known
    scoped = _scoped_service(request)
    s3_host = _S3_HOST.fullmatch(request.header("host") or "") is not None
    if _LAMBDA_PATH.match(request.raw_path) and (not s3_host or scoped == "lambda"):
        return "lambda"
    if s3_host:
        return "s3"
    if scoped is not None and scoped not in _BY_SHAPE:
        return scoped
    if scoped is None and request.raw_path == "/":
        return _unsigned_query_call(request)
    if scoped is None and request.raw_path.startswith("/v2/"):
        return "apigateway"  # HTTP APIs' control plane ("v2" is too short to be a bucket name)
    return None


# API versions of the query-protocol services, for calls that carry no credential scope.
_QUERY_VERSIONS = {"2010-05-08": "iam", "2011-06-15": "sts"}


def _unsigned_query_call(request: WireRequest) -> str | None:
    """IAM or STS for a query-protocol call without a signature (never an S3 request: S3 has no form POST
    on `/`, nor Action and Version parameters), so that it is refused in their words. A form POST's body is
    not read yet: it goes to STS, which refuses it exactly as IAM would."""
    if request.method == "POST" and (request.header("content-type") or "").startswith(
        "application/x-www-form-urlencoded"
    ):
        return "sts"
    query = dict(request.query())
    return _QUERY_VERSIONS.get(query.get("Version", "")) if "Action" in query else None
