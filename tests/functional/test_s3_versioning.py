"""Versioning through the real server with boto3: the bucket state, version ids on every write, reads
and deletes by version, delete markers, suspended buckets, ListObjectVersions and its pagination,
copies from a version, batch deletes of versions, and the versionId of event notifications."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, python_zip, unique
from tests.functional.test_s3_notifications import RECORDER, allow_s3, lambda_config, wait_for


def versioned(s3: Any, name: str) -> str:
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return str(response["Error"]["Code"]), int(response["ResponseMetadata"]["HTTPStatusCode"])


def headers(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, str]:
    return dict(excinfo.value.response["ResponseMetadata"]["HTTPHeaders"])


def listing(s3: Any, bucket: str, **params: Any) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is a delete marker) in S3's order: by key, newest first."""
    response = s3.list_object_versions(Bucket=bucket, **params)
    entries = [(v, False) for v in response.get("Versions", [])]
    entries += [(m, True) for m in response.get("DeleteMarkers", [])]
    # boto3 parses the two lists apart; a stable sort keeps S3's order within each
    entries.sort(key=lambda e: (e[0]["Key"], not e[0]["IsLatest"], -e[0]["LastModified"].timestamp()))
    return [(e["Key"], e["VersionId"], e["IsLatest"], marker) for e, marker in entries]


def test_bucket_versioning_state(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={})  # no status: no change
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"  # never unversioned again
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Disabled"})
    assert error(excinfo) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_versioning(Bucket=unique("absent"))
    assert error(excinfo) == ("NoSuchBucket", 404)


def test_versions_delete_markers_and_reads_by_version(s3: Any, bucket: str) -> None:
    before = s3.put_object(Bucket=bucket, Key="k", Body=b"v0")  # the null version
    assert "VersionId" not in before  # an unversioned bucket answers no version id
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"v2")["VersionId"]
    assert len({v1, v2, "null"}) == 3 and len(v1) == 32
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"v2", v2)
    for version, body in ((v1, b"v1"), ("null", b"v0"), (v2, b"v2")):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=version)
        assert (got["Body"].read(), got["VersionId"]) == (body, version)
        assert s3.head_object(Bucket=bucket, Key="k", VersionId=version)["ContentLength"] == 2

    deleted = s3.delete_object(Bucket=bucket, Key="k")
    marker = deleted["VersionId"]
    assert deleted["DeleteMarker"] is True and marker not in (v1, v2)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k")
    assert error(excinfo) == ("NoSuchKey", 404)
    assert headers(excinfo)["x-amz-delete-marker"] == "true"
    assert headers(excinfo)["x-amz-version-id"] == marker
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k")
    assert error(excinfo)[1] == 404 and headers(excinfo)["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error(excinfo) == ("MethodNotAllowed", 405)
    assert excinfo.value.response["Error"]["ResourceType"] == "DeleteMarker"
    assert headers(excinfo)["x-amz-delete-marker"] == "true"
    assert "last-modified" in headers(excinfo)
    with pytest.raises(ClientError) as excinfo:
        s3.head_object(Bucket=bucket, Key="k", VersionId=marker)
    assert error(excinfo)[1] == 405
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"v1"  # still there
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # only current, non-deleted versions
    assert "Contents" not in s3.list_objects(Bucket=bucket)
    assert listing(s3, bucket) == [
        ("k", marker, True, True),
        ("k", v2, False, False),
        ("k", v1, False, False),
        ("k", "null", False, False),
    ]

    # removing the delete marker brings the newest version back; removing it, the one before
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert (removed["DeleteMarker"], removed["VersionId"]) == (True, marker)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert removed["VersionId"] == v2 and "DeleteMarker" not in removed
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["Body"].read(), got["VersionId"]) == (b"v1", v1)
    assert listing(s3, bucket) == [("k", v1, True, False), ("k", "null", False, False)]

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert error(excinfo) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version")
    assert error(excinfo) == ("InvalidArgument", 400)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)  # already gone: S3 answers 204 anyway

    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=bucket)
    assert error(excinfo) == ("BucketNotEmpty", 409)
    for version in (v1, "null"):
        s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
    s3.delete_object(Bucket=bucket, Key="only-a-marker")
    with pytest.raises(ClientError) as excinfo:  # a delete marker is enough to keep the bucket
        s3.delete_bucket(Bucket=bucket)
    assert error(excinfo) == ("BucketNotEmpty", 409)
    (marker_only,) = s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]
    s3.delete_object(Bucket=bucket, Key="only-a-marker", VersionId=marker_only["VersionId"])
    s3.delete_bucket(Bucket=bucket)


