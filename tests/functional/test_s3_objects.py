"""Objects through the real server with boto3: headers and metadata, ranges, conditional reads and
writes, copies, checksums, tags, batch deletes and their errors."""

from __future__ import annotations

import base64
import hashlib
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from crc32c import crc32c as google_crc32c

from tests.conftest import Server, raw_request, unique
from tests.signing import sign


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def test_put_get_head_delete_with_metadata_and_content_headers(s3: Any, bucket: str) -> None:
    body = b"<html>hello</html>"
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/page.html",
        Body=body,
        ContentType="text/html; charset=utf-8",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="page.html"',
        ContentLanguage="en-GB",
        CacheControl="max-age=60",
        Expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        Metadata={"Owner": "alice", "purpose": "test run"},
        StorageClass="STANDARD_IA",
    )
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key="dir/page.html")
    assert got["Body"].read() == body
    for response in (got, s3.head_object(Bucket=bucket, Key="dir/page.html")):
        assert response["ETag"] == etag
        assert response["ContentLength"] == len(body)
        assert response["ContentType"] == "text/html; charset=utf-8"
        assert response["ContentEncoding"] == "identity"
        assert response["ContentDisposition"] == 'attachment; filename="page.html"'
        assert response["ContentLanguage"] == "en-GB"
        assert response["CacheControl"] == "max-age=60"
        assert response["ExpiresString"] == "Wed, 02 Jan 2030 03:04:05 GMT"
        assert response["Metadata"] == {"owner": "alice", "purpose": "test run"}
        assert response["StorageClass"] == "STANDARD_IA"
        assert response["AcceptRanges"] == "bytes"
        assert abs((response["LastModified"] - datetime.now(UTC)).total_seconds()) < 60
    default = s3.put_object(Bucket=bucket, Key="plain", Body=b"")
    assert default["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    plain = s3.get_object(Bucket=bucket, Key="plain")
    assert (plain["ContentType"], plain["ContentLength"], plain["Body"].read()) == (
        "binary/octet-stream",
        0,
        b"",
    )
    assert "StorageClass" not in plain
    assert s3.delete_object(Bucket=bucket, Key="dir/page.html")["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="dir/page.html")
    assert error(excinfo) == ("NoSuchKey", 404)
    assert excinfo.value.response["Error"]["Key"] == "dir/page.html"
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="dir/page.html")
    assert error(excinfo) == ("404", 404)
    s3.delete_object(Bucket=bucket, Key="never-existed")  # S3 answers 204 for a missing key
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=unique("absent"), Key="k", Body=b"x")
    assert error(excinfo) == ("NoSuchBucket", 404)


def test_keys_with_unusual_characters(s3: Any, bucket: str) -> None:
    keys = [
        "a b",
        "plus+sign",
        "percent%20",
        "ünïcødé/文字",
        "q?x=1&y#frag",
        "trailing/",
        "dots/../x",
        "tab\tkey",
    ]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"")
    assert error(excinfo)[0] == "KeyTooLongError"


def test_overwrite_replaces_bytes_and_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"second!", Metadata={"v": "2"})
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["Metadata"]) == (b"second!", {"v": "2"})


