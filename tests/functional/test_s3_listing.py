"""ListObjects (v1) and ListObjectsV2: prefixes, delimiters, pagination, markers and url encoding."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, raw_request, unique
from tests.signing import sign

KEYS = [
    "a.txt",
    "photos/2024/jan/1.jpg",
    "photos/2024/jan/2.jpg",
    "photos/2024/feb/1.jpg",
    "photos/2025/x.jpg",
    "photos/index.html",
    "videos/v 1.mp4",
    "videos/v+2.mp4",
    "z",
]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("listing")
    s3.create_bucket(Bucket=name)
    for key in KEYS:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def keys(response: dict[str, Any]) -> list[str]:
    return [o["Key"] for o in response.get("Contents", [])]


def prefixes(response: dict[str, Any]) -> list[str]:
    return [p["Prefix"] for p in response.get("CommonPrefixes", [])]


def test_v2_prefix_and_delimiter(s3: Any, bucket: str) -> None:
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert keys(top) == ["a.txt", "z"]
    assert prefixes(top) == ["photos/", "videos/"]
    assert top["KeyCount"] == 4 and top["IsTruncated"] is False
    assert top["Prefix"] == "" and top["Delimiter"] == "/" and top["MaxKeys"] == 1000
    nested = s3.list_objects_v2(Bucket=bucket, Prefix="photos/", Delimiter="/")
    assert keys(nested) == ["photos/index.html"]
    assert prefixes(nested) == ["photos/2024/", "photos/2025/"]
    deeper = s3.list_objects_v2(Bucket=bucket, Prefix="photos/2024/", Delimiter="/")
    assert prefixes(deeper) == ["photos/2024/feb/", "photos/2024/jan/"]
    assert keys(s3.list_objects_v2(Bucket=bucket, Prefix="photos/2024/j")) == [
        "photos/2024/jan/1.jpg",
        "photos/2024/jan/2.jpg",
    ]
    assert keys(s3.list_objects_v2(Bucket=bucket, Prefix="nothing")) == []
    assert keys(s3.list_objects_v2(Bucket=bucket, Delimiter=".")) == ["z"]


def test_v2_pagination_counts_common_prefixes(s3: Any, bucket: str) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Delimiter": "/", "MaxKeys": 1}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        assert page["KeyCount"] == 1
        seen += keys(page) + prefixes(page)
        pages += 1
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["a.txt", "photos/", "videos/", "z"] and pages == 4
    paginator = s3.get_paginator("list_objects_v2")
    flat = [
        key
        for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
        for key in keys(page)
    ]
    assert flat == sorted(KEYS)
    after = s3.list_objects_v2(Bucket=bucket, StartAfter="photos/index.html")
    assert keys(after) == ["videos/v 1.mp4", "videos/v+2.mp4", "z"]
    assert after["StartAfter"] == "photos/index.html"
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=0)["KeyCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="garbage")
    assert excinfo.value.response["Error"]["Code"] == "InvalidArgument"


def test_v1_markers(s3: Any, bucket: str) -> None:
    first = s3.list_objects(Bucket=bucket, MaxKeys=3)
    assert keys(first) == sorted(KEYS)[:3]
    assert first["IsTruncated"] is True and "NextMarker" not in first  # only with a delimiter
    assert first["Marker"] == ""
    second = s3.list_objects(Bucket=bucket, Marker=keys(first)[-1], MaxKeys=100)
    assert keys(second) == sorted(KEYS)[3:]
    grouped = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert keys(grouped) == ["a.txt"] and prefixes(grouped) == ["photos/"]
    assert grouped["NextMarker"] == "photos/"
    rest = s3.list_objects(Bucket=bucket, Delimiter="/", Marker=grouped["NextMarker"])
    assert keys(rest) == ["z"] and prefixes(rest) == ["videos/"]
    assert first["Contents"][0]["Owner"]["ID"]
    paginator = s3.get_paginator("list_objects")
    assert [
        k for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}) for k in keys(page)
    ] == sorted(KEYS)


def test_url_encoding(server: Server, s3: Any, bucket: str) -> None:
    # boto3 asks for encoding-type=url and decodes; what it gets back must round-trip
    assert keys(s3.list_objects_v2(Bucket=bucket, Prefix="videos/")) == ["videos/v 1.mp4", "videos/v+2.mp4"]
    assert keys(s3.list_objects(Bucket=bucket, Prefix="videos/")) == ["videos/v 1.mp4", "videos/v+2.mp4"]
    url = f"{server.endpoint}/{bucket}?list-type=2&prefix=videos%2F&encoding-type=url"
    raw = raw_request("GET", url, headers=sign("GET", url))
    document = ElementTree.fromstring(raw.data)
    assert [e.text for e in document.iter(f"{NS}Key")] == ["videos/v%201.mp4", "videos/v%2B2.mp4"]
    assert document.findtext(f"{NS}EncodingType") == "url"
    url = f"{server.endpoint}/{bucket}?list-type=2&prefix=videos%2F"
    plain = raw_request("GET", url, headers=sign("GET", url))
    assert [e.text for e in ElementTree.fromstring(plain.data).iter(f"{NS}Key")] == [
        "videos/v 1.mp4",
        "videos/v+2.mp4",
    ]
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert excinfo.value.response["Error"]["Code"] == "InvalidArgument"


def test_listing_a_missing_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=unique("absent"))
    assert excinfo.value.response["Error"]["Code"] == "NoSuchBucket"
