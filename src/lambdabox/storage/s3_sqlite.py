"""Embedded S3 storage: bucket and object records in the shared SQLite database, object bytes as
immutable files under `<data_dir>/objects/`.

Write protocol (crash-safe at every step, last committer wins):
1. the bytes go to `tmp/<blob>` and are fsynced (`BlobWriter.seal`);
2. the object record naming the blob is committed; the blob it replaces is noted in `s3_garbage` in the
   same transaction;
3. `tmp/<blob>` is renamed into `blobs/<xx>/<blob>` (a rename lost in a crash is redone at start);
4. the replaced blob is unlinked and its garbage note removed.
At start, a sealed blob still in `tmp/` that a record names is finished (step 3), any other temp file is
removed, and noted garbage is unlinked.

Small objects (PutObject bodies up to `INLINE_MAX` bytes) skip the file system: their bytes are a row of
`s3_inline`, inserted in the very transaction that commits the record naming them (blob ids `i:<hex>`), so
the object and its bytes become durable together, without a file to create, fsync, rename and fsync the
directory of. A body that grows past the limit while it arrives continues as a file. Readers open the blob a record names; a blob is only unlinked
after no record names it, and an open file stays readable, so nobody ever sees a torn object.

Versions: `s3_objects` holds the latest version of a key when it is an object (what ListObjects shows);
`s3_versions` holds every other version and every delete marker, newest first per key. A write replaces
the version with the same id (all versions of an unversioned bucket are the null version) and moves
the other current version into `s3_versions`; when the latest version is removed, the next one becomes
latest (back into `s3_objects` unless it is a delete marker). Multipart upload parts (`s3_parts`) are
blobs too, named by their part record (storage/s3_uploads.py).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import msgspec

from lambdabox.core.s3.models import Bucket, S3Object, VersionPosition
from lambdabox.storage.sqlite import Database, SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_buckets (name TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS s3_objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, blob TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS s3_objects_by_blob ON s3_objects (blob);
CREATE TABLE IF NOT EXISTS s3_garbage (blob TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS s3_versions (
    bucket TEXT NOT NULL, key TEXT NOT NULL, seq TEXT NOT NULL, version TEXT NOT NULL, blob TEXT NOT NULL,
    doc BLOB NOT NULL, PRIMARY KEY (bucket, key, seq DESC)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS s3_versions_by_id ON s3_versions (bucket, key, version);
CREATE INDEX IF NOT EXISTS s3_versions_by_blob ON s3_versions (blob);
CREATE TABLE IF NOT EXISTS s3_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS s3_uploads_by_key ON s3_uploads (bucket, key, upload_id);
CREATE TABLE IF NOT EXISTS s3_parts (
    upload_id TEXT NOT NULL, number INTEGER NOT NULL, blob TEXT NOT NULL, doc BLOB NOT NULL,
    PRIMARY KEY (upload_id, number)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS s3_parts_by_blob ON s3_parts (blob);
CREATE TABLE IF NOT EXISTS s3_inline (blob TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
"""
INLINE_MAX = 64 * 1024
INLINE_PREFIX = "i:"

_encode = msgspec.json.encode
_bucket_decoder = msgspec.json.Decoder(Bucket)
_object_decoder = msgspec.json.Decoder(S3Object)


def _version_key(version_id: str | None) -> str:
    """The `version` column: None and "null" are both S3's null version."""
    return "" if version_id in (None, "null") else str(version_id)


@dataclass(frozen=True)
class Written:
    """A committed write: the record, the version it replaced as current, blobs no record names now."""

    record: S3Object
    replaced: S3Object | None
    garbage: tuple[str, ...]


class FileBlobWriter:
    in_memory = False

    def __init__(self, path: Path, blob_id: str) -> None:
        self._blob_id = blob_id
        self._path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes | bytearray) -> None:
        assert self._fd is not None, "blob already sealed"
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def append_file(self, source: BinaryIO) -> None:
        """Append the rest of an open file without passing it through memory (copy_file_range)."""
        assert self._fd is not None, "blob already sealed"
        source_fd = source.fileno()
        try:
            while os.copy_file_range(source_fd, self._fd, 1 << 30):
                pass
            return
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
        while chunk := os.read(source_fd, 1 << 20):
            self.write(chunk)

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


