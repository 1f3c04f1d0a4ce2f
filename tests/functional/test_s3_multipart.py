"""Multipart uploads through the real server with boto3: S3's completion rules, ETags and checksums of
the assembled object, part copies, listings and their pagination, aborts, uploads surviving a restart,
GetObject by part number, notifications, and a 100 MB `upload_file`/`download_file` with bounded
server memory."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.conftest import Server, file_md5, peak_rss_kb, unique, write_random_file
from tests.functional.test_s3_notifications import RECORDER, allow_s3, lambda_config, wait_for

MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part S3 accepts before the last one


@pytest.fixture(scope="module")
def big_part() -> bytes:
    return hashlib.sha256(b"seed").digest() * (PART // 32)


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def multipart_etag(*parts: bytes) -> str:
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def upload_parts(s3: Any, bucket: str, key: str, upload_id: str, *bodies: bytes) -> list[dict[str, Any]]:
    parts = []
    for number, body in enumerate(bodies, start=1):
        done = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
        parts.append({"PartNumber": number, "ETag": done["ETag"]})
    return parts


def test_upload_complete_and_read_by_part_number(s3: Any, bucket: str, big_part: bytes) -> None:
    tail = b"the last part may be small"
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="dir/big file.bin", ContentType="application/x-test", Metadata={"origin": "mp"}
    )
    upload_id = created["UploadId"]
    assert (created["Bucket"], created["Key"]) == (bucket, "dir/big file.bin")
    parts = upload_parts(s3, bucket, "dir/big file.bin", upload_id, big_part, tail)
    assert parts[0]["ETag"] == f'"{hashlib.md5(big_part).hexdigest()}"'
    listed = s3.list_parts(Bucket=bucket, Key="dir/big file.bin", UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == [
        (1, parts[0]["ETag"], PART),
        (2, parts[1]["ETag"], len(tail)),
    ]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # parts are not objects
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="dir/big file.bin", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert done["ETag"] == multipart_etag(big_part, tail)
    assert done["Location"].endswith(f"/{bucket}/dir/big%20file.bin")
    assert (done["Bucket"], done["Key"]) == (bucket, "dir/big file.bin")
    got = s3.get_object(Bucket=bucket, Key="dir/big file.bin")
    assert got["Body"].read() == big_part + tail
    assert (got["ETag"], got["ContentType"], got["Metadata"]) == (
        done["ETag"],
        "application/x-test",
        {"origin": "mp"},
    )
    total = PART + len(tail)
    second = s3.get_object(Bucket=bucket, Key="dir/big file.bin", PartNumber=2)
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (second["PartsCount"], second["ContentLength"]) == (2, len(tail))
    assert second["ContentRange"] == f"bytes {PART}-{total - 1}/{total}"
    assert second["Body"].read() == tail
    first = s3.head_object(Bucket=bucket, Key="dir/big file.bin", PartNumber=1)
    assert (first["ContentLength"], first["ContentRange"]) == (PART, f"bytes 0-{PART - 1}/{total}")
    assert first["ETag"] == done["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="dir/big file.bin", PartNumber=3)
    assert error(excinfo) == ("InvalidPartNumber", 416)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="dir/big file.bin", PartNumber=1, Range="bytes=0-1")
    assert error(excinfo) == ("InvalidRequest", 400)
    # the upload is gone once completed
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key="dir/big file.bin", UploadId=upload_id)
    assert error(excinfo) == ("NoSuchUpload", 404)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/big file.bin"]


def test_completion_rules(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    parts = upload_parts(s3, bucket, "k", upload_id, b"one", b"two", b"three")

    def refused(parts: list[dict[str, Any]]) -> tuple[str, int]:
        with pytest.raises(ClientError) as excinfo:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        return error(excinfo)

    assert refused([parts[1], parts[0]]) == ("InvalidPartOrder", 400)
    assert refused([parts[0], parts[0]]) == ("InvalidPartOrder", 400)
    assert refused([{"PartNumber": 9, "ETag": parts[0]["ETag"]}]) == ("InvalidPart", 400)
    assert refused([{"PartNumber": 1, "ETag": parts[1]["ETag"]}]) == ("InvalidPart", 400)
    assert refused([parts[0], parts[2]]) == ("EntityTooSmall", 400)  # part 1 is below 5 MiB
    assert refused([]) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10001, Body=b"x")
    assert error(excinfo) == ("InvalidArgument", 400)
    s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=10000, Body=b"last")
    # the upload is still there after refused completions; a single (last) part may be small; quoted
    # or unquoted ETags both match; parts left out are dropped
    unquoted = {"PartNumber": 3, "ETag": parts[2]["ETag"].strip('"')}
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": [unquoted]}
    )
    assert done["ETag"] == multipart_etag(b"three")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"three"
    for call in (
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"x"),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id),
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": [unquoted]}
        ),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("NoSuchUpload", 404)
        assert excinfo.value.response["Error"]["UploadId"] == upload_id
    other = s3.create_multipart_upload(Bucket=bucket, Key="k2")["UploadId"]
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key="not-its-key", UploadId=other)
    assert error(excinfo) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.create_multipart_upload(Bucket=unique("absent"), Key="k")
    assert error(excinfo) == ("NoSuchBucket", 404)


def test_composite_and_full_object_checksums(s3: Any, bucket: str, big_part: bytes) -> None:
    tail = b"tail bytes"
    created = s3.create_multipart_upload(Bucket=bucket, Key="sha", ChecksumAlgorithm="SHA256")
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == ("SHA256", "COMPOSITE")
    upload_id = created["UploadId"]
    parts = []
    for number, body in enumerate((big_part, tail), start=1):
        done = s3.upload_part(
            Bucket=bucket,
            Key="sha",
            UploadId=upload_id,
            PartNumber=number,
            Body=body,
            ChecksumAlgorithm="SHA256",
        )
        assert done["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        parts.append({"PartNumber": number, "ETag": done["ETag"], "ChecksumSHA256": done["ChecksumSHA256"]})
    listed = s3.list_parts(Bucket=bucket, Key="sha", UploadId=upload_id)
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [p["ChecksumSHA256"] for p in parts]
    assert listed["ChecksumAlgorithm"] == "SHA256"
    with pytest.raises(ClientError) as excinfo:  # each part's checksum is required
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="sha",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts[0]["ETag"]}, parts[1]]},
        )
    assert error(excinfo) == ("InvalidRequest", 400)
    assert "It was missing for part 1" in excinfo.value.response["Error"]["Message"]
    wrong = {**parts[1], "ChecksumSHA256": parts[0]["ChecksumSHA256"]}
    with pytest.raises(ClientError) as excinfo:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="sha", UploadId=upload_id, MultipartUpload={"Parts": [parts[0], wrong]}
        )
    assert error(excinfo) == ("InvalidPart", 400)
    with pytest.raises(ClientError) as excinfo:  # a part checksummed with another algorithm
        s3.upload_part(
            Bucket=bucket, Key="sha", UploadId=upload_id, PartNumber=3, Body=b"x", ChecksumAlgorithm="CRC32"
        )
    assert error(excinfo) == ("InvalidRequest", 400)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="sha", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    raw = hashlib.sha256(big_part).digest() + hashlib.sha256(tail).digest()
    composite = base64.b64encode(hashlib.sha256(raw).digest()).decode() + "-2"
    assert (done["ChecksumSHA256"], done["ChecksumType"]) == (composite, "COMPOSITE")
    head = s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert (head["ChecksumSHA256"], head["ChecksumType"]) == (composite, "COMPOSITE")
    got = s3.get_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert got["Body"].read() == big_part + tail  # botocore skips validating `-N` checksums

    # FULL_OBJECT CRC32: the whole object's CRC, combined from the parts' CRCs
    whole = base64.b64encode(zlib.crc32(big_part + tail).to_bytes(4, "big")).decode()
    upload_id = s3.create_multipart_upload(
        Bucket=bucket, Key="crc", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    parts = upload_parts(s3, bucket, "crc", upload_id, big_part, tail)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="crc", UploadId=upload_id, MultipartUpload={"Parts": parts}, ChecksumCRC32=whole
    )
    assert (done["ChecksumCRC32"], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    with pytest.raises(ClientError) as excinfo:
        s3.create_multipart_upload(
            Bucket=bucket, Key="x", ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT"
        )
    assert error(excinfo) == ("InvalidRequest", 400)


def test_upload_part_copy_with_ranges_and_conditions(s3: Any, bucket: str, big_part: bytes) -> None:
    source = big_part + b"0123456789"
    etag = s3.put_object(Bucket=bucket, Key="source", Body=source)["ETag"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    first = s3.upload_part_copy(
        Bucket=bucket,
        Key="copy",
        UploadId=upload_id,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "source"},
        CopySourceRange=f"bytes=0-{PART - 1}",
        CopySourceIfMatch=etag,
    )["CopyPartResult"]
    second = s3.upload_part_copy(
        Bucket=bucket,
        Key="copy",
        UploadId=upload_id,
        PartNumber=2,
        CopySource=f"{bucket}/source",
        CopySourceRange=f"bytes={PART + 2}-{PART + 5}",
    )["CopyPartResult"]
    assert second["ETag"] == f'"{hashlib.md5(b"2345").hexdigest()}"'
    for bad_range in ("bytes=5-2", "bytes=0-", "0-4"):
        with pytest.raises(ClientError) as excinfo:
            s3.upload_part_copy(
                Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=3,
                CopySource=f"{bucket}/source", CopySourceRange=bad_range,
            )  # fmt: skip
        assert error(excinfo) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(
            Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=3,
            CopySource=f"{bucket}/source", CopySourceRange=f"bytes=0-{len(source)}",
        )  # fmt: skip
    assert error(excinfo) == ("InvalidArgument", 400)
    assert excinfo.value.response["Error"]["Message"] == (
        f"Range specified is not valid for source object of size: {len(source)}"
    )
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(
            Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=3,
            CopySource=f"{bucket}/source", CopySourceIfMatch='"nope"',
        )  # fmt: skip
    assert error(excinfo) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as excinfo:
        s3.upload_part_copy(
            Bucket=bucket, Key="copy", UploadId=upload_id, PartNumber=3, CopySource=f"{bucket}/missing"
        )
    assert error(excinfo) == ("NoSuchKey", 404)
    parts = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="copy", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == big_part + b"2345"


def test_list_parts_pagination_and_replaced_parts(s3: Any, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    upload_parts(s3, bucket, "k", upload_id, b"1", b"22", b"333")
    page = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"], page["MaxParts"]) == (True, 2, 2)
    rest = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, PartNumberMarker=2)
    assert ([p["PartNumber"] for p in rest["Parts"]], rest["IsTruncated"]) == ([3], False)
    assert rest["PartNumberMarker"] == 2
    replaced = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"new two")
    pages = s3.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="k", UploadId=upload_id, PaginationConfig={"PageSize": 1}
    )
    everything = [part for page in pages for part in page["Parts"]]
    assert [(p["PartNumber"], p["Size"]) for p in everything] == [(1, 1), (2, 7), (3, 3)]
    assert everything[1]["ETag"] == replaced["ETag"]
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as excinfo:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert error(excinfo) == ("NoSuchUpload", 404)


def test_list_multipart_uploads(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "b", "b", "c/x/y", "d"]
    ids = [s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in keys]
    everything = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in everything["Uploads"]] == list(zip(keys, ids, strict=True))
    assert everything["IsTruncated"] is False
    assert everything["Uploads"][0]["Initiator"]["ID"] == everything["Uploads"][0]["Owner"]["ID"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")["Uploads"]] == [
        "a/1",
        "a/2",
    ]
    rolled = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in rolled["Uploads"]] == ["b", "b", "d"]
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "c/"]
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3)
    assert [u["Key"] for u in page["Uploads"]] == ["a/1", "a/2", "b"]
    assert (page["IsTruncated"], page["NextKeyMarker"], page["NextUploadIdMarker"]) == (True, "b", ids[2])
    rest = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"]
    )
    assert [u["UploadId"] for u in rest["Uploads"]] == ids[3:]
    after_key = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")  # after every upload of "b"
    assert [u["Key"] for u in after_key["Uploads"]] == ["c/x/y", "d"]
    pages = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    assert [u["UploadId"] for p in pages for u in p["Uploads"]] == ids
    s3.abort_multipart_upload(Bucket=bucket, Key="b", UploadId=ids[2])
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="b")["Uploads"]] == [
        ids[3]
    ]


def test_uploads_survive_a_restart_and_go_with_their_bucket(
    server_factory: Callable[..., Server], big_part: bytes
) -> None:
    server = server_factory()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="survive")
    upload_id = s3.create_multipart_upload(Bucket="survive", Key="k", Metadata={"m": "1"})["UploadId"]
    first = s3.upload_part(Bucket="survive", Key="k", UploadId=upload_id, PartNumber=1, Body=big_part)
    server.close_clients()
    server.stop(signal.SIGKILL)
    restarted = Server(server.data_dir).start()
    try:
        s3 = restarted.client("s3")
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="survive")["Uploads"]] == [upload_id]
        second = s3.upload_part(Bucket="survive", Key="k", UploadId=upload_id, PartNumber=2, Body=b"end")
        parts = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
        s3.complete_multipart_upload(
            Bucket="survive", Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
        got = s3.get_object(Bucket="survive", Key="k")
        assert (got["Body"].read(), got["Metadata"]) == (big_part + b"end", {"m": "1"})
        files = [p for p in (server.data_dir / "objects").rglob("*") if p.is_file()]
        assert len(files) == 1  # the parts were removed once the object was assembled
        s3.delete_object(Bucket="survive", Key="k")
        # an abandoned upload is not an object: the bucket can be deleted, and its parts go with it
        abandoned = s3.create_multipart_upload(Bucket="survive", Key="left")["UploadId"]
        s3.upload_part(Bucket="survive", Key="left", UploadId=abandoned, PartNumber=1, Body=b"orphan")
        assert s3.list_objects_v2(Bucket="survive")["KeyCount"] == 0
        s3.delete_bucket(Bucket="survive")
        assert [p for p in (server.data_dir / "objects").rglob("*") if p.is_file()] == []
    finally:
        restarted.stop()


def test_multipart_fires_complete_multipart_upload_events_not_put(
    s3: Any, lambda_client: Any, deploy: Any
) -> None:
    """A multipart upload does not fire an ObjectCreated:Put-only configuration and does fire
    ObjectCreated:*."""
    bucket, sink = unique("mp-events"), unique("mp-sink")
    for name in (bucket, sink):
        s3.create_bucket(Bucket=name)
    recorder = deploy(RECORDER, Environment={"Variables": {"SINK": sink}}, Timeout=30)
    allow_s3(lambda_client, recorder, bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                lambda_config(recorder, ["s3:ObjectCreated:Put"], prefix="put-only/"),
                lambda_config(recorder, ["s3:ObjectCreated:*"], prefix="all/"),
            ]
        },
    )
    etags = {}
    for key in ("put-only/mp", "all/mp"):
        upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = upload_parts(s3, bucket, key, upload_id, b"multipart body")
        etags[key] = s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )["ETag"]
    s3.put_object(Bucket=bucket, Key="put-only/plain", Body=b"a plain put")  # fires: proves delivery

    def recorded() -> list[dict[str, Any]]:
        listed = s3.list_objects_v2(Bucket=sink).get("Contents", [])
        return [json.loads(s3.get_object(Bucket=sink, Key=o["Key"])["Body"].read()) for o in listed]

    wait_for(lambda: len(recorded()) >= 2)
    time.sleep(1.0)  # time for a wrongly delivered third event to show up
    events = {r["Records"][0]["s3"]["object"]["key"]: r["Records"][0] for r in recorded()}
    assert set(events) == {"all/mp", "put-only/plain"}
    assert events["all/mp"]["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert events["all/mp"]["s3"]["object"]["eTag"] == etags["all/mp"].strip('"')
    assert events["all/mp"]["s3"]["object"]["size"] == len(b"multipart body")
    assert "versionId" not in events["all/mp"]["s3"]["object"]
    assert events["put-only/plain"]["eventName"] == "ObjectCreated:Put"


@pytest.mark.slow
def test_boto3_upload_file_and_download_file_100_mb(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    """boto3's transfer manager switches to multipart above 8 MB (parts uploaded in parallel) and
    downloads large objects as parallel ranged GETs; the server streams all of it."""
    server = server_factory()
    s3 = server.client("s3", max_pool_connections=16)
    s3.create_bucket(Bucket="transfer")
    source = tmp_path / "source.bin"
    digest = write_random_file(source, 100)
    config = TransferConfig()  # 8 MB threshold and parts, 10 threads: what the AWS CLI uses too
    before = peak_rss_kb(server)
    started = time.perf_counter()
    s3.upload_file(str(source), "transfer", "big.bin", Config=config)
    upload_s = time.perf_counter() - started
    head = s3.head_object(Bucket="transfer", Key="big.bin")
    assert head["ContentLength"] == 100 * MIB
    assert head["ETag"].endswith('-13"')  # 100 MiB in 8 MiB parts
    target = tmp_path / "target.bin"
    started = time.perf_counter()
    s3.download_file("transfer", "big.bin", str(target), Config=config)
    download_s = time.perf_counter() - started
    assert file_md5(target) == digest
    peak = peak_rss_kb(server)
    print(
        f"\n100 MB multipart: upload_file {100 / upload_s:.0f} MB/s, download_file {100 / download_s:.0f} MB/s,"
        f" server peak RSS {before // 1024} MB before, {peak // 1024} MB after"
    )
    assert peak < 100 * 1024, f"server peak RSS {peak} kB"
