"""The server's SigV4 against botocore's signers: the same canonical request, accepted signatures, and
every refusal for the right reason."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth, _host_from_url
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdabox.api.s3.chunked import AwsChunkedDecoder
from lambdabox.aws.sigv4 import (
    Presented,
    Problem,
    SignatureError,
    SignedRequest,
    Verified,
    Verifier,
    canonical_request,
    presented,
)
from lambdabox.core.identity import AccessKey, StaticCredentialStore
from lambdabox.errors import AwsError
from tests.signing import signed_chunks

KEY = "LKIAUNITUNITUNITUNIT"
SECRET = "unit-test-secret"
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"


class _Recording:
    """Keeps the canonical request botocore signed."""

    recorded = ""

    def canonical_request(self, request: Any) -> str:
        self.recorded = super().canonical_request(request)  # type: ignore[misc]
        return self.recorded


class RecordingSigV4(_Recording, SigV4Auth):
    pass


class RecordingS3SigV4(_Recording, S3SigV4Auth):
    pass


class RecordingQuery(_Recording, SigV4QueryAuth):
    pass


class RecordingS3Query(_Recording, S3SigV4QueryAuth):
    pass


def wire(request: AWSRequest) -> SignedRequest:
    """The request as the server receives it: path and query as sent, headers with Host."""
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(name.lower(), str(value)) for name, value in prepared.headers.items()]
    if not any(name == "host" for name, _ in headers):
        headers.append(("host", _host_from_url(prepared.url)))
    return SignedRequest(prepared.method, parts.path, parts.query, headers)


def verifier(clock: float | None = None, keys: list[AccessKey] | None = None) -> Verifier:
    store = StaticCredentialStore(keys) if keys else StaticCredentialStore.root("000000000000", KEY, SECRET)
    return Verifier(store, REGION, (lambda: clock) if clock is not None else time.time)


def check(
    request: SignedRequest, service: str, *, s3: bool, body: bytes | None = None, **kw: Any
) -> Verified:
    claim = presented(request)
    assert claim is not None
    return verifier(**kw).verify(request, claim, service, s3=s3, body=body)


def refusal(
    request: SignedRequest, service: str, *, s3: bool, body: bytes | None = None, **kw: Any
) -> Problem:
    with pytest.raises(SignatureError) as excinfo:
        check(request, service, s3=s3, body=body, **kw)
    return excinfo.value.problem


HEADER_CASES = [
    ("lambda", "GET", "/2015-03-31/functions/my-fn/configuration?Qualifier=%24LATEST", b"", {}),
    (
        "lambda",
        "POST",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn%3Alive/invocations",
        b'{"hello": "world"}',
        {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Client-Context": "  spaced   value  "},
    ),
    ("lambda", "GET", "/2015-03-31/functions/?MaxItems=50&Marker=a%2Bb", b"", {}),
    (
        "logs",
        "POST",
        "/",
        b'{"logGroupNamePrefix": "/aws"}',
        {"X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"},
    ),
]

S3_CASES = [
    (
        "PUT",
        "/bucket/dir/a%20b%2Bc%25d%C3%A9.txt",
        b"body",
        {"x-amz-meta-note": "n", "Content-Type": "text/x"},
    ),
    ("GET", "/bucket?list-type=2&prefix=a%20b%2F&delimiter=%2F", b"", {}),
    ("GET", "/bucket/k?tagging", b"", {}),
    ("PUT", "/bucket/double//slash/./dot", b"x", {}),
    ("DELETE", "/bucket/~tilde-_.key", b"", {}),
]


@pytest.mark.parametrize(("service", "method", "path", "body", "headers"), HEADER_CASES)
def test_authorization_header_of_sigv4auth(
    service: str, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    request = AWSRequest(method, ENDPOINT + path, data=body, headers=headers)
    signer = RecordingSigV4(Credentials(KEY, SECRET), service, REGION)
    signer.add_auth(request)
    signed = wire(request)
    claim = presented(signed)
    assert claim is not None
    assert canonical_request(signed, claim, hashlib.sha256(body).hexdigest(), s3=False) == signer.recorded
    verified = check(signed, service, s3=False, body=body)
    assert verified.key.principal_arn == "arn:aws:iam::000000000000:root"
    assert refusal(signed, service, s3=False, body=body + b" ") is Problem.SIGNATURE


@pytest.mark.parametrize(("method", "path", "body", "headers"), S3_CASES)
def test_authorization_header_of_s3sigv4auth(
    method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    request = AWSRequest(method, ENDPOINT + path, data=body, headers=headers)
    signer = RecordingS3SigV4(Credentials(KEY, SECRET), "s3", REGION)
    signer.add_auth(request)
    signed = wire(request)
    claim = presented(signed)
    assert claim is not None
    payload = signed.header("x-amz-content-sha256")
    assert payload is not None
    assert canonical_request(signed, claim, payload, s3=True) == signer.recorded
    check(signed, "s3", s3=True)
    tampered = SignedRequest(signed.method, signed.raw_path + "x", signed.query_string, signed.headers)
    assert refusal(tampered, "s3", s3=True) is Problem.SIGNATURE


@pytest.mark.parametrize(
    ("service", "signer_class", "s3", "path"),
    [
        ("s3", RecordingS3Query, True, "/bucket/some%20key?response-content-disposition=attachment"),
        ("lambda", RecordingQuery, False, "/2015-03-31/functions/fn"),
    ],
)
def test_presigned_urls(service: str, signer_class: Any, s3: bool, path: str) -> None:
    request = AWSRequest("GET", ENDPOINT + path)
    signer = signer_class(Credentials(KEY, SECRET), service, REGION, expires=300)
    signer.add_auth(request)
    signed = wire(request)
    claim = presented(signed)
    assert claim is not None and claim.form == "query" and claim.expires == "300"
    payload = "UNSIGNED-PAYLOAD" if s3 else "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert canonical_request(signed, claim, payload, s3=s3) == signer.recorded
    check(signed, service, s3=s3, body=None if s3 else b"")
    later = time.time() + 301
    assert refusal(signed, service, s3=s3, body=None if s3 else b"", clock=later) is Problem.EXPIRED
    # A presigned URL is not subject to the 15-minute skew while it has not expired.
    check(signed, service, s3=s3, body=None if s3 else b"", clock=time.time() + 290)


def test_presigned_url_lives_at_most_seven_days() -> None:
    request = AWSRequest("GET", ENDPOINT + "/bucket/key")
    S3SigV4QueryAuth(Credentials(KEY, SECRET), "s3", REGION, expires=604801).add_auth(request)
    assert refusal(wire(request), "s3", s3=True) is Problem.EXPIRES
    request = AWSRequest("GET", ENDPOINT + "/bucket/key")
    S3SigV4QueryAuth(Credentials(KEY, SECRET), "s3", REGION, expires=604800).add_auth(request)
    check(wire(request), "s3", s3=True)


def signed_s3(
    region: str = REGION, service: str = "s3", key: str = KEY, token: str | None = None
) -> SignedRequest:
    request = AWSRequest("GET", ENDPOINT + "/bucket/key")
    S3SigV4Auth(Credentials(key, SECRET, token), service, region).add_auth(request)
    return wire(request)


def test_clock_skew_of_15_minutes_either_way() -> None:
    signed = signed_s3()
    check(signed, "s3", s3=True, clock=time.time() + 14 * 60)
    check(signed, "s3", s3=True, clock=time.time() - 14 * 60)
    with pytest.raises(SignatureError) as excinfo:
        check(signed, "s3", s3=True, clock=time.time() + 16 * 60)
    assert excinfo.value.problem is Problem.SKEWED and not excinfo.value.details["later"]
    with pytest.raises(SignatureError) as excinfo:
        check(signed, "s3", s3=True, clock=time.time() - 16 * 60)
    assert excinfo.value.problem is Problem.SKEWED and excinfo.value.details["later"]


def test_scope_key_and_token_refusals() -> None:
    assert refusal(signed_s3(region="eu-west-1"), "s3", s3=True) is Problem.REGION
    assert refusal(signed_s3(service="lambda"), "s3", s3=True) is Problem.SERVICE
    assert refusal(signed_s3(key="LKIAUNKNOWNUNKNOWN00"), "s3", s3=True) is Problem.UNKNOWN_KEY
    assert refusal(signed_s3(token="not-expected"), "s3", s3=True) is Problem.BAD_TOKEN
    session = AccessKey(KEY, SECRET, "arn:aws:sts::000000000000:assumed-role/r/s", "000000000000", "tok")
    assert refusal(signed_s3(), "s3", s3=True, keys=[session]) is Problem.BAD_TOKEN
    assert refusal(signed_s3(token="other"), "s3", s3=True, keys=[session]) is Problem.BAD_TOKEN
    assert check(signed_s3(token="tok"), "s3", s3=True, keys=[session]).key.session_token == "tok"
    # The bucket's own region is accepted besides the platform's.
    other = signed_s3(region="eu-west-1")
    claim = presented(other)
    assert claim is not None
    verifier().verify(other, claim, "s3", s3=True, other_region=lambda: "eu-west-1")


def test_what_a_request_presents() -> None:
    assert presented(SignedRequest("GET", "/", "", [("host", "h")])) is None
    with pytest.raises(SignatureError) as excinfo:
        presented(SignedRequest("GET", "/", "", [("authorization", "AWS key:c2lnbmF0dXJl")]))
    assert excinfo.value.problem is Problem.UNSUPPORTED
    with pytest.raises(SignatureError) as excinfo:
        presented(SignedRequest("GET", "/", "", [("authorization", "AWS4-HMAC-SHA256 Credential=a/b")]))
    assert excinfo.value.problem is Problem.MALFORMED
    broken = "AWS4-HMAC-SHA256 Credential=KEY/20240101/us-east-1, SignedHeaders=host, Signature=00"
    with pytest.raises(SignatureError) as excinfo:
        presented(
            SignedRequest("GET", "/", "", [("authorization", broken), ("x-amz-date", "20240101T000000Z")])
        )
    assert excinfo.value.problem is Problem.MALFORMED
    undated = (
        "AWS4-HMAC-SHA256 Credential=KEY/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    )
    with pytest.raises(SignatureError) as excinfo:
        presented(SignedRequest("GET", "/", "", [("authorization", undated)]))
    assert excinfo.value.problem is Problem.BAD_DATE
    dated = presented(
        SignedRequest("GET", "/", "", [("authorization", undated), ("date", "Mon, 01 Jan 2024 00:00:00 GMT")])
    )
    assert isinstance(dated, Presented) and dated.amz_date == "20240101T000000Z"


def test_s3_header_form_needs_a_payload_hash_and_signed_metadata() -> None:
    request = AWSRequest("PUT", ENDPOINT + "/bucket/key", data=b"x")
    SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(request)  # no x-amz-content-sha256
    assert refusal(wire(request), "s3", s3=True) is Problem.PAYLOAD_HASH_MISSING
    signed = signed_s3()
    sneaky = SignedRequest(signed.method, signed.raw_path, "", [*signed.headers, ("x-amz-meta-added", "1")])
    assert refusal(sneaky, "s3", s3=True) is Problem.UNSIGNED_HEADERS


def test_header_signed_twice_and_trimmed() -> None:
    request = AWSRequest("GET", ENDPOINT + "/bucket/key", headers={"x-amz-meta-a": "  one   two "})
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", REGION).add_auth(request)
    signed = wire(request)
    check(signed, "s3", s3=True)
    missing = SignedRequest("GET", signed.raw_path, "", [h for h in signed.headers if h[0] != "x-amz-meta-a"])
    assert refusal(missing, "s3", s3=True) is Problem.SIGNATURE


def decode(headers: dict[str, str], body: bytes, pieces: int = 333) -> bytes:
    signed = SignedRequest("PUT", "/bucket/key", "", [(k.lower(), v) for k, v in headers.items()])
    signed = SignedRequest(signed.method, signed.raw_path, "", [*signed.headers, ("host", "127.0.0.1:4566")])
    verified = check(signed, "s3", s3=True)
    trailer = headers["X-Amz-Content-SHA256"].endswith("-TRAILER")
    decoder = AwsChunkedDecoder(verified.chunk_signatures(), trailer_signed=trailer)
    out = b"".join(b"".join(decoder.feed(body[i : i + pieces])) for i in range(0, len(body), pieces))
    decoder.close()
    return out


@pytest.mark.parametrize("trailer", [None, ("x-amz-checksum-crc32", "AAAAAA==")])
def test_chunk_signatures_chain_from_the_seed(trailer: tuple[str, str] | None) -> None:
    payload = bytes(range(256)) * 100
    url = "http://127.0.0.1:4566/bucket/key"
    headers, body = signed_chunks(url, payload, chunk_size=8192, trailer=trailer, key=KEY, secret=SECRET)
    assert decode(headers, body) == payload
    assert decode(headers, body, pieces=1) == payload
    tampered = body.replace(payload[9000:9010], b"x" * 10, 1)
    with pytest.raises(AwsError) as excinfo:
        decode(headers, tampered)
    assert excinfo.value.code == "SignatureDoesNotMatch"
    if trailer is not None:
        forged = body.replace(b"AAAAAA==", b"BBBBBB==")
        with pytest.raises(AwsError) as excinfo:
            decode(headers, forged)
        assert excinfo.value.code == "SignatureDoesNotMatch"