def test_ranges(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = {
        "bytes=0-9": (body[:10], "bytes 0-9/1024"),
        "bytes=1000-": (body[1000:], "bytes 1000-1023/1024"),
        "bytes=-24": (body[-24:], "bytes 1000-1023/1024"),
        "bytes=1000-5000": (body[1000:], "bytes 1000-1023/1024"),
    }
    for header, (expected, content_range) in cases.items():
        got = s3.get_object(Bucket=bucket, Key="r", Range=header)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == content_range
        assert got["ContentLength"] == len(expected)
        assert got["Body"].read() == expected
    head = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-9")
    assert (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"]) == (206, 10)
    whole = s3.get_object(Bucket=bucket, Key="r", Range="bytes=9-1")  # invalid: ignored, as S3 does
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200 and whole["Body"].read() == body
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=1024-")
    assert error(excinfo) == ("InvalidRange", 416)
    assert excinfo.value.response["Error"]["ActualObjectSize"] == "1024"


def test_conditional_reads(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    before, after = modified - timedelta(hours=1), modified + timedelta(hours=1)
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"')["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=before)["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=after)["ETag"] == etag
    failing = [
        ({"IfMatch": '"other"'}, ("PreconditionFailed", 412)),
        ({"IfUnmodifiedSince": before}, ("PreconditionFailed", 412)),
        ({"IfNoneMatch": etag}, ("304", 304)),
        ({"IfModifiedSince": after}, ("304", 304)),
        # If-Match holds, so If-Unmodified-Since is not considered (RFC 9110, as S3)
        ({"IfMatch": etag, "IfUnmodifiedSince": before, "IfNoneMatch": "*"}, ("304", 304)),
    ]
    for conditions, expected in failing:
        with pytest.raises(ClientError) as excinfo:
            s3.get_object(Bucket=bucket, Key="c", **conditions)
        assert error(excinfo) == expected, conditions
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    assert error(excinfo) == ("412", 412)


def test_conditional_writes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error(excinfo) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch='"0000"')
    assert error(excinfo) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="once", Body=b"fourth", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"fourth"


def test_copy_object(s3: Any, bucket: str) -> None:
    other = unique("copy-target")
    s3.create_bucket(Bucket=other)
    source_key = "src dir/ü file+1.txt"
    s3.put_object(
        Bucket=bucket,
        Key=source_key,
        Body=b"copy me",
        ContentType="text/plain",
        Metadata={"a": "1"},
        Tagging="t=1",
    )
    copied = s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": source_key})
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket=bucket, Key=source_key)["ETag"]
    got = s3.get_object(Bucket=other, Key="dst")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (b"copy me", "text/plain", {"a": "1"})
    assert s3.get_object_tagging(Bucket=other, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(
        Bucket=other,
        Key="replaced",
        CopySource=f"{bucket}/{source_key}",
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"b": "2"},
        TaggingDirective="REPLACE",
        Tagging="u=2",
    )
    replaced = s3.head_object(Bucket=other, Key="replaced")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("application/json", {"b": "2"})
    assert s3.get_object_tagging(Bucket=other, Key="replaced")["TagSet"] == [{"Key": "u", "Value": "2"}]
    # the copy keeps its bytes when the source is overwritten or deleted
    s3.put_object(Bucket=bucket, Key=source_key, Body=b"changed")
    s3.delete_object(Bucket=bucket, Key=source_key)
    assert s3.get_object(Bucket=other, Key="dst")["Body"].read() == b"copy me"
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": other, "Key": "dst"})
    assert error(excinfo)[0] == "InvalidRequest"
    s3.copy_object(
        Bucket=other, Key="dst", CopySource={"Bucket": other, "Key": "dst"}, MetadataDirective="REPLACE"
    )
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=other, Key="x", CopySource={"Bucket": bucket, "Key": source_key})
    assert error(excinfo) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket=other, Key="x", CopySource={"Bucket": other, "Key": "dst"}, CopySourceIfMatch='"nope"'
        )
    assert error(excinfo) == ("PreconditionFailed", 412)


def test_default_crc32_checksum_is_verified_stored_and_returned(server: Server, s3: Any, bucket: str) -> None:
    body = b"checksummed body"
    expected = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    put = s3.put_object(Bucket=bucket, Key="sum", Body=body)  # botocore adds x-amz-checksum-crc32
    assert put["ChecksumCRC32"] == expected
    got = s3.get_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == expected
    assert got["Body"].read() == body  # botocore validated the response against the checksum
    url = f"{server.endpoint}/{bucket}/sum"
    raw = raw_request("GET", url, headers=sign("GET", url))  # no x-amz-checksum-mode
    assert "x-amz-checksum-crc32" not in raw.headers
    head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32"], head["ChecksumType"]) == (expected, "FULL_OBJECT")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == ["CRC32"]
    crc32c = base64.b64encode(google_crc32c(body).to_bytes(4, "big")).decode()
    s3.put_object(Bucket=bucket, Key="CRC32C", Body=body, ChecksumCRC32C=crc32c)  # botocore needs CRT for it
    assert s3.head_object(Bucket=bucket, Key="CRC32C", ChecksumMode="ENABLED")["ChecksumCRC32C"] == crc32c
    nvme = base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode()  # CRC-64/NVME check value
    s3.put_object(Bucket=bucket, Key="nvme", Body=b"123456789", ChecksumCRC64NVME=nvme)
    assert s3.head_object(Bucket=bucket, Key="nvme", ChecksumMode="ENABLED")["ChecksumCRC64NVME"] == nvme
    for algorithm in ("SHA1", "SHA256"):
        put = s3.put_object(Bucket=bucket, Key=algorithm, Body=body, ChecksumAlgorithm=algorithm)
        got = s3.get_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
        assert got[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
        got["Body"].read()
    sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert s3.head_object(Bucket=bucket, Key="SHA256", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumCRC32="AAAAAA==")
    assert error(excinfo) == ("BadDigest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5=base64.b64encode(b"0" * 16).decode())
    assert error(excinfo) == ("BadDigest", 400)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "two words"},
    ]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "c", "Value": "3"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    too_many = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": too_many})
    assert error(excinfo)[0] == "BadRequest"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging={"TagSet": []})
    assert error(excinfo) == ("NoSuchKey", 404)


def test_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "zz"]
    assert "Errors" not in result
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert "Deleted" not in quiet
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
