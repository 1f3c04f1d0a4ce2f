"""Which AWS service a request on the shared port is for: SigV4 credential scope, target header, path."""

from __future__ import annotations

import re

from lambdabox.aws.wire import WireRequest

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(
    r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&%/]+(?:%2F|/)([^&%/]+)(?:%2F|/)aws4_request"
)
_TARGET_PREFIXES = {"Logs_20140328": "logs"}
# Virtual-hosted-style S3 hosts (`bucket.localhost`, `bucket.s3.localhost`, `*.s3.<region>.amazonaws.com`).
_S3_HOST = re.compile(
    r"(?:[^:]+\.localhost|(?:[^:]+\.)?s3(?:[.-][a-z0-9-]+)*\.(?:localhost|amazonaws\.com))(?::\d+)?",
    re.IGNORECASE,
)
_LAMBDA_PATH = re.compile(
    r"/20(14-11-13|15-03-31|16-08-19|17-03-31|17-10-31|18-10-31|19-09-25|19-09-30|20-04-22|20-06-30|21-10-31|21-11-15|24-08-31)/"
)


def service_of(request: WireRequest) -> str | None:
    authorization = request.header("authorization")
    if authorization:
        match = _SCOPE.search(authorization)
        if match:
            return match.group(1)
        if authorization.startswith("AWS "):  # Signature Version 2: only S3 still accepts it
            return "s3"
    if "X-Amz-Credential" in request.query_string:
        match = _QUERY_SCOPE.search(request.query_string)
        if match:
            return match.group(1)
    if _S3_HOST.fullmatch(request.header("host") or ""):
        return "s3"
    target = request.header("x-amz-target")
    if target:
        return _TARGET_PREFIXES.get(target.split(".", 1)[0])
    if _LAMBDA_PATH.match(request.raw_path):
        return "lambda"
    return None
