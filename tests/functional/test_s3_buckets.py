"""Buckets through the real server: lifecycle, naming rules, errors, tags, addressing styles."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, SECRET_KEY, Server, raw_request, unique
from tests.signing import sign

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def status_of(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return int(excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_bucket_lifecycle(s3: Any) -> None:
    name = unique("life")
    created = s3.create_bucket(Bucket=name)
    assert created["Location"] == f"/{name}"
    head = s3.head_bucket(Bucket=name)
    assert head["BucketRegion"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert len(listed["Owner"]["ID"]) == 64
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name)
    assert (code_of(excinfo), status_of(excinfo)) == ("BucketAlreadyOwnedByYou", 409)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=name)
    assert (code_of(excinfo), status_of(excinfo)) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket=name, Key="k")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=name)
    assert status_of(excinfo) == 404
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=name)
    assert code_of(excinfo) == "NoSuchBucket"
    assert excinfo.value.response["Error"]["BucketName"] == name


def test_location_constraint(s3: Any) -> None:
    name = unique("eu")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=unique("us"), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert code_of(excinfo) == "InvalidLocationConstraint"


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "UPPER-case", "under_score", "-starts-with-dash", "ends-with-dash-", "two..dots",
     "192.168.5.4", "xn--punycode", "bucket-s3alias", "dot-.dash"],
)  # fmt: skip
def test_invalid_bucket_names(server: Server, name: str) -> None:
    url = f"{server.endpoint}/{name}"
    raw = raw_request("PUT", url, headers=sign("PUT", url))  # boto3 refuses some locally
    assert raw.status == 400
    error = ElementTree.fromstring(raw.data)
    assert error.findtext("Code") == "InvalidBucketName"
    assert error.findtext("BucketName") == name


def test_list_buckets_pagination_and_prefix(s3: Any) -> None:
    stem = unique("page")
    names = [f"{stem}-{i}" for i in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(Prefix=stem, MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    rest = s3.list_buckets(Prefix=stem, MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == names[2:]
    assert "ContinuationToken" not in rest


def test_bucket_tagging(s3: Any) -> None:
    name = unique("tags")
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_tagging(Bucket=name)
    assert code_of(excinfo) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": "data"}]})
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "team", "Value": "data"}]
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "aws:x", "Value": "y"}]})
    assert code_of(excinfo) == "InvalidTag"
    s3.delete_bucket_tagging(Bucket=name)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=name)


def test_unimplemented_operation_and_wrong_method(server: Server, s3: Any) -> None:
    name = unique("ni")
    s3.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as excinfo:
        s3.get_bucket_website(Bucket=name)
    assert (code_of(excinfo), status_of(excinfo)) == ("NotImplemented", 501)
    url = f"{server.endpoint}/{name}/key?tagging"
    raw = raw_request("POST", url, headers=sign("POST", url))
    assert raw.status == 405
    error = ElementTree.fromstring(raw.data)
    assert error.findtext("Code") == "MethodNotAllowed"
    assert error.findtext("RequestId") == raw.headers["x-amz-request-id"]
    assert raw.headers["x-amz-id-2"] == error.findtext("HostId")
    assert s3.get_bucket_versioning(Bucket=name).get("Status") is None


def test_expected_bucket_owner(s3: Any) -> None:
    name = unique("owner")
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name, ExpectedBucketOwner="000000000000")
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=name, ExpectedBucketOwner="111111111111")
    assert code_of(excinfo) == "AccessDenied"


def test_virtual_hosted_style_addressing(server: Server, s3: Any, http: urllib3.PoolManager) -> None:
    name = unique("vhost")
    s3.create_bucket(Bucket=name)
    for host in (f"{name}.localhost", f"{name}.s3.localhost", f"{name}.s3.us-east-1.localhost"):
        virtual = f"http://{host}:{server.port}/dir/a%20b.txt"
        put = http.request(
            "PUT",
            f"{server.endpoint}/dir/a%20b.txt",
            body=b"virtual",
            headers=sign("PUT", virtual, body=b"virtual", headers={"Host": f"{host}:{server.port}"}),
        )
        assert put.status == 200, put.data
        got = http.request(
            "GET",
            f"{server.endpoint}/dir/a%20b.txt",
            headers=sign("GET", virtual, headers={"Host": f"{host}:{server.port}"}),
        )
        assert got.data == b"virtual"
        listed = http.request(
            "GET",
            f"{server.endpoint}/?list-type=2",
            headers=sign("GET", f"http://{host}/?list-type=2", headers={"Host": host}),
        )
        assert ElementTree.fromstring(listed.data).findtext(f"{NS}Contents/{NS}Key") == "dir/a b.txt"
    assert s3.get_object(Bucket=name, Key="dir/a b.txt")["Body"].read() == b"virtual"


def test_boto3_virtual_addressing_through_a_rewritten_host(server: Server) -> None:
    """boto3 with addressing_style=virtual and an s3.localhost endpoint (names under .localhost may not
    resolve here, so the connection goes to 127.0.0.1 while the Host header keeps the bucket)."""
    session_client = boto3.client(
        "s3",
        endpoint_url=f"http://s3.localhost:{server.port}",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}),
    )
    hosts: list[str] = []

    def to_loopback(request: Any, **_: Any) -> None:
        hosts.append(request.url.split("/")[2])
        request.headers["Host"] = request.url.split("/")[2]
        request.url = request.url.replace(request.url.split("/")[2], f"127.0.0.1:{server.port}", 1)

    session_client.meta.events.register_first("before-send.s3", to_loopback)
    name = unique("vboto")
    session_client.create_bucket(Bucket=name)
    session_client.put_object(Bucket=name, Key="k.txt", Body=b"via virtual host", ContentType="text/plain")
    got = session_client.get_object(Bucket=name, Key="k.txt")
    assert got["Body"].read() == b"via virtual host"
    assert [o["Key"] for o in session_client.list_objects_v2(Bucket=name)["Contents"]] == ["k.txt"]
    assert f"{name}.s3.localhost:{server.port}" in hosts
