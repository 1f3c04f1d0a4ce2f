"""SigV4 on every call of the shared port: what Lambda, CloudWatch Logs and S3 answer to requests that
are unsigned, signed with a wrong secret or an unknown key, expired, skewed, or scoped to another region
or service; presigned URLs and signed aws-chunked bodies; the development switch LAMBDABOX_AUTH=off."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY, Server, raw_request, unique
from tests.signing import presign, sign, signed_chunks

LAMBDA_PATH = "/2015-03-31/functions/"
LOGS_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
}
UNKNOWN_KEY = "LKIAUNKNOWNUNKNOWN00"
SKEWED = datetime.now(UTC) - timedelta(minutes=20)


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("auth")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"secret document")
    return name


def lambda_call(server: Server, **signing: Any) -> urllib3.BaseHTTPResponse:
    url = server.endpoint + LAMBDA_PATH
    return raw_request("GET", url, headers=sign("GET", url, service="lambda", **signing))


def logs_call(server: Server, *, signed: bool = True, **signing: Any) -> urllib3.BaseHTTPResponse:
    url = server.endpoint + "/"
    headers = dict(LOGS_HEADERS)
    if signed:
        headers = sign("POST", url, service="logs", body=b"{}", headers=LOGS_HEADERS, **signing)
    return raw_request("POST", url, body=b"{}", headers=headers)


def s3_call(server: Server, bucket: str, *, signed: bool = True, **signing: Any) -> urllib3.BaseHTTPResponse:
    url = f"{server.endpoint}/{bucket}/doc.txt"
    return raw_request("GET", url, headers=sign("GET", url, **signing) if signed else {})


def json_error(response: urllib3.BaseHTTPResponse) -> tuple[int, str, str]:
    document = response.json()
    code = response.headers.get("x-amzn-ErrorType") or document.get("__type", "")
    return response.status, code, document.get("message") or document.get("Message", "")


def xml_error(response: urllib3.BaseHTTPResponse) -> tuple[int, str, ElementTree.Element]:
    document = ElementTree.fromstring(response.data)
    return response.status, document.findtext("Code") or "", document


# -- unsigned ------------------------------------------------------------------------------------------
def test_unsigned_requests(server: Server, bucket: str) -> None:
    assert json_error(raw_request("GET", server.endpoint + LAMBDA_PATH)) == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
    assert json_error(logs_call(server, signed=False)) == (
        400,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
    status, code, document = xml_error(s3_call(server, bucket, signed=False))
    assert (status, code, document.findtext("Message")) == (403, "AccessDenied", "Access Denied")
    # HTTP APIs' control plane ("v2" cannot be a bucket) refuses in API Gateway's words, not S3's.
    assert json_error(raw_request("GET", server.endpoint + "/v2/apis")) == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
    # Lambdabox's own endpoints are not AWS APIs: no signature.
    assert raw_request("GET", server.endpoint + "/_lambdabox/health").json()["auth"] == "on"


# -- wrong secret, unknown key ------------------------------------------------------------------------
def test_wrong_secret(server: Server, bucket: str) -> None:
    status, code, message = json_error(lambda_call(server, secret="wrong-secret"))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    assert "The Canonical String for this request should have been\n'GET\n/2015-03-31/functions/\n" in message
    status, code, message = json_error(logs_call(server, secret="wrong-secret"))
    assert (status, code) == (400, "InvalidSignatureException")
    assert "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n" in message
    status, code, document = xml_error(s3_call(server, bucket, secret="wrong-secret"))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert document.findtext("AWSAccessKeyId") == ACCESS_KEY
    assert document.findtext("StringToSign", "").startswith("AWS4-HMAC-SHA256\n")
    assert document.findtext("CanonicalRequest", "").startswith(f"GET\n/{bucket}/doc.txt\n\nhost:")
    assert document.findtext("CanonicalRequestBytes", "").startswith("47 45 54 0a")  # "GET\n"
    assert SECRET_KEY not in response_text(document)


def response_text(document: ElementTree.Element) -> str:
    return ElementTree.tostring(document, encoding="unicode")


def test_unknown_access_key(server: Server, bucket: str) -> None:
    message = "The security token included in the request is invalid."
    assert json_error(lambda_call(server, key=UNKNOWN_KEY)) == (403, "UnrecognizedClientException", message)
    assert json_error(logs_call(server, key=UNKNOWN_KEY)) == (400, "UnrecognizedClientException", message)
    status, code, document = xml_error(s3_call(server, bucket, key=UNKNOWN_KEY))
    assert (status, code, document.findtext("AWSAccessKeyId")) == (403, "InvalidAccessKeyId", UNKNOWN_KEY)
    assert document.findtext("Message") == "The AWS Access Key Id you provided does not exist in our records."


def test_boto3_with_a_wrong_secret_gets_the_aws_error(server: Server) -> None:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=server.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key="not-the-secret",
            config=Config(retries={"max_attempts": 1}),
        )

    calls: list[tuple[Callable[[], Any], str]] = [
        (lambda: client("lambda").list_functions(), "InvalidSignatureException"),
        (lambda: client("logs").describe_log_groups(), "InvalidSignatureException"),
        (lambda: client("s3").list_buckets(), "SignatureDoesNotMatch"),
    ]
    for call, expected in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert excinfo.value.response["Error"]["Code"] == expected


# -- time ---------------------------------------------------------------------------------------------
def test_skewed_clock(server: Server, bucket: str) -> None:
    status, code, message = json_error(lambda_call(server, at=SKEWED))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {SKEWED:%Y%m%dT%H%M%SZ} is now earlier than ")
    assert message.endswith(" - 15 min.)")
    ahead = datetime.now(UTC) + timedelta(minutes=20)
    status, code, message = json_error(logs_call(server, at=ahead))
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith(f"Signature not yet current: {ahead:%Y%m%dT%H%M%SZ} is still later than ")
    status, code, document = xml_error(s3_call(server, bucket, at=SKEWED))
    assert (status, code) == (403, "RequestTimeTooSkewed")
    assert document.findtext("RequestTime") == f"{SKEWED:%Y%m%dT%H%M%SZ}"
    assert document.findtext("MaxAllowedSkewMilliseconds") == "900000"
    # Within 15 minutes is fine.
    assert s3_call(server, bucket, at=datetime.now(UTC) - timedelta(minutes=10)).status == 200


def test_expired_presigned_urls(server: Server, bucket: str) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    url = presign("GET", f"{server.endpoint}/{bucket}/doc.txt", expires=600, at=an_hour_ago)
    status, code, document = xml_error(raw_request("GET", url))
    assert (status, code, document.findtext("Message")) == (403, "AccessDenied", "Request has expired")
    assert document.findtext("X-Amz-Expires") == "600"
    url = presign("GET", server.endpoint + LAMBDA_PATH, service="lambda", expires=600, at=an_hour_ago)
    assert json_error(raw_request("GET", url))[:2] == (403, "InvalidSignatureException")
    url = presign(
        "POST", server.endpoint + "/", service="logs", headers=LOGS_HEADERS, expires=600, at=an_hour_ago
    )
    assert json_error(raw_request("POST", url, headers=LOGS_HEADERS))[:2] == (
        400,
        "InvalidSignatureException",
    )
    # A presigned URL lives at most 7 days.
    url = presign("GET", f"{server.endpoint}/{bucket}/doc.txt", expires=604801)
    status, code, document = xml_error(raw_request("GET", url))
    assert (status, code) == (400, "AuthorizationQueryParametersError")
    assert "604800" in (document.findtext("Message") or "")


def test_valid_presigned_urls(server: Server, s3: Any, bucket: str) -> None:
    fresh = presign("GET", server.endpoint + LAMBDA_PATH, service="lambda")
    assert "Functions" in raw_request("GET", fresh).json()
    v4 = server.client("s3", signature_version="s3v4")
    got = raw_request(
        "GET", v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"})
    )
    assert (got.status, got.data) == (200, b"secret document")
    put_url = v4.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up-v4.txt"}, ExpiresIn=60
    )
    assert raw_request("PUT", put_url, body=b"via presigned PUT").status == 200
    assert s3.get_object(Bucket=bucket, Key="up-v4.txt")["Body"].read() == b"via presigned PUT"
    # boto3 presigns S3 with Signature Version 2 unless told otherwise: those URLs work too.
    v2_get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"})
    assert "AWSAccessKeyId=" in v2_get
    assert raw_request("GET", v2_get).data == b"secret document"
    v2_put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up-v2.txt"})
    assert raw_request("PUT", v2_put, body=b"v2").status == 200
    assert s3.get_object(Bucket=bucket, Key="up-v2.txt")["Body"].read() == b"v2"
    # A presigned URL signs its path and query: another key is refused.
    tampered = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "doc.txt"}).replace(
        "/doc.txt?", "/up-v4.txt?"
    )
    assert xml_error(raw_request("GET", tampered))[:2] == (403, "SignatureDoesNotMatch")
    assert xml_error(raw_request("GET", v2_get.replace("/doc.txt?", "/up-v2.txt?")))[:2] == (
        403,
        "SignatureDoesNotMatch",
    )


# -- credential scope ---------------------------------------------------------------------------------
def test_wrong_region_in_scope(server: Server, bucket: str) -> None:
    assert json_error(lambda_call(server, region="eu-west-1")) == (
        403,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    )
    assert json_error(logs_call(server, region="eu-west-1"))[:2] == (400, "InvalidSignatureException")
    status, code, document = xml_error(s3_call(server, bucket, region="eu-west-1"))
    assert (status, code, document.findtext("Region")) == (400, "AuthorizationHeaderMalformed", "us-east-1")
    assert document.findtext("Message") == (
        "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
    )
    url = presign("GET", f"{server.endpoint}/{bucket}/doc.txt", region="eu-west-1")
    status, code, document = xml_error(raw_request("GET", url))
    assert (status, code) == (400, "AuthorizationQueryParametersError")
    assert (document.findtext("Message") or "").startswith(
        "Error parsing the X-Amz-Credential parameter; the region"
    )


def test_wrong_service_in_scope(server: Server, bucket: str) -> None:
    assert json_error(lambda_call(server, scope_service="logs")) == (
        403,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'lambda'. ",
    )
    assert json_error(logs_call(server, scope_service="lambda")) == (
        400,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'logs'. ",
    )
    status, code, document = xml_error(s3_call(server, bucket, scope_service="lambda"))
    assert (status, code) == (400, "AuthorizationHeaderMalformed")
    assert document.findtext("Message") == (
        'The authorization header is malformed; incorrect service "lambda". This endpoint belongs to "s3".'
    )


def test_a_bucket_in_another_region_takes_its_own_region_too(server: Server, s3: Any) -> None:
    name = unique("eu")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"in eu")
    assert s3_call(server, name, region="eu-west-1").data == b"in eu"
    assert s3_call(server, name).data == b"in eu"  # the platform's region, as before
    assert xml_error(s3_call(server, name, region="ap-south-1"))[1] == "AuthorizationHeaderMalformed"


# -- signed aws-chunked bodies ------------------------------------------------------------------------
def test_tampered_chunk_signature_is_refused_and_leaves_nothing(server: Server, s3: Any, bucket: str) -> None:
    payload = bytes(range(256)) * 200
    url = f"{server.endpoint}/{bucket}/chunked"
    headers, body = signed_chunks(url, payload)
    assert raw_request("PUT", url, body=body, headers=headers).status == 200
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == payload

    url = f"{server.endpoint}/{bucket}/tampered"
    headers, body = signed_chunks(url, payload)
    tampered = body.replace(payload[20000:20010], b"0123456789", 1)
    status, code, _ = xml_error(raw_request("PUT", url, body=tampered, headers=headers))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    headers, body = signed_chunks(url, payload, trailer=("x-amz-checksum-crc32", "AAAAAA=="))
    forged = body.replace(b"x-amz-checksum-crc32:AAAAAA==", b"x-amz-checksum-crc32:BBBBBB==")
    assert xml_error(raw_request("PUT", url, body=forged, headers=headers))[:2] == (
        403,
        "SignatureDoesNotMatch",
    )
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="tampered")
    assert excinfo.value.response["Error"]["Code"] == "404"
    temporary = Path(server.data_dir) / "objects" / "tmp"
    deadline = time.monotonic() + 5
    while any(temporary.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(temporary.iterdir())


def test_unsigned_metadata_and_payload_hash_are_refused(server: Server, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/meta"
    headers = sign("PUT", url, body=b"x")
    headers["x-amz-meta-sneaky"] = "added after signing"
    status, code, document = xml_error(raw_request("PUT", url, body=b"x", headers=headers))
    assert (status, code, document.findtext("HeadersNotSigned")) == (403, "AccessDenied", "x-amz-meta-sneaky")
    headers = sign("PUT", url, body=b"x")
    del headers["X-Amz-Content-SHA256"]
    status, code, document = xml_error(raw_request("PUT", url, body=b"x", headers=headers))
    assert (status, code) == (400, "InvalidRequest")
    assert document.findtext("Message") == "Missing required header for this request: x-amz-content-sha256"


# -- the development switch ---------------------------------------------------------------------------
def test_auth_off_accepts_anything_and_says_so(server_factory: Callable[..., Server]) -> None:
    server = server_factory(LAMBDABOX_AUTH="off")
    assert raw_request("GET", server.endpoint + "/_lambdabox/health").json()["auth"] == "off"
    assert raw_request("GET", server.endpoint + LAMBDA_PATH).status == 200
    assert raw_request("PUT", f"{server.endpoint}/{unique('open')}").status == 200
    assert "request signatures are NOT checked" in server.log()
