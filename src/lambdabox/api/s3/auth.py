"""Request signatures for S3, refused with S3's own error codes (an `<Error>` document, like every S3
error): SigV4 (header, presigned URL, signed chunks) and, because boto3 still presigns S3 URLs and POST
policies with it by default, Signature Version 2.

Anonymous requests get `AccessDenied`, except the two S3 answers without a signature by design: CORS
preflights (`OPTIONS`) and browser form uploads (`POST` of `multipart/form-data` to a bucket), which carry
their own signed policy. With IAM authorization on, anonymous requests go on to it instead: a bucket
policy may allow them (public read), else they get `AccessDenied` there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lambdabox.aws.sigv2 import V2Verifier, is_sigv2
from lambdabox.aws.sigv4 import ChunkSignatures, Problem, SignatureError, SignedRequest, Verifier, presented
from lambdabox.core.identity import AccessKey
from lambdabox.errors import AwsError

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and "
    "signing method."
)


def access_denied(message: str = "Access Denied", **fields: str) -> AwsError:
    return AwsError("AccessDenied", message, 403, fields=fields)


def signature_mismatch() -> AwsError:
    return AwsError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403)


@dataclass(frozen=True)
class S3Identity:
    """Who signed a request; `chunks`: the signature chain its aws-chunked body must follow (SigV4)."""

    key: AccessKey
    chunks: ChunkSignatures | None = None


class S3Auth:
    """`bucket_region(name)`: the region of an existing bucket (its scope may name that region too)."""

    def __init__(
        self, verifier: Verifier, v2: V2Verifier, bucket_region: Callable[[str], str | None]
    ) -> None:
        self._verifier = verifier
        self._v2 = v2
        self._bucket_region = bucket_region

    def authenticate(
        self,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Sequence[tuple[str, str]],
        bucket: str | None,
        bucket_in_host: str | None,
        *,
        anonymous_allowed: bool,
    ) -> S3Identity | None:
        """Who signed the request; None for an anonymous request that is allowed to go on.
        `raw_path`: as sent (without the bucket of a virtual-hosted request)."""
        signed = SignedRequest(method, raw_path, query_string, headers)
        try:
            if is_sigv2(signed):
                return S3Identity(self._v2.verify(signed, bucket_in_host))
            claim = presented(signed)
            if claim is None:
                if anonymous_allowed:
                    return None
                raise access_denied()
            verified = self._verifier.verify(
                signed,
                claim,
                "s3",
                s3=True,
                other_region=(lambda: self._bucket_region(bucket)) if bucket else None,
            )
            return S3Identity(verified.key, verified.chunk_signatures())
        except SignatureError as error:
            raise s3_error(error) from None

    def verify_post(self, fields: Mapping[str, str]) -> AccessKey:
        """The signer of a browser form upload's policy (`fields`: lower-case names)."""
        try:
            if "x-amz-signature" in fields:
                return self._verifier.verify_policy(fields)
            return self._v2.verify_policy(fields)
        except SignatureError as error:
            raise s3_error(error) from None


def s3_error(error: SignatureError) -> AwsError:
    d = error.details
    problem = error.problem
    query = error.form == "query"
    malformed = "AuthorizationQueryParametersError" if query else "AuthorizationHeaderMalformed"
    where = (
        "Error parsing the X-Amz-Credential parameter; "
        if query
        else "The authorization header is malformed; "
    )
    if problem is Problem.UNKNOWN_KEY:
        return AwsError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            fields={"AWSAccessKeyId": d["access_key_id"]},
        )
    if problem is Problem.SIGNATURE:
        canonical = d["canonical_request"]
        to_sign = d["string_to_sign"]
        fields = {
            "AWSAccessKeyId": d["access_key_id"],
            "StringToSign": to_sign,
            "SignatureProvided": d["signature_provided"],
            "StringToSignBytes": _hex_bytes(to_sign),
        }
        if canonical:
            fields.update(CanonicalRequest=canonical, CanonicalRequestBytes=_hex_bytes(canonical))
        return AwsError("SignatureDoesNotMatch", SIGNATURE_MISMATCH, 403, fields=fields)
    if problem is Problem.SKEWED:
        return AwsError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            fields={
                "RequestTime": d["request_time"],
                "ServerTime": d["server_time"],
                "MaxAllowedSkewMilliseconds": "900000",
            },
        )
    if problem is Problem.EXPIRED:
        return access_denied(
            "Request has expired",
            **{"X-Amz-Expires": d["expires"], "Expires": d["expired_at"], "ServerTime": d["server_time"]},
        )
    if problem is Problem.BAD_DATE:
        return access_denied(error.message)
    if problem is Problem.UNSIGNED_HEADERS:
        return access_denied(error.message, HeadersNotSigned=d["headers_not_signed"])
    if problem is Problem.BAD_TOKEN:
        return AwsError("InvalidToken", "The provided token is malformed or otherwise invalid.", 400)
    if problem is Problem.EXPIRED_TOKEN:
        return AwsError("ExpiredToken", "The provided token has expired.", 400)
    if problem in (Problem.UNSUPPORTED, Problem.PAYLOAD_HASH_MISSING):
        return AwsError("InvalidRequest", error.message, 400)
    if problem is Problem.EXPIRES:
        return AwsError("AuthorizationQueryParametersError", error.message, 400)
    if problem is Problem.REGION:
        return AwsError(malformed, where + error.message, 400, fields={"Region": d["expected"]})
    if problem in (Problem.SERVICE, Problem.TERMINAL):
        return AwsError(malformed, where + error.message, 400)
    return AwsError(malformed, error.message, 400)  # MALFORMED, CREDENTIAL_DATE


def _hex_bytes(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))
