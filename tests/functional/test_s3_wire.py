"""S3 on the wire, below boto3: aws-chunked bodies with trailing checksums, payload hashes, error
documents, anonymous and presigned requests, 100-continue and aborted uploads."""

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
from botocore.exceptions import ClientError
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from tests.conftest import Server, raw_request, unique
from tests.signing import sign, signed_chunks


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
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(payload)),
        "x-amz-sdk-checksum-algorithm": "CRC32",
        "Content-Type": "application/x-test",
    }
    url = f"{server.endpoint}/{bucket}/chunked"
    headers = sign("PUT", url, headers=headers, payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    put = raw_request("PUT", url, body=body, headers=headers)
    assert put.status == 200, put.data
    assert put.headers["x-amz-checksum-crc32"] == crc32_b64(payload)
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    assert got["ContentType"] == "application/x-test"
    assert "ContentEncoding" not in got  # aws-chunked is not part of the object
    bad = body.replace(crc32_b64(payload).encode(), crc32_b64(b"other").encode())
    url = f"{server.endpoint}/{bucket}/bad"
    headers = sign("PUT", url, headers=headers, payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    refused = raw_request("PUT", url, body=bad, headers=headers)
    assert refused.status == 400
    assert ElementTree.fromstring(refused.data).findtext("Code") == "BadDigest"


def test_signed_aws_chunked_body_in_http_chunks(
    server: Server, s3: Any, bucket: str, http: urllib3.PoolManager
) -> None:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunks, sent with Transfer-Encoding: chunked in odd pieces."""
    payload = b"0123456789" * 7000
    url = f"{server.endpoint}/{bucket}/signed"
    headers, body = signed_chunks(url, payload)
    del headers["Content-Length"]

    def pieces() -> Any:
        for i in range(0, len(body), 777):  # boundaries that fall inside chunk headers and data
            yield body[i : i + 777]

    put = http.request("PUT", url, body=pieces(), headers=headers, chunked=True)
    assert put.status == 200, put.data
    assert put.headers["ETag"] == f'"{hashlib.md5(payload).hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == payload
    url = f"{server.endpoint}/{bucket}/short"
    short, body = signed_chunks(url, payload, headers={"x-amz-decoded-content-length": str(len(payload) + 1)})
    refused = http.request("PUT", url, body=body, headers=short)
    assert ElementTree.fromstring(refused.data).findtext("Code") == "IncompleteBody"


def test_payload_hash_is_verified(server: Server, bucket: str, http: urllib3.PoolManager) -> None:
    body = b"payload"
    url = f"{server.endpoint}/{bucket}/hashed"
    good = http.request("PUT", url, body=body, headers=sign("PUT", url, body=body))
    assert good.status == 200
    other = hashlib.sha256(b"other").hexdigest()
    bad = http.request("PUT", url, body=body, headers=sign("PUT", url, body=body, payload=other))
    assert bad.status == 400
    document = ElementTree.fromstring(bad.data)
    assert document.findtext("Code") == "XAmzContentSHA256Mismatch"
    assert document.findtext("Resource") == f"/{bucket}/hashed"
    assert document.findtext("RequestId") == bad.headers["x-amz-request-id"]
    assert http.request("GET", url, headers=sign("GET", url)).data == body
    url = f"{server.endpoint}/{bucket}/md5"
    missing = http.request(
        "PUT", url, body=body, headers=sign("PUT", url, body=body, headers={"Content-MD5": "nope"})
    )
    assert ElementTree.fromstring(missing.data).findtext("Code") == "InvalidDigest"


def test_presigned_requests_reach_s3_and_anonymous_ones_are_refused(
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
    for anonymous in (
        http.request("GET", f"{server.endpoint}/{bucket}/doc.txt"),
        http.request("GET", f"{server.endpoint}/"),
    ):
        assert anonymous.status == 403
        document = ElementTree.fromstring(anonymous.data)
        assert (document.findtext("Code"), document.findtext("Message")) == ("AccessDenied", "Access Denied")


def signed_head(server: Server, method: str, path: str) -> str:
    """Host, date, payload mode and Authorization lines of a request sent by hand (UNSIGNED-PAYLOAD)."""
    headers = sign(method, f"{server.endpoint}{path}", payload="UNSIGNED-PAYLOAD")
    lines = [f"Host: 127.0.0.1:{server.port}", *(f"{name}: {value}" for name, value in headers.items())]
    return "".join(line + "\r\n" for line in lines)


def test_error_before_the_body_closes_the_connection(server: Server, bucket: str) -> None:
    """A client waiting for 100-continue gets the error instead, and the unread body cannot be taken for
    the next request on the connection."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        path = f"/{unique('absent')}/k"
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\n{signed_head(server, 'PUT', path)}Content-Length: 5\r\n"
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
        path = f"/{bucket}/aborted"
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\n{signed_head(server, 'PUT', path)}Content-Length: 1000000\r\n\r\n".encode()
        )
        sock.sendall(b"x" * 300_000)
        time.sleep(0.3)
    temporary = Path(server.data_dir) / "objects" / "tmp"
    deadline = time.monotonic() + 5
    while any(temporary.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(temporary.iterdir())
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_put_without_content_length_is_refused(server: Server, s3: Any, bucket: str) -> None:
    """No Content-Length and no chunked body: 411 MissingContentLength, and no object appears."""
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        path = f"/{bucket}/no-length"
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\n{signed_head(server, 'PUT', path)}Connection: close\r\n\r\n".encode()
        )
        sock.settimeout(10)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    response = received.decode()
    assert response.startswith("HTTP/1.1 411")
    assert "<Code>MissingContentLength</Code>" in response
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="no-length")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
