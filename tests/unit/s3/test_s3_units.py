"""Pure pieces of the S3 implementation: aws-chunked decoding, addressing, names, checksums, ranges,
conditions, the rest-xml protocol and crash recovery of the object store."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import msgspec
import pytest

from lambdabox.api.s3.addressing import Addressing
from lambdabox.api.s3.chunked import AwsChunkedDecoder
from lambdabox.api.s3.service import ROOTS
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_xml import RestXmlProtocol
from lambdabox.core.resource_policy import service_may_invoke
from lambdabox.core.s3.checksums import Digests, encode
from lambdabox.core.s3.conditions import Preconditions, byte_range, failed_read_condition
from lambdabox.core.s3.listing import list_page
from lambdabox.core.s3.models import Bucket, S3Object
from lambdabox.core.s3.names import bucket_name_problem, event_key
from lambdabox.core.s3.notifications import SUPPORTED_EVENTS
from lambdabox.errors import AwsError
from lambdabox.storage.s3_sqlite import SqliteObjectStore
from lambdabox.storage.sqlite import Database

MODEL = load_service_model("s3")


def test_chunked_decoder_in_every_split() -> None:
    payload = os.urandom(5000)
    body = b"1000;chunk-signature=ab\r\n" + payload[:4096] + b"\r\n"
    body += f"{5000 - 4096:x};chunk-signature=cd\r\n".encode() + payload[4096:] + b"\r\n"
    body += b"0;chunk-signature=ef\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    for step in (1, 2, 3, 7, 100, 4097, len(body)):
        decoder = AwsChunkedDecoder()
        out = b"".join(b"".join(decoder.feed(body[i : i + step])) for i in range(0, len(body), step))
        decoder.close()
        assert out == payload
        assert decoder.trailers == {"x-amz-checksum-crc32": "AAAAAA=="}


def test_chunked_decoder_refuses_truncated_and_malformed_bodies() -> None:
    decoder = AwsChunkedDecoder()
    decoder.feed(b"10\r\n0123")
    with pytest.raises(AwsError) as excinfo:
        decoder.close()
    assert excinfo.value.code == "IncompleteBody"
    with pytest.raises(AwsError):
        AwsChunkedDecoder().feed(b"zz\r\n")
    with pytest.raises(AwsError):
        AwsChunkedDecoder().feed(b"2\r\nabcd\r\n")


def test_virtual_host_addressing() -> None:
    addressing = Addressing(["localhost", "lambdabox.internal"])
    assert addressing.bucket_of("b.localhost:4566") == "b"
    assert addressing.bucket_of("my.dotted.bucket.s3.us-west-2.localhost") == "my.dotted.bucket"
    assert addressing.bucket_of("b.s3.amazonaws.com") == "b"
    assert addressing.bucket_of("b.lambdabox.internal") == "b"
    for host in (
        "localhost:4566",
        "s3.localhost",
        "127.0.0.1:4566",
        "[::1]:80",
        "lambda.us-east-1.amazonaws.com",
    ):
        assert addressing.bucket_of(host) is None


def test_bucket_names() -> None:
    for good in ("abc", "my-bucket.example", "a" * 63, "1bucket"):
        assert bucket_name_problem(good) is None
    for bad in (
        "ab",
        "a" * 64,
        "Bucket",
        "a_b",
        "-ab",
        "ab-",
        "a..b",
        "10.0.0.1",
        "xn--ab",
        "a-s3alias",
        "a.-b",
    ):
        assert bucket_name_problem(bad) is not None


def test_event_keys_are_form_encoded_with_slashes_kept() -> None:
    assert event_key("dir/a b@c+d.txt") == "dir/a+b%40c%2Bd.txt"


def test_checksums_match_known_values() -> None:
    digests = Digests(["CRC32", "CRC32C", "CRC64NVME", "SHA256", "MD5"])
    digests.update(b"1234")
    digests.update(b"56789")
    raw = digests.raw()
    assert raw["CRC32"].hex() == "cbf43926"
    assert raw["CRC32C"].hex() == "e3069283"
    assert raw["CRC64NVME"].hex() == "ae8b14860a799888"
    assert encode(raw["MD5"]) == base64.b64encode(bytes.fromhex("25f9e794323b453885f5181f1b624d0b")).decode()


def test_byte_ranges() -> None:
    assert byte_range("bytes=0-0", 10) == (0, 0)
    assert byte_range("bytes=5-", 10) == (5, 9)
    assert byte_range("bytes=-3", 10) == (7, 9)
    assert byte_range("bytes=-30", 10) == (0, 9)
    assert byte_range("bytes=2-1", 10) is None
    assert byte_range("bytes=0-1,3-4", 10) is None
    assert byte_range("items=0-1", 10) is None
    for unsatisfiable, size in (("bytes=10-", 10), ("bytes=0-", 0), ("bytes=-0", 10)):
        with pytest.raises(AwsError):
            byte_range(unsatisfiable, size)


def test_read_conditions() -> None:
    obj = S3Object("b", "k", "blob", 1, "abc", 1_000_000.0)
    assert failed_read_condition(obj, Preconditions(if_match='"abc"')) is None
    assert failed_read_condition(obj, Preconditions(if_match='"x", "abc"')) is None
    assert failed_read_condition(obj, Preconditions(if_match="*")) is None
    assert failed_read_condition(obj, Preconditions(if_none_match='W/"abc"')) == 304


def test_supported_events_are_the_models_enum() -> None:
    assert set(MODEL.shape_for("Event").enum) == SUPPORTED_EVENTS


def test_policy_statements_that_let_s3_invoke() -> None:
    function = "arn:aws:lambda:us-east-1:000000000000:function:f"
    base = {
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": function,
    }

    def allows_s3(statement: dict[str, object], bucket: str, account: str) -> bool:
        return service_may_invoke(
            [statement], "s3.amazonaws.com", function, f"arn:aws:s3:::{bucket}", account
        )

    assert allows_s3(base, "b", "000000000000")
    arn_like = {**base, "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b*"}}}
    assert allows_s3(arn_like, "bucket", "000000000000")
    assert not allows_s3(arn_like, "other", "000000000000")
    account = {**base, "Condition": {"StringEquals": {"AWS:SourceAccount": "111111111111"}}}
    assert not allows_s3(account, "b", "000000000000")
    assert not allows_s3({**base, "Principal": {"Service": "sns.amazonaws.com"}}, "b", "000000000000")
    assert not allows_s3({**base, "Resource": function + ":1"}, "b", "000000000000")


def test_routing_uses_subresources_and_required_members() -> None:
    protocol = RestXmlProtocol(MODEL, roots=ROOTS, preferred=("ListBuckets",))

    def route(method: str, path: str, query: str = "", headers: dict[str, str] | None = None) -> str:
        pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in query.split("&") if p]
        return protocol.route(method, path, pairs, headers or {})[0].name  # type: ignore[arg-type]

    assert route("GET", "/") == "ListBuckets"
    assert route("GET", "/b") == "ListObjects"
    assert route("GET", "/b", "list-type=2") == "ListObjectsV2"
    assert route("GET", "/b/k/with/slashes") == "GetObject"
    assert route("GET", "/b/k", "uploadId=1") == "ListParts"
    assert route("PUT", "/b/k") == "PutObject"
    assert route("PUT", "/b/k", "", {"x-amz-copy-source": "/a/b"}) == "CopyObject"
    assert route("PUT", "/b/k", "partNumber=1&uploadId=2") == "UploadPart"
    assert route("GET", "/b", "notification") == "GetBucketNotificationConfiguration"
    assert route("PUT", "/b", "notification") == "PutBucketNotificationConfiguration"
    assert route("GET", "/b", "analytics&id=x") == "GetBucketAnalyticsConfiguration"
    assert route("GET", "/b", "analytics") == "ListBucketAnalyticsConfigurations"
    with pytest.raises(AwsError) as excinfo:
        route("PUT", "/b", "uploads")  # must not fall back to CreateBucket
    assert excinfo.value.code == "MethodNotAllowed"


def test_xml_payloads_round_trip_through_the_model() -> None:
    protocol = RestXmlProtocol(MODEL, roots=ROOTS)
    operation = MODEL.operation_model("PutBucketNotificationConfiguration")
    body = (
        b'<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<CloudFunctionConfiguration><Id>x</Id><CloudFunction>arn</CloudFunction>"
        b"<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event>"
        b"<Filter><S3Key><FilterRule><Name>prefix</Name><Value>a/</Value></FilterRule></S3Key></Filter>"
        b"</CloudFunctionConfiguration></NotificationConfiguration>"
    )
    params = protocol.parse(operation, {"Bucket": "b"}, [("notification", "")], {}, body)
    assert params["NotificationConfiguration"] == {
        "LambdaFunctionConfigurations": [
            {
                "Id": "x",
                "LambdaFunctionArn": "arn",
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/"}]}},
            }
        ]
    }
    with pytest.raises(AwsError) as excinfo:
        protocol.parse(operation, {"Bucket": "b"}, [], {}, b"<not-closed>")
    assert excinfo.value.code == "MalformedXML"
    with pytest.raises(AwsError):
        protocol.parse(operation, {}, [], {}, b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def _store(tmp_path: Path) -> SqliteObjectStore:
    return SqliteObjectStore(Database(tmp_path / "db.sqlite"), tmp_path / "objects")


def _record(blob: str, key: str = "k") -> S3Object:
    return S3Object("b", key, blob, 5, "etag", 1.0)


def test_store_finishes_a_committed_blob_and_drops_orphans_at_start(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_bucket(Bucket("b", 1.0, "us-east-1"))
    committed = store.new_blob()
    committed.write(b"hello")
    committed.seal()
    orphan = store.new_blob()
    orphan.write(b"never committed")
    # the process died after the record was committed but before the blob was renamed into place
    db = Database(tmp_path / "db.sqlite")
    db.execute(
        "INSERT INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?)",
        ("b", "k", committed.blob_id, msgspec.json.encode(_record(committed.blob_id))),
    )
    reopened = _store(tmp_path)
    opened = reopened.open_object("b", "k")
    assert opened is not None
    with opened[1] as handle:
        assert handle.read() == b"hello"
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []


def test_listing_rolls_up_common_prefixes_after_the_marker(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.create_bucket(Bucket("b", 1.0, "us-east-1"))
    for key in ("a/1", "a/2", "b", "c/1", "c/2/x", "d"):
        writer = store.new_blob()
        writer.seal()
        store.put_object(_record(writer.blob_id, key), lambda bucket, current: None)
    page = list_page(store, "b", "", "/", "", 1000)
    assert ([o.key for o in page.objects], page.common_prefixes) == (["b", "d"], ["a/", "c/"])
    page = list_page(store, "b", "", "/", "a/", 2)
    assert ([o.key for o in page.objects], page.common_prefixes, page.truncated) == (["b"], ["c/"], True)
    page = list_page(store, "b", "c/", "/", "", 1000)
    assert ([o.key for o in page.objects], page.common_prefixes) == (["c/1"], ["c/2/"])
