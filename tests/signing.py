"""Signing raw requests as botocore does, for tests that talk to the server below boto3.

`sign` uses botocore's own signers (SigV4Auth, S3SigV4Auth); `signed_chunks` builds a
STREAMING-AWS4-HMAC-SHA256-PAYLOAD body from the AWS documentation's algorithm, written here
independently of the server's implementation.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class _FixedPayloadS3Signer(S3SigV4Auth):
    """S3SigV4Auth with a chosen x-amz-content-sha256 (a streaming mode, UNSIGNED-PAYLOAD, a wrong hash)."""

    def __init__(self, credentials: Credentials, region: str, payload: str) -> None:
        super().__init__(credentials, "s3", region)
        self._payload = payload

    def payload(self, request: Any) -> str:
        return self._payload


def _add_auth(signer: Any, request: AWSRequest, at: datetime | None) -> None:
    """botocore's SigV4 add_auth, at the time `at` instead of now (a client with a wrong clock)."""
    if at is None:
        signer.add_auth(request)
        return
    request.context["timestamp"] = at.strftime("%Y%m%dT%H%M%SZ")
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(
        request, signer.signature(signer.string_to_sign(request, canonical), request)
    )


def sign(
    method: str,
    url: str,
    *,
    service: str = "s3",
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    region: str = REGION,
    payload: str | None = None,
    at: datetime | None = None,
    scope_service: str | None = None,
) -> dict[str, str]:
    """The headers of the request, Authorization and X-Amz-Date included, signed as botocore signs for
    `service`. `payload`: the x-amz-content-sha256 to sign instead of the body's hash (S3 only); `at`: the
    signing time; `scope_service`: the service named in the credential scope, if not `service`."""
    request = AWSRequest(method, url, data=body, headers=dict(headers or {}))
    credentials = Credentials(key, secret)
    scoped = scope_service or service
    signer: Any
    if service == "s3":
        signer = (
            S3SigV4Auth(credentials, scoped, region)
            if payload is None
            else _FixedPayloadS3Signer(credentials, region, payload)
        )
    else:
        signer = SigV4Auth(credentials, scoped, region)
    _add_auth(signer, request, at)
    return dict(request.headers.items())


def presign(
    method: str,
    url: str,
    *,
    service: str = "s3",
    expires: int = 300,
    headers: Mapping[str, str] | None = None,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    region: str = REGION,
    at: datetime | None = None,
) -> str:
    """A presigned URL (X-Amz-* query parameters), as SigV4QueryAuth / S3SigV4QueryAuth make them."""
    request = AWSRequest(method, url, headers=dict(headers or {}))
    signer_class = S3SigV4QueryAuth if service == "s3" else SigV4QueryAuth
    _add_auth(signer_class(Credentials(key, secret), service, region, expires=expires), request, at)
    return str(request.url)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_chunks(
    url: str,
    payload: bytes,
    *,
    chunk_size: int = 8192,
    headers: Mapping[str, str] | None = None,
    trailer: tuple[str, str] | None = None,
    key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    region: str = REGION,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD (…-TRAILER with `trailer`)."""
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    extra = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(payload)),
        **({"x-amz-trailer": trailer[0]} if trailer else {}),
        **(headers or {}),
    }
    signed = sign("PUT", url, headers=extra, payload=mode, key=key, secret=secret, region=region)
    seed = signed["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = signed["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    derived = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        derived = _hmac(derived, part)
    previous = seed
    pieces = [payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size)] + [b""]
    body = b""
    for piece in pieces:
        text = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
            f"{hashlib.sha256(piece).hexdigest()}"
        )
        previous = hmac.new(derived, text.encode(), hashlib.sha256).hexdigest()
        body += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece
        body += b"\r\n" if piece or not trailer else b""
    if trailer:
        line = f"{trailer[0]}:{trailer[1]}\n"
        text = (
            f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
            f"{hashlib.sha256(line.encode()).hexdigest()}"
        )
        trailer_signature = hmac.new(derived, text.encode(), hashlib.sha256).hexdigest()
        body += f"{line[:-1]}\r\nx-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()
    signed["Content-Length"] = str(len(body))
    return signed, body
