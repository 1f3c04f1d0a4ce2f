"""Embedded S3 storage: bucket and object records in the shared SQLite database, object bytes as
immutable files under `<data_dir>/objects/`.

Write protocol (crash-safe at every step, last committer wins):
1. the bytes go to `tmp/<blob>` and are fsynced (`BlobWriter.seal`);
2. the object record naming the blob is committed; the blob it replaces is noted in `s3_garbage` in the
   same transaction;
3. `tmp/<blob>` is renamed into `blobs/<xx>/<blob>` and the directory fsynced;
4. the replaced blob is unlinked and its garbage note removed.
At start, a sealed blob still in `tmp/` that a record names is finished (step 3), any other temp file is
removed, and noted garbage is unlinked. Readers open the blob a record names; a blob is only unlinked
after no record names it, and an open file stays readable, so nobody ever sees a torn object.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import msgspec

from lambdabox.core.s3.models import Bucket, S3Object
from lambdabox.storage.sqlite import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_buckets (name TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS s3_objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS s3_objects_by_blob ON s3_objects (blob);
CREATE TABLE IF NOT EXISTS s3_garbage (blob TEXT PRIMARY KEY);
"""

_encode = msgspec.json.encode
_bucket_decoder = msgspec.json.Decoder(Bucket)
_object_decoder = msgspec.json.Decoder(S3Object)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FileBlobWriter:
    def __init__(self, path: Path, blob_id: str) -> None:
        self._blob_id = blob_id
        self._path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes) -> None:
        assert self._fd is not None, "blob already sealed"
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def seal(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


class _LinkedBlob:
    """A clone of an existing blob: a hard link, already as durable as its source."""

    def __init__(self, path: Path, blob_id: str) -> None:
        self._blob_id = blob_id
        self._path = path

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes) -> None:
        raise RuntimeError("a cloned blob cannot be written")

    def seal(self) -> None:
        pass

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


