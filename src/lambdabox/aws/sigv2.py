"""AWS Signature Version 2 for S3, the server side (botocore's HmacV1Auth / HmacV1QueryAuth).

S3 is the one service that still takes it, and boto3 presigns S3 URLs and POST policies with it unless
the client is configured with `signature_version="s3v4"`. The string to sign is the method, Content-MD5,
Content-Type, the Date (or, presigned, Expires; empty when x-amz-date is sent), the x-amz-* headers
(lower-case, sorted, values trimmed and joined with commas) and the resource: the path with the bucket
(even for virtual-hosted requests) plus the sub-resources S3 signs, sorted. The signature is the base64
HMAC-SHA1 of it, compared in constant time. Failures are `sigv4.SignatureError`s, worded by the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from lambdabox.aws.sigv4 import MAX_SKEW_SECONDS, Problem, SignatureError, SignedRequest
from lambdabox.core.identity import AccessKey, CredentialStore

# The query parameters that are part of the signed resource (botocore's HmacV1Auth.QSAOfInterest).
SUB_RESOURCES = frozenset(
    [
        "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
        "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads",
        "uploadId", "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding", "delete",
        "lifecycle", "tagging", "restore", "storageClass", "notification", "replication", "analytics",
        "metrics", "inventory", "select", "select-type", "object-lock",
    ]
)  # fmt: skip


def is_sigv2(request: SignedRequest) -> bool:
    authorization = request.header("authorization")
    if authorization is not None:
        return authorization.startswith("AWS ")
    query = request.query_string
    return "AWSAccessKeyId=" in query and "Signature=" in query


def _query(query_string: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            params.setdefault(unquote(name), unquote(value))
    return params


def string_to_sign(request: SignedRequest, date_line: str, resource_path: str) -> str:
    standard = {"content-md5": "", "content-type": ""}
    amz: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name in standard:
            standard[name] = value.strip()
        elif name.startswith("x-amz-"):
            amz.setdefault(name, []).append(value.strip())
    lines = [request.method.upper(), standard["content-md5"], standard["content-type"], date_line]
    lines += [f"{name}:{','.join(amz[name])}" for name in sorted(amz)]
    sub = []
    for part in request.query_string.split("&"):
        name, sep, value = part.partition("=")
        if name in SUB_RESOURCES:
            sub.append((name, f"{name}={unquote(value)}" if sep else name))
    resource = resource_path
    if sub:
        resource += "?" + "&".join(text for _, text in sorted(sub, key=lambda item: item[0]))
    return "\n".join([*lines, resource])


def sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class V2Verifier:
    def __init__(self, credentials: CredentialStore, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self._clock = clock

    def verify(self, request: SignedRequest, bucket_in_host: str | None) -> AccessKey:
        """`bucket_in_host`: the bucket of a virtual-hosted request (the signed resource names it)."""
        authorization = request.header("authorization")
        now = self._clock()
        if authorization is not None:
            form = "header"
            key_id, _, signature = authorization[4:].strip().rpartition(":")
            if not key_id or not signature:
                raise SignatureError(
                    Problem.MALFORMED,
                    "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
                )
            amz_date = request.header("x-amz-date")
            date_line = "" if amz_date is not None else (request.header("date") or "")
            signed_at = _http_date(amz_date if amz_date is not None else date_line)
            if signed_at is None:
                raise SignatureError(
                    Problem.BAD_DATE, "AWS authentication requires a valid Date or x-amz-date header"
                )
            if abs(now - signed_at) > MAX_SKEW_SECONDS:
                raise SignatureError(
                    Problem.SKEWED,
                    "The difference between the request time and the current time is too large.",
                    request_time=amz_date or date_line,
                    server_time=_iso(now),
                )
            token = request.header("x-amz-security-token")
        else:
            form = "query"
            params = _query(request.query_string)
            key_id, signature = params.get("AWSAccessKeyId", ""), params.get("Signature", "")
            date_line = params.get("Expires", "")
            try:
                expires = int(date_line)
            except ValueError:
                raise SignatureError(
                    Problem.MALFORMED, "Query-string authentication requires the Signature, Expires and "
                    "AWSAccessKeyId parameters", form,
                ) from None  # fmt: skip
            if expires < now:
                raise SignatureError(
                    Problem.EXPIRED,
                    "Request has expired",
                    form,
                    expires=date_line,
                    expired_at=_iso(expires),
                    server_time=_iso(now),
                )
            token = params.get("x-amz-security-token") or request.header("x-amz-security-token")
        key = self._credentials.lookup(key_id)
        if key is None:
            raise SignatureError(
                Problem.UNKNOWN_KEY,
                "The AWS Access Key Id you provided does not exist in our records.",
                form,
                access_key_id=key_id,
            )
        _check_token(key, token, form)
        resource = f"/{bucket_in_host}{request.raw_path}" if bucket_in_host else request.raw_path or "/"
        text = string_to_sign(request, date_line, resource)
        if not hmac.compare_digest(
            sign(key.secret_access_key, text).encode(), signature.encode("ascii", "replace")
        ):
            raise SignatureError(
                Problem.SIGNATURE,
                "The request signature we calculated does not match the signature you provided.",
                form,
                access_key_id=key_id,
                string_to_sign=text,
                signature_provided=signature,
                canonical_request="",
            )
        return key

    def verify_policy(self, fields: Mapping[str, str]) -> AccessKey:
        """A SigV2 POST form: `signature` is the base64 HMAC-SHA1 of the base64 `policy`."""
        key_id = fields.get("awsaccesskeyid", "")
        key = self._credentials.lookup(key_id)
        if key is None:
            raise SignatureError(
                Problem.UNKNOWN_KEY,
                "The AWS Access Key Id you provided does not exist in our records.",
                access_key_id=key_id,
            )
        _check_token(key, fields.get("x-amz-security-token"), "header")
        policy, signature = fields.get("policy", ""), fields.get("signature", "")
        if not hmac.compare_digest(
            sign(key.secret_access_key, policy).encode(), signature.encode("ascii", "replace")
        ):
            raise SignatureError(
                Problem.SIGNATURE,
                "The request signature we calculated does not match the signature you provided.",
                access_key_id=key_id,
                string_to_sign=policy,
                signature_provided=signature,
                canonical_request="",
            )
        return key


def _check_token(key: AccessKey, token: str | None, form: str) -> None:
    token = token or None
    expected = key.session_token
    if (token is None) != (expected is None) or (
        token is not None
        and expected is not None
        and not hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
    ):
        raise SignatureError(Problem.BAD_TOKEN, "The provided token is malformed or otherwise invalid.", form)
    if key.expired:
        raise SignatureError(Problem.EXPIRED_TOKEN, "The provided token has expired.", form)


def _http_date(text: str) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.strptime(text, "%Y%m%dT%H%M%SZ")
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