class SmallBlobWriter:
    """A body kept in memory while it is small: sealed, it waits in `pending` for the transaction that
    commits its record (which stores it in `s3_inline`); past `INLINE_MAX` it spills into a file."""

    def __init__(self, store: SqliteObjectStore) -> None:
        self._store = store
        self._blob_id = INLINE_PREFIX + uuid.uuid4().hex
        self._buffer = bytearray()
        self._file: FileBlobWriter | None = None

    @property
    def blob_id(self) -> str:
        return self._file.blob_id if self._file is not None else self._blob_id

    @property
    def in_memory(self) -> bool:
        return self._file is None

    def write(self, data: bytes | bytearray) -> None:
        if self._file is None and len(self._buffer) + len(data) <= INLINE_MAX:
            self._buffer += data
            return
        if self._file is None:
            self._file = self._store.new_blob()
            self._file.write(bytes(self._buffer))
            self._buffer = bytearray()
        self._file.write(data)

    def seal(self) -> None:
        if self._file is not None:
            self._file.seal()
        else:
            self._store.stage_inline(self._blob_id, bytes(self._buffer))

    def discard(self) -> None:
        if self._file is not None:
            self._file.discard()
        self._store.unstage_inline(self._blob_id)


class _Clone:
    """A blob made from an existing one (CopyObject): complete when made, never written to."""

    in_memory = False

    def __init__(self, blob_id: str) -> None:
        self._blob_id = blob_id

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes | bytearray) -> None:
        raise RuntimeError("a cloned blob cannot be written")

    def seal(self) -> None:
        pass


class _InlineClone(_Clone):
    """A copy of a small object's bytes, staged like a sealed SmallBlobWriter."""

    in_memory = True

    def __init__(self, store: SqliteObjectStore, data: bytes) -> None:
        super().__init__(INLINE_PREFIX + uuid.uuid4().hex)
        self._store = store
        store.stage_inline(self._blob_id, data)

    def discard(self) -> None:
        self._store.unstage_inline(self._blob_id)


class _LinkedBlob(_Clone):
    """A hard link to an existing blob's file, already as durable as its source."""

    def __init__(self, path: Path, blob_id: str) -> None:
        super().__init__(blob_id)
        self._path = path

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