class SqliteObjectStore:
    def __init__(self, db: Database, root: Path) -> None:
        self._db = db
        self._tmp = root / "tmp"
        self._blobs = root / "blobs"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)
        with self._db.transaction():
            for statement in filter(str.strip, SCHEMA.split(";")):
                self._db.execute(statement)
        self._sequence_lock = threading.Lock()
        self._last_sequence = 0
        self._recover()

    # -- recovery --------------------------------------------------------------------------------------
    def _recover(self) -> None:
        for entry in self._tmp.iterdir():
            named = self._db.execute("SELECT 1 FROM s3_objects WHERE blob = ? LIMIT 1", (entry.name,))
            if named:
                self._publish(entry.name)
            else:
                entry.unlink(missing_ok=True)
        for (blob,) in self._db.execute("SELECT blob FROM s3_garbage"):
            self._collect(str(blob))

    # -- paths -----------------------------------------------------------------------------------------
    def _final(self, blob: str) -> Path:
        return self._blobs / blob[:2] / blob

    def _publish(self, blob: str) -> None:
        target = self._final(blob)
        target.parent.mkdir(exist_ok=True)
        try:
            os.rename(self._tmp / blob, target)
        except FileNotFoundError:
            return  # already replaced and collected by a later writer
        _fsync_dir(target.parent)

    def _collect(self, blob: str) -> None:
        for path in (self._tmp / blob, self._final(blob)):
            path.unlink(missing_ok=True)
        self._db.execute("DELETE FROM s3_garbage WHERE blob = ?", (blob,))

    def _next_sequencer(self) -> str:
        with self._sequence_lock:
            self._last_sequence = max(time.time_ns(), self._last_sequence + 1)
            return f"{self._last_sequence:018X}"

    # -- buckets ---------------------------------------------------------------------------------------
    def create_bucket(self, bucket: Bucket) -> bool:
        with self._db.transaction():
            if self._db.execute("SELECT 1 FROM s3_buckets WHERE name = ?", (bucket.name,)):
                return False
            self._db.execute(
                "INSERT INTO s3_buckets (name, doc) VALUES (?, ?)", (bucket.name, _encode(bucket))
            )
        return True

    def get_bucket(self, name: str) -> Bucket | None:
        rows = self._db.execute("SELECT doc FROM s3_buckets WHERE name = ?", (name,))
        return _bucket_decoder.decode(rows[0][0]) if rows else None

    def list_buckets(self) -> list[Bucket]:
        return [
            _bucket_decoder.decode(row[0])
            for row in self._db.execute("SELECT doc FROM s3_buckets ORDER BY name")
        ]

    def update_bucket(self, name: str, change: Callable[[Bucket | None], Bucket]) -> Bucket:
        with self._db.transaction():
            updated = change(self.get_bucket(name))
            self._db.execute("UPDATE s3_buckets SET doc = ? WHERE name = ?", (_encode(updated), name))
        return updated

    def delete_bucket(self, name: str, check: Callable[[Bucket | None, bool], None]) -> None:
        with self._db.transaction():
            empty = not self._db.execute("SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1", (name,))
            check(self.get_bucket(name), empty)
            self._db.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))

    # -- blobs -----------------------------------------------------------------------------------------
    def new_blob(self) -> FileBlobWriter:
        blob = uuid.uuid4().hex
        return FileBlobWriter(self._tmp / blob, blob)

    def clone_blob(self, source: S3Object) -> _LinkedBlob | None:
        blob = uuid.uuid4().hex
        target = self._tmp / blob
        for path in (self._final(source.blob), self._tmp / source.blob, self._final(source.blob)):
            try:
                os.link(path, target)
            except FileNotFoundError:
                continue
            return _LinkedBlob(target, blob)
        return None

    def open_blob(self, record: S3Object) -> BinaryIO | None:
        for path in (self._final(record.blob), self._tmp / record.blob, self._final(record.blob)):
            try:
                return open(path, "rb", buffering=0)
            except FileNotFoundError:
                continue
        return None

    # -- objects ---------------------------------------------------------------------------------------
    def get_object(self, bucket: str, key: str) -> S3Object | None:
        rows = self._db.execute("SELECT doc FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, key))
        return _object_decoder.decode(rows[0][0]) if rows else None

    def put_object(
        self, record: S3Object, check: Callable[[Bucket | None, S3Object | None], None]
    ) -> tuple[S3Object, S3Object | None]:
        with self._db.transaction():
            current = self.get_object(record.bucket, record.key)
            check(self.get_bucket(record.bucket), current)
            record = replace(record, sequencer=self._next_sequencer())
            self._db.execute(
                "INSERT INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(bucket, key) DO UPDATE SET blob = excluded.blob, doc = excluded.doc",
                (record.bucket, record.key, record.blob, _encode(record)),
            )
            if current is not None and current.blob != record.blob:
                self._db.execute("INSERT OR IGNORE INTO s3_garbage (blob) VALUES (?)", (current.blob,))
        self._publish(record.blob)
        if current is not None and current.blob != record.blob:
            self._collect(current.blob)
        return record, current

    def update_object(
        self, bucket: str, key: str, change: Callable[[Bucket | None, S3Object | None], S3Object]
    ) -> S3Object:
        with self._db.transaction():
            current = self.get_object(bucket, key)
            updated = change(self.get_bucket(bucket), current)
            assert current is not None and updated.blob == current.blob
            self._db.execute(
                "UPDATE s3_objects SET doc = ? WHERE bucket = ? AND key = ?", (_encode(updated), bucket, key)
            )
        return updated

    def delete_object(self, bucket: str, key: str, check: Callable[[Bucket | None], None]) -> S3Object | None:
        with self._db.transaction():
            check(self.get_bucket(bucket))
            current = self.get_object(bucket, key)
            if current is None:
                return None
            self._db.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, key))
            self._db.execute("INSERT OR IGNORE INTO s3_garbage (blob) VALUES (?)", (current.blob,))
        self._collect(current.blob)
        return replace(current, sequencer=self._next_sequencer())

    def open_object(self, bucket: str, key: str) -> tuple[S3Object, BinaryIO] | None:
        for _ in range(10):
            record = self.get_object(bucket, key)
            if record is None:
                return None
            handle = self.open_blob(record)
            if handle is not None:
                return record, handle
        return None

    def list_objects(self, bucket: str, prefix: str, after: str, limit: int) -> list[S3Object]:
        start = max(prefix, after)
        operator = ">" if start == after else ">="
        rows = self._db.execute(
            f"SELECT key, doc FROM s3_objects WHERE bucket = ? AND key {operator} ? ORDER BY key LIMIT ?",
            (bucket, start, limit),
        )
        out = []
        for key, doc in rows:
            if not str(key).startswith(prefix):
                break
            out.append(_object_decoder.decode(doc))
        return out
