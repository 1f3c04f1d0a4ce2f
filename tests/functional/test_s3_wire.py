"""S3 on the wire, below boto3: aws-chunked bodies with trailing checksums, payload hashes, error
documents, unsigned and presigned requests, 100-continue and aborted uploads."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import time
import zlib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import urllib3
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.conftest import Server, raw_request, unique


@pytest.fixture(scope="module")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique("wire")
    s3.create_bucket(Bucket=name)
    return name


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_unsigned_aws_chunked_body_with_trailing_checksum(server: Server, s3: Any, bucket: str) -> None:
    """What botocore sends over HTTPS by default, built with botocore's own wrapper."""
    payload = bytes(range(256)) * 1000
    body = AwsChunkedWrapper(
        io.BytesIO(payload),
        checksum_cls=Crc32Checksum,
        checksum_name="x-amz-checksum-crc32",
        chunk_size=65536,
    ).read()
    assert body.endswith(f"x-amz-checksum-crc32:{crc32_b64(payload)}\r\n\r\n".encode())
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(payload)),
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "Content-Type": "application/x-test",
    }
    put = raw_request("PUT", f"{server.endpoint}/{bucket}/chunked", body=body, headers=headers)
    assert put.status == 200, put.data
    assert put.headers["x-amz-checksum-crc32"] == crc32_b64(payload)
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    assert got["ContentType"] == "application/x-test"
    assert "ContentEncoding" not in got  # aws-chunked is not part of the object
    bad = body.replace(crc32_b64(payload).encode(), crc32_b64(b"other").encode())
    refused = raw_request("PUT", f"{server.endpoint}/{bucket}/bad", body=bad, headers=headers)
    assert refused.status == 400
    assert ElementTree.fromstring(refused.data).findtext("Code") == "BadDigest"


def test_signed_aws_chunked_body_in_http_chunks(
    server: Server, s3: Any, bucket: str, http: urllib3.PoolManager
) -> None:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunks, sent with Transfer-Encoding: chunked in odd pieces."""
    payload = b"0123456789" * 7000
    signature = "0" * 64
    parts = [payload[i : i + 8192] for i in range(0, len(payload), 8192)]
    body = b"".join(f"{len(p):x};chunk-signature={signature}\r\n".encode() + p + b"\r\n" for p in parts)
    body += f"0;chunk-signature={signature}\r\n\r\n".encode()

    def pieces() -> Any:
        for i in range(0, len(body), 777):  # boundaries that fall inside chunk headers and data
            yield body[i : i + 777]

    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(payload)),
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=" + signature,
    }
    put = http.request(
        "PUT", f"{server.endpoint}/{bucket}/signed", body=pieces(), headers=headers, chunked=True
    )
    assert put.status == 200, put.data
    assert put.headers["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == payload
    short = {**headers, "x-amz-decoded-content-length": str(len(payload) + 1)}
    refused = http.request("PUT", f"{server.endpoint}/{bucket}/short", body=body, headers=short)
    assert ElementTree.fromstring(refused.data).findtext("Code") == "IncompleteBody"


def test_payload_hash_is_verified(server: Server, bucket: str, http: urllib3.PoolManager) -> None:
    body = b"payload"
    good = http.request(
        "PUT",
        f"{server.endpoint}/{bucket}/hashed",
        body=body,
        headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()},
    )
    assert good.status == 200
    bad = http.request(
        "PUT",
        f"{server.endpoint}/{bucket}/hashed",
        body=body,
        headers={"x-amz-content-sha256": hashlib.sha256(b"other").hexdigest()},
    )
    assert bad.status == 400
    document = ElementTree.fromstring(bad.data)
    assert document.findtext("Code") == "XAmzContentSHA256Mismatch"
    assert document.findtext("Resource") == f"/{bucket}/hashed"
    assert document.findtext("RequestId") == bad.headers["x-amz-request-id"]
    assert http.request("GET", f"{server.endpoint}/{bucket}/hashed").data == body
    missing = http.request(
        "PUT", f"{server.endpoint}/{bucket}/md5", body=body, headers={"Content-MD5": "nope"}
    )
    assert ElementTree.fromstring(missing.data).findtext("Code") == "InvalidDigest"


def test_unsigned_and_presigned_requests_reach_s3(
    server: Server, s3: Any, bucket: str, http: urllib3.PoolManager
) -> None:
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"presigned", ContentType="text/plain")
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": "doc.txt", "ResponseContentDisposition": "attachment"},
        ExpiresIn=60,
    )
    got = http.request("GET", url)
    assert (got.status, got.data, got.headers["Content-Disposition"]) == (200, b"presigned", "attachment")
    anonymous = http.request("GET", f"{server.endpoint}/{bucket}/doc.txt")
    assert anonymous.data == b"presigned"
    listed = http.request("GET", f"{server.endpoint}/")
    assert bucket.encode() in listed.data


def test_error_before_the_body_closes_the_connection(server: Server, bucket: str) -> None:
    """A client waiting for 100-continue gets the error instead, and the unread body cannot be taken for
    the next request on the connection."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            f"PUT /{unique('absent')}/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        sock.settimeout(10)
        received = b""
        while chunk := sock.recv(65536):  # the server closes the connection after the error
            received += chunk
        response = received.decode()
        assert response.startswith("HTTP/1.1 404")
        assert "connection: close" in response.lower()
        assert "<Code>NoSuchBucket</Code>" in response


def test_aborted_upload_leaves_nothing_behind(server: Server, s3: Any, bucket: str) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"PUT /{bucket}/aborted HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".encode())
        sock.sendall(b"x" * 300_000)
        time.sleep(0.3)
    temporary = Path(server.data_dir) / "objects" / "tmp"
    deadline = time.monotonic() + 5
    while any(temporary.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(temporary.iterdir())
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