class SqliteObjectStore(SqliteStore):
    def __init__(self, db: Database, root: Path) -> None:
        super().__init__(db, SCHEMA)
        self._tmp = root / "tmp"
        self._blobs = root / "blobs"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._sequence_lock = threading.Lock()
        self._last_sequence = 0
        self._staged: dict[str, bytes] = {}  # sealed small bodies waiting for their record's transaction
        # Buckets are read several times per request and change rarely: committed state is cached; a
        # change bumps the generation, so a read that raced with it is not cached.
        self._buckets: dict[str, Bucket | None] = {}
        self._bucket_generation = 0
        self._bucket_lock = threading.Lock()
        self._recover()

    # -- recovery --------------------------------------------------------------------------------------
    def _recover(self) -> None:
        for entry in self._tmp.iterdir():
            named = self._db.execute(
                "SELECT 1 FROM s3_objects WHERE blob = ?1 UNION ALL SELECT 1 FROM s3_versions WHERE blob = ?1 "
                "UNION ALL SELECT 1 FROM s3_parts WHERE blob = ?1 LIMIT 1",
                (entry.name,),
            )
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
        if blob.startswith(INLINE_PREFIX):
            return  # stored with its record
        target = self._final(blob)
        target.parent.mkdir(exist_ok=True)
        try:
            os.rename(self._tmp / blob, target)
        except FileNotFoundError:
            return  # already replaced and collected by a later writer
        # No directory fsync: a rename lost in a crash leaves the blob in tmp/, named by its record,
        # and _recover finishes it at start.

    def _collect(self, blob: str) -> None:
        if not blob:
            return  # a delete marker has no bytes
        if blob.startswith(INLINE_PREFIX):
            with self._db.transaction():
                self._db.execute("DELETE FROM s3_inline WHERE blob = ?", (blob,))
                self._db.execute("DELETE FROM s3_garbage WHERE blob = ?", (blob,))
            return
        for path in (self._tmp / blob, self._final(blob)):
            path.unlink(missing_ok=True)
        self._db.execute("DELETE FROM s3_garbage WHERE blob = ?", (blob,))

    def note_garbage(self, blobs: Iterable[str]) -> None:
        """Inside a transaction: these blobs are no longer named (unlinked by `collect` after commit)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO s3_garbage (blob) VALUES (?)", [(blob,) for blob in blobs if blob]
        )

    def collect(self, blobs: Iterable[str]) -> None:
        for blob in blobs:
            self._collect(blob)

    def publish(self, blob: str) -> None:
        """After the commit naming it: move a sealed blob from tmp/ into place."""
        self._publish(blob)

    def _next_sequencer(self) -> str:
        with self._sequence_lock:
            self._last_sequence = max(time.time_ns(), self._last_sequence + 1)
            return f"{self._last_sequence:018X}"

    # -- buckets ---------------------------------------------------------------------------------------
    def create_bucket(self, bucket: Bucket) -> bool:
        try:
            with self._db.transaction():
                if self._db.execute("SELECT 1 FROM s3_buckets WHERE name = ?", (bucket.name,)):
                    return False
                self._db.execute(
                    "INSERT INTO s3_buckets (name, doc) VALUES (?, ?)", (bucket.name, _encode(bucket))
                )
        finally:
            self._bucket_changed(bucket.name)
        return True

    def get_bucket(self, name: str) -> Bucket | None:
        if self._db.in_transaction:
            return self._read_bucket(name)
        with self._bucket_lock:
            if name in self._buckets:
                return self._buckets[name]
            generation = self._bucket_generation
        bucket = self._read_bucket(name)
        with self._bucket_lock:
            if generation == self._bucket_generation and not self._db.in_transaction:
                self._buckets[name] = bucket
        return bucket

    def _read_bucket(self, name: str) -> Bucket | None:
        rows = self._db.execute("SELECT doc FROM s3_buckets WHERE name = ?", (name,))
        return _bucket_decoder.decode(rows[0][0]) if rows else None

    def _bucket_changed(self, name: str) -> None:
        with self._bucket_lock:
            self._bucket_generation += 1
            self._buckets.pop(name, None)

    def list_buckets(self) -> list[Bucket]:
        return [
            _bucket_decoder.decode(row[0])
            for row in self._db.execute("SELECT doc FROM s3_buckets ORDER BY name")
        ]

    def update_bucket(self, name: str, change: Callable[[Bucket | None], Bucket]) -> Bucket:
        try:
            with self._db.transaction():
                updated = change(self.get_bucket(name))
                self._db.execute("UPDATE s3_buckets SET doc = ? WHERE name = ?", (_encode(updated), name))
        finally:
            self._bucket_changed(name)
        return updated

    def delete_bucket(self, name: str, check: Callable[[Bucket | None, bool], None]) -> None:
        """Only when no version or delete marker is left; uploads in progress go with the bucket."""
        try:
            with self._db.transaction():
                empty = not self._db.execute(
                    "SELECT 1 FROM s3_objects WHERE bucket = ?1 UNION ALL "
                    "SELECT 1 FROM s3_versions WHERE bucket = ?1 LIMIT 1",
                    (name,),
                )
                check(self.get_bucket(name), empty)
                self._db.execute("DELETE FROM s3_buckets WHERE name = ?", (name,))
                parts = [
                    str(blob)
                    for (blob,) in self._db.execute(
                        "DELETE FROM s3_parts WHERE upload_id IN "
                        "(SELECT upload_id FROM s3_uploads WHERE bucket = ?) RETURNING blob",
                        (name,),
                    )
                ]
                self._db.execute("DELETE FROM s3_uploads WHERE bucket = ?", (name,))
                self.note_garbage(parts)
        finally:
            self._bucket_changed(name)
        self.collect(parts)

    # -- blobs -----------------------------------------------------------------------------------------
    def new_blob(self) -> FileBlobWriter:
        blob = uuid.uuid4().hex
        return FileBlobWriter(self._tmp / blob, blob)

    def new_small_blob(self) -> SmallBlobWriter:
        """For a body that is likely small (a PutObject): kept in the database if it stays small."""
        return SmallBlobWriter(self)

    def stage_inline(self, blob: str, data: bytes) -> None:
        self._staged[blob] = data

    def unstage_inline(self, blob: str) -> None:
        self._staged.pop(blob, None)

    def clone_blob(self, source: S3Object) -> _LinkedBlob | _InlineClone | None:
        if source.blob.startswith(INLINE_PREFIX):
            rows = self._db.execute("SELECT data FROM s3_inline WHERE blob = ?", (source.blob,))
            return _InlineClone(self, bytes(rows[0][0])) if rows else None
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
        return self.open_named(record.blob)

    def open_named(self, blob: str) -> BinaryIO | None:
        if not blob:
            return None
        if blob.startswith(INLINE_PREFIX):
            rows = self._db.execute("SELECT data FROM s3_inline WHERE blob = ?", (blob,))
            return io.BytesIO(rows[0][0]) if rows else None
        for path in (self._final(blob), self._tmp / blob, self._final(blob)):
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
        self, record: S3Object, check: Callable[[Bucket | None, S3Object | None], S3Object | None]
    ) -> tuple[S3Object, S3Object | None]:
        with self._db.transaction():
            written = self.write_locked(record, check)
        self.finish(written)
        return written.record, written.replaced

    def write_locked(
        self, record: S3Object, check: Callable[[Bucket | None, S3Object | None], S3Object | None]
    ) -> Written:
        """Inside a transaction: commit a new version (an object or a delete marker) as the latest.
        `check` sees the bucket and the current object; it raises to refuse, or returns the record to
        write instead (e.g. with its version id). Call `finish` after the commit."""
        current = self.get_object(record.bucket, record.key)
        record = check(self.get_bucket(record.bucket), current) or record
        record = replace(record, sequencer=self._next_sequencer())
        version = _version_key(record.version_id)
        garbage: list[str] = []
        if current is not None:
            if _version_key(current.version_id) == version:
                garbage.append(current.blob)
            else:
                self._keep(current)
            if record.delete_marker:
                self._db.execute(
                    "DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (record.bucket, record.key)
                )
        garbage += [
            str(blob)
            for (blob,) in self._db.execute(
                "DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version = ? RETURNING blob",
                (record.bucket, record.key, version),
            )
        ]
        if record.delete_marker:
            self._keep(record)
        else:
            if record.blob.startswith(INLINE_PREFIX):
                data = self._staged.pop(record.blob, None)
                if data is None:
                    raise RuntimeError(f"the bytes of {record.blob} were not staged")
                self._db.execute("INSERT INTO s3_inline (blob, data) VALUES (?, ?)", (record.blob, data))
            self._db.execute(
                "INSERT INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(bucket, key) DO UPDATE SET blob = excluded.blob, doc = excluded.doc",
                (record.bucket, record.key, record.blob, _encode(record)),
            )
        garbage = [blob for blob in garbage if blob and blob != record.blob]
        self.note_garbage(garbage)
        return Written(record, current, tuple(garbage))

    def finish(self, written: Written) -> None:
        """After the commit: the new blob into place, the blobs it made garbage unlinked."""
        if written.record.blob:
            self._publish(written.record.blob)
        self.collect(written.garbage)

    def _keep(self, record: S3Object) -> None:
        """Store a version that is not the latest object (a noncurrent version or a delete marker)."""
        self._db.execute(
            "INSERT INTO s3_versions (bucket, key, seq, version, blob, doc) VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.bucket,
                record.key,
                record.sequencer,
                _version_key(record.version_id),
                record.blob,
                _encode(record),
            ),
        )

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

    # -- versions --------------------------------------------------------------------------------------
    def get_version(self, bucket: str, key: str, version_id: str | None) -> S3Object | None:
        """One version (or delete marker) by id; None or "null" is the null version."""
        version = _version_key(version_id)
        current = self.get_object(bucket, key)
        if current is not None and _version_key(current.version_id) == version:
            return current
        rows = self._db.execute(
            "SELECT doc FROM s3_versions WHERE bucket = ? AND key = ? AND version = ?", (bucket, key, version)
        )
        return _object_decoder.decode(rows[0][0]) if rows else None

    def latest_version(self, bucket: str, key: str) -> S3Object | None:
        """The latest version of a key, a delete marker included."""
        current = self.get_object(bucket, key)
        if current is not None:
            return current
        rows = self._db.execute(
            "SELECT doc FROM s3_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
            (bucket, key),
        )
        return _object_decoder.decode(rows[0][0]) if rows else None

    def delete_version(
        self, bucket: str, key: str, version_id: str | None, check: Callable[[Bucket | None], None]
    ) -> S3Object | None:
        """Remove one version (or delete marker) for good; the next one may become the latest."""
        version = _version_key(version_id)
        with self._db.transaction():
            check(self.get_bucket(bucket))
            current = self.get_object(bucket, key)
            if current is not None and _version_key(current.version_id) == version:
                self._db.execute("DELETE FROM s3_objects WHERE bucket = ? AND key = ?", (bucket, key))
                removed = current
            else:
                rows = self._db.execute(
                    "DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND version = ? RETURNING doc",
                    (bucket, key, version),
                )
                if not rows:
                    return None
                removed = _object_decoder.decode(rows[0][0])
            if current is None or current is removed:
                self._promote(bucket, key)
            self.note_garbage([removed.blob])
        self._collect(removed.blob)
        return replace(removed, sequencer=self._next_sequencer())

    def _promote(self, bucket: str, key: str) -> None:
        """The newest remaining version becomes the latest: an object goes back into s3_objects."""
        rows = self._db.execute(
            "SELECT seq, doc FROM s3_versions WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
            (bucket, key),
        )
        if not rows:
            return
        record = _object_decoder.decode(rows[0][1])
        if record.delete_marker:
            return
        self._db.execute(
            "DELETE FROM s3_versions WHERE bucket = ? AND key = ? AND seq = ?", (bucket, key, rows[0][0])
        )
        self._db.execute(
            "INSERT INTO s3_objects (bucket, key, blob, doc) VALUES (?, ?, ?, ?)",
            (bucket, key, record.blob, rows[0][1]),
        )

    def version_position(self, bucket: str, key: str, version_id: str | None) -> VersionPosition | None:
        version = _version_key(version_id)
        current = self.get_object(bucket, key)
        if current is not None and _version_key(current.version_id) == version:
            return (key, 0, "")
        rows = self._db.execute(
            "SELECT seq FROM s3_versions WHERE bucket = ? AND key = ? AND version = ?", (bucket, key, version)
        )
        return (key, 1, str(rows[0][0])) if rows else None

    def list_versions(
        self, bucket: str, prefix: str, after: VersionPosition, limit: int
    ) -> list[tuple[S3Object, VersionPosition]]:
        """Versions and delete markers after `after` (exclusive) in ListObjectVersions order, keys
        starting with `prefix`."""
        key, rank, seq = after
        start = max(prefix, key)
        rows = self._db.execute(
            "SELECT key, rank, seq, doc FROM ("
            " SELECT * FROM (SELECT key, 0 AS rank, '' AS seq, doc FROM s3_objects"
            "  WHERE bucket = ?1 AND key >= ?2 AND (key > ?3 OR ?4 < 0) ORDER BY key LIMIT ?6)"
            " UNION ALL"
            " SELECT * FROM (SELECT key, 1 AS rank, seq, doc FROM s3_versions"
            "  WHERE bucket = ?1 AND key >= ?2 AND (key > ?3 OR ?4 < 1 OR (?4 = 1 AND seq < ?5))"
            "  ORDER BY key, seq DESC LIMIT ?6)"
            ") ORDER BY key, rank, seq DESC LIMIT ?6",
            (bucket, start, key, rank, seq, limit),
        )
        out: list[tuple[S3Object, VersionPosition]] = []
        for row_key, row_rank, row_seq, doc in rows:
            if not str(row_key).startswith(prefix):
                break
            out.append((_object_decoder.decode(doc), (str(row_key), int(row_rank), str(row_seq))))
        return out

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
