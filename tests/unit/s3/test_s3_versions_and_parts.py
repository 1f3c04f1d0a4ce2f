"""Pure pieces of versioning and multipart uploads: checksums derived from parts, the store's version
rules (replace the same id, keep the others, promote on removal), version listing order, and crash
recovery of part blobs."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import msgspec

from lambdabox.core.s3.checksums import Digests, encode
from lambdabox.core.s3.composite import combine_crc, composite, multipart_etag
from lambdabox.core.s3.models import Bucket, MultipartUpload, Part, S3Object
from lambdabox.core.s3.versions import list_versions
from lambdabox.storage.s3_sqlite import SqliteObjectStore
from lambdabox.storage.s3_uploads import SqliteUploadStore
from lambdabox.storage.sqlite import Database


def _digest(algorithm: str, data: bytes) -> bytes:
    digests = Digests([algorithm])
    digests.update(data)
    return digests.raw()[algorithm]


def test_full_object_crcs_combine_from_the_parts() -> None:
    parts = [os.urandom(size) for size in (4096, 1, 0, 70_001, 3)]
    for algorithm in ("CRC32", "CRC32C", "CRC64NVME"):
        combined = combine_crc(algorithm, [(encode(_digest(algorithm, p)), len(p)) for p in parts])
        assert combined == encode(_digest(algorithm, b"".join(parts))), algorithm


def test_multipart_etag_and_composite_checksum() -> None:
    parts = [b"first", b"second"]
    md5s = [hashlib.md5(p).hexdigest() for p in parts]
    assert multipart_etag(md5s) == hashlib.md5(b"".join(bytes.fromhex(m) for m in md5s)).hexdigest() + "-2"
    sums = [base64.b64encode(hashlib.sha256(p).digest()).decode() for p in parts]
    expected = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    assert composite("SHA256", sums) == base64.b64encode(expected).decode() + "-2"


def _store(tmp_path: Path, db: Database | None = None) -> SqliteObjectStore:
    store = SqliteObjectStore(db or Database(tmp_path / "db.sqlite"), tmp_path / "objects")
    if store.get_bucket("b") is None:
        store.create_bucket(Bucket("b", 1.0, "us-east-1", versioning="Enabled"))
    return store


def _put(store: SqliteObjectStore, key: str, version: str | None, *, marker: bool = False) -> S3Object:
    blob = ""
    if not marker:
        writer = store.new_blob()
        writer.write(f"{key}@{version}".encode())
        writer.seal()
        blob = writer.blob_id
    record = S3Object("b", key, blob, 0, "", 1.0, version_id=version, delete_marker=marker)
    return store.put_object(record, lambda bucket, current: None)[0]


def _files(tmp_path: Path) -> int:
    return sum(1 for p in (tmp_path / "objects").rglob("*") if p.is_file())


def test_versions_replace_the_same_id_keep_the_others_and_promote(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _put(store, "k", None)  # written before versioning: the null version
    _put(store, "k", "a" * 32)
    _put(store, "k", "null")  # suspended: replaces the (noncurrent) null version
    assert _files(tmp_path) == 2
    _put(store, "k", "m" * 32, marker=True)
    assert store.get_object("b", "k") is None
    latest = store.latest_version("b", "k")
    assert latest is not None and latest.delete_marker
    page = list_versions(store, "b", "", None, "", None, 1000)
    assert [(r.version_id, latest) for r, latest in page.entries] == [
        ("m" * 32, True),
        ("null", False),
        ("a" * 32, False),
    ]
    store.delete_version("b", "k", "m" * 32, lambda bucket: None)  # the null version is latest again
    current = store.get_object("b", "k")
    assert current is not None and current.version_id == "null"
    store.delete_version("b", "k", None, lambda bucket: None)
    current = store.get_object("b", "k")
    assert current is not None and current.version_id == "a" * 32
    assert _files(tmp_path) == 1
    reopened = _store(tmp_path)  # survives a restart
    assert [r.version_id for r, _ in list_versions(reopened, "b", "", None, "", None, 10).entries] == [
        "a" * 32
    ]


def test_version_pages_resume_mid_key_and_after_a_key(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for key in ("a", "b/x", "c"):
        for index in range(3):
            _put(store, key, f"{key[0]}{index}".ljust(32, "v"))
    everything = [
        (r.key, r.version_id, latest)
        for r, latest in list_versions(store, "b", "", None, "", None, 100).entries
    ]
    resumed = []
    key_marker, version_marker = "", None
    while True:
        page = list_versions(store, "b", "", None, key_marker, version_marker, 2)
        resumed += [(r.key, r.version_id, latest) for r, latest in page.entries]
        if not page.truncated:
            break
        key_marker, version_marker = page.next_key_marker or "", page.next_version_marker
    assert resumed == everything
    assert [latest for _, _, latest in everything] == [True, False, False] * 3
    after_a = list_versions(store, "b", "", None, "a", None, 100)
    assert [r.key for r, _ in after_a.entries] == ["b/x"] * 3 + ["c"] * 3
    rolled = list_versions(store, "b", "", "/", "", None, 4)  # a common prefix counts as one entry
    assert ([r.key for r, _ in rolled.entries], rolled.common_prefixes, rolled.truncated) == (
        ["a", "a", "a"],
        ["b/"],
        True,
    )
    assert (rolled.next_key_marker, rolled.next_version_marker) == ("b/", None)


def test_part_blobs_are_recovered_and_dropped_with_their_upload(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    uploads = SqliteUploadStore(db, _store(tmp_path, db))
    uploads.create_upload(MultipartUpload("u1", "b", "k", 1.0), lambda bucket: None)
    writer = uploads.new_blob()
    writer.write(b"part bytes")
    writer.seal()
    orphan = uploads.new_blob()
    orphan.write(b"never committed")
    # the process died after the part record was committed but before its blob was renamed
    Database(tmp_path / "db.sqlite").execute(
        "INSERT INTO s3_parts (upload_id, number, blob, doc) VALUES (?, ?, ?, ?)",
        ("u1", 1, writer.blob_id, msgspec.json.encode(Part("u1", 1, writer.blob_id, 10, "e", 1.0))),
    )
    db.close()
    db = Database(tmp_path / "db.sqlite")
    reopened = _store(tmp_path, db)
    uploads = SqliteUploadStore(db, reopened)
    assert list((tmp_path / "objects" / "tmp").iterdir()) == []
    (part,) = uploads.get_parts("u1")
    handle = uploads.open_part(part)
    assert handle is not None
    with handle:
        assert handle.read() == b"part bytes"
    assembled = uploads.assemble([part, part])
    record = S3Object("b", "k", assembled.blob_id, 20, "e-2", 1.0, parts=(10, 10))
    uploads.complete_upload("u1", record, lambda upload, parts: None, lambda bucket, current: None)
    assert uploads.get_upload("u1") is None and uploads.get_parts("u1") == []
    opened = reopened.open_object("b", "k")
    assert opened is not None
    with opened[1] as handle:
        assert handle.read() == b"part bytes" * 2
    assert _files(tmp_path) == 1
