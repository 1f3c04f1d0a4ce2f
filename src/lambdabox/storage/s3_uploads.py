"""Embedded multipart uploads: upload and part records in the shared SQLite database (tables created by
`SqliteObjectStore`), part bytes as blobs beside the objects', with the same write protocol.

A part is a blob written to `tmp/`, fsynced, named by its part record, then renamed into `blobs/`
(recovery at start finishes or removes it as for objects). Completing an upload concatenates the part
files into a new blob in the kernel (copy_file_range), fsyncs it, then commits in one transaction the
object record naming it and the removal of the upload and its part records (noted as garbage); the part
files are unlinked after the commit. Aborting, or deleting the bucket, drops the parts the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import BinaryIO

import msgspec

from lambdabox.core.s3.models import Bucket, MultipartUpload, Part, S3Object
from lambdabox.storage.s3_sqlite import FileBlobWriter, SqliteObjectStore
from lambdabox.storage.sqlite import Database

_encode = msgspec.json.encode
_upload_decoder = msgspec.json.Decoder(MultipartUpload)
_part_decoder = msgspec.json.Decoder(Part)


class SqliteUploadStore:
    def __init__(self, db: Database, objects: SqliteObjectStore) -> None:
        self._db = db
        self._objects = objects

    # -- uploads ---------------------------------------------------------------------------------------
    def create_upload(self, upload: MultipartUpload, check: Callable[[Bucket | None], None]) -> None:
        with self._db.transaction():
            check(self._objects.get_bucket(upload.bucket))
            self._db.execute(
                "INSERT INTO s3_uploads (upload_id, bucket, key, doc) VALUES (?, ?, ?, ?)",
                (upload.upload_id, upload.bucket, upload.key, _encode(upload)),
            )

    def get_upload(self, upload_id: str) -> MultipartUpload | None:
        rows = self._db.execute("SELECT doc FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        return _upload_decoder.decode(rows[0][0]) if rows else None

    def list_uploads(
        self, bucket: str, prefix: str, after: tuple[str, str], limit: int
    ) -> list[MultipartUpload]:
        key, upload_id = after
        rows = self._db.execute(
            "SELECT key, doc FROM s3_uploads WHERE bucket = ?1 AND key >= ?2 "
            "AND (key > ?3 OR (key = ?3 AND upload_id > ?4)) ORDER BY key, upload_id LIMIT ?5",
            (bucket, max(prefix, key), key, upload_id, limit),
        )
        out = []
        for row_key, doc in rows:
            if not str(row_key).startswith(prefix):
                break
            out.append(_upload_decoder.decode(doc))
        return out

    def abort_upload(self, upload_id: str, check: Callable[[MultipartUpload | None], None]) -> None:
        with self._db.transaction():
            check(self.get_upload(upload_id))
            garbage = self._drop(upload_id)
        self._objects.collect(garbage)

    def _drop(self, upload_id: str) -> list[str]:
        """Inside a transaction: remove an upload and its parts, noting their blobs as garbage."""
        garbage = [
            str(blob)
            for (blob,) in self._db.execute(
                "DELETE FROM s3_parts WHERE upload_id = ? RETURNING blob", (upload_id,)
            )
        ]
        self._db.execute("DELETE FROM s3_uploads WHERE upload_id = ?", (upload_id,))
        self._objects.note_garbage(garbage)
        return garbage

    # -- parts -----------------------------------------------------------------------------------------
    def new_blob(self) -> FileBlobWriter:
        return self._objects.new_blob()

    def put_part(self, part: Part, check: Callable[[MultipartUpload | None], None]) -> Part:
        with self._db.transaction():
            check(self.get_upload(part.upload_id))
            replaced = self._db.execute(
                "SELECT blob FROM s3_parts WHERE upload_id = ? AND number = ?", (part.upload_id, part.number)
            )
            self._db.execute(
                "INSERT INTO s3_parts (upload_id, number, blob, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(upload_id, number) DO UPDATE SET blob = excluded.blob, doc = excluded.doc",
                (part.upload_id, part.number, part.blob, _encode(part)),
            )
            garbage = [str(blob) for (blob,) in replaced if blob != part.blob]
            self._objects.note_garbage(garbage)
        self._objects.publish(part.blob)
        self._objects.collect(garbage)
        return part

    def get_parts(self, upload_id: str, after: int = 0, limit: int = -1) -> list[Part]:
        rows = self._db.execute(
            "SELECT doc FROM s3_parts WHERE upload_id = ? AND number > ? ORDER BY number LIMIT ?",
            (upload_id, after, limit),
        )
        return [_part_decoder.decode(doc) for (doc,) in rows]

    def open_part(self, part: Part) -> BinaryIO | None:
        return self._objects.open_named(part.blob)

    def assemble(self, parts: Sequence[Part]) -> FileBlobWriter:
        writer = self._objects.new_blob()
        try:
            for part in parts:
                handle = self.open_part(part)
                if handle is None:
                    raise FileNotFoundError(f"part {part.number} of {part.upload_id} is gone")
                with handle:
                    writer.append_file(handle)
            writer.seal()
        except BaseException:
            writer.discard()
            raise
        return writer

    def complete_upload(
        self,
        upload_id: str,
        record: S3Object,
        check: Callable[[MultipartUpload | None, list[Part]], None],
        prepare: Callable[[Bucket | None, S3Object | None], S3Object | None],
    ) -> tuple[S3Object, S3Object | None]:
        with self._db.transaction():
            check(self.get_upload(upload_id), self.get_parts(upload_id))
            written = self._objects.write_locked(record, prepare)
            garbage = self._drop(upload_id)
        self._objects.finish(written)
        self._objects.collect(garbage)
        return written.record, written.replaced