def test_suspended_versioning_overwrites_the_null_version(s3: Any, bucket: str) -> None:
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"first null")["VersionId"] == "null"
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"second null")["VersionId"] == "null"
    assert listing(s3, bucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"second null"
    deleted = s3.delete_object(Bucket=bucket, Key="k")  # a null delete marker replaces the null version
    assert (deleted["DeleteMarker"], deleted["VersionId"]) == (True, "null")
    assert listing(s3, bucket) == [("k", "null", True, True), ("k", v1, False, False)]
    copied = s3.copy_object(
        Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1}
    )
    assert (copied["VersionId"], copied["CopySourceVersionId"]) == ("null", v1)
    assert listing(s3, bucket) == [("k", "null", True, False), ("k", v1, False, False)]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"


def test_list_object_versions_pagination_prefix_and_delimiter(s3: Any, bucket: str) -> None:
    versioned(s3, bucket)
    writes = [("a", 3), ("b/1", 2), ("b/2", 1), ("c", 1)]
    for key, count in writes:
        for index in range(count):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key}-{index}".encode())
    s3.delete_object(Bucket=bucket, Key="b/1")
    full = listing(s3, bucket)
    assert [(k, latest, marker) for k, _, latest, marker in full] == [
        ("a", True, False), ("a", False, False), ("a", False, False),
        ("b/1", True, True), ("b/1", False, False), ("b/1", False, False),
        ("b/2", True, False), ("c", True, False),
    ]  # fmt: skip
    # page by page with key-marker / version-id-marker, two entries at a time
    seen: list[tuple[str, str, bool, bool]] = []
    params: dict[str, Any] = {"MaxKeys": 2}
    while True:
        page = s3.list_object_versions(Bucket=bucket, **params)
        seen += listing(s3, bucket, **params)
        if not page["IsTruncated"]:
            break
        params = {
            "MaxKeys": 2,
            "KeyMarker": page["NextKeyMarker"],
            "VersionIdMarker": page["NextVersionIdMarker"],
        }
    assert seen == full
    paginated = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 3}
    )
    assert sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in paginated) == len(full)
    assert listing(s3, bucket, Prefix="b/") == [entry for entry in full if entry[0].startswith("b/")]
    assert listing(s3, bucket, KeyMarker="a") == [entry for entry in full if entry[0] > "a"]
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a", "c"} and "DeleteMarkers" not in rolled
    with pytest.raises(ClientError) as excinfo:
        s3.list_object_versions(Bucket=bucket, VersionIdMarker=full[0][1])
    assert error(excinfo) == ("InvalidArgument", 400)


def test_copy_from_a_version_and_batch_deletes_of_versions(s3: Any, bucket: str) -> None:
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one", ContentType="text/plain")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="doc", Body=b"two")["VersionId"]
    copied = s3.copy_object(
        Bucket=bucket, Key="restored", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1}
    )
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"] not in (v1, v2)
    got = s3.get_object(Bucket=bucket, Key="restored")
    assert (got["Body"].read(), got["ContentType"]) == (b"one", "text/plain")
    plain = s3.copy_object(Bucket=bucket, Key="latest", CopySource={"Bucket": bucket, "Key": "doc"})
    assert plain["CopySourceVersionId"] == v2
    # restoring an older version onto its own key needs no metadata change
    s3.copy_object(Bucket=bucket, Key="doc", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": v1})
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"one"
    marker = s3.delete_object(Bucket=bucket, Key="gone")["VersionId"]
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(
            Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "gone", "VersionId": marker}
        )
    assert error(excinfo) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "gone"})
    assert error(excinfo) == ("NoSuchKey", 404)

    result = s3.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [
                {"Key": "doc", "VersionId": v2},
                {"Key": "restored"},
                {"Key": "gone", "VersionId": marker},
                {"Key": "doc", "VersionId": "bogus"},
            ]
        },
    )
    deleted = {(d["Key"], d.get("VersionId")): d for d in result["Deleted"]}
    assert deleted[("doc", v2)] == {"Key": "doc", "VersionId": v2}
    assert deleted[("restored", None)]["DeleteMarker"] is True
    assert len(deleted[("restored", None)]["DeleteMarkerVersionId"]) == 32
    assert deleted[("gone", marker)] == {
        "Key": "gone", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker,
    }  # fmt: skip
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("doc", "NoSuchVersion")]
    assert [v for k, v, _, _ in listing(s3, bucket) if k == "doc"][-1] == v1
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["doc", "latest"]


def test_multipart_upload_in_a_versioned_bucket(s3: Any, bucket: str) -> None:
    versioned(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"single")["VersionId"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"multi")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert done["VersionId"] not in (None, first)
    assert listing(s3, bucket) == [("k", done["VersionId"], True, False), ("k", first, False, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=first)["Body"].read() == b"single"


def test_notifications_carry_version_ids_and_delete_marker_events(
    s3: Any, lambda_client: Any, deploy: Any
) -> None:
    bucket, sink = unique("ver-events"), unique("ver-sink")
    for name in (bucket, sink):
        s3.create_bucket(Bucket=name)
    versioned(s3, bucket)
    recorder = deploy(RECORDER, Environment={"Variables": {"SINK": sink}}, Timeout=30)
    allow_s3(lambda_client, recorder, bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                lambda_config(recorder, ["s3:ObjectCreated:*"]),
                lambda_config(recorder, ["s3:ObjectRemoved:*"]),
            ]
        },
    )
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=version)

    def recorded() -> list[dict[str, Any]]:
        listed = s3.list_objects_v2(Bucket=sink).get("Contents", [])
        if len(listed) < 3:
            return []
        return [json.loads(s3.get_object(Bucket=sink, Key=o["Key"])["Body"].read()) for o in listed]

    events = {
        (r["eventName"], r["s3"]["object"]["versionId"]): r["s3"]["object"]
        for e in wait_for(recorded)
        for r in e["Records"]
    }
    assert set(events) == {
        ("ObjectCreated:Put", version),
        ("ObjectRemoved:DeleteMarkerCreated", marker),
        ("ObjectRemoved:Delete", version),
    }
    assert set(events[("ObjectRemoved:DeleteMarkerCreated", marker)]) == {"key", "versionId", "sequencer"}


def test_lambda_code_from_a_noncurrent_object_version(s3: Any, lambda_client: Any, bucket: str) -> None:
    versioned(s3, bucket)
    old = s3.put_object(
        Bucket=bucket, Key="fn.zip", Body=python_zip("def handler(e, c):\n    return 'old'\n")
    )
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=python_zip("def handler(e, c):\n    return 'new'\n"))
    name = unique()
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"S3Bucket": bucket, "S3Key": "fn.zip", "S3ObjectVersion": old["VersionId"]},
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read()) == "old"


def test_tags_of_versions(s3: Any, bucket: str) -> None:
    versioned(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1", Tagging="n=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2", Tagging="n=2")["VersionId"]
    old = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert (old["TagSet"], old["VersionId"]) == ([{"Key": "n", "Value": "1"}], v1)
    put = s3.put_object_tagging(
        Bucket=bucket, Key="k", VersionId=v2, Tagging={"TagSet": [{"Key": "n", "Value": "two"}]}
    )
    assert put["VersionId"] == v2
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == [{"Key": "n", "Value": "two"}]
    with pytest.raises(ClientError) as excinfo:  # a noncurrent version's tags are read-only here
        s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert error(excinfo) == ("NotImplemented", 501)
