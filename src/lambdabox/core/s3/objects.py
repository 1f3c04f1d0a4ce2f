"""Objects: write (streamed, verified, committed, then announced), read, copy, delete, tag."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from lambdabox.core.s3 import checksums
from lambdabox.core.s3.conditions import Preconditions, check_copy_source, check_read, check_write
from lambdabox.core.s3.errors import invalid_request, no_such_bucket, no_such_key
from lambdabox.core.s3.listing import Page, list_page
from lambdabox.core.s3.models import Bucket, ContentHeaders, ObjectChange, Requester, S3Object
from lambdabox.core.s3.names import check_key
from lambdabox.core.s3.uploads import SMALL_BYTES, Upload
from lambdabox.core.s3.versions import (
    VersionPage,
    delete_marker_not_allowed,
    label,
    list_versions,
    marker_headers,
    no_such_version,
    version_for,
)
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import ObjectStore

log = logging.getLogger("lambdabox.s3")

MAX_PUT_BYTES = 5 * 1024**3
MAX_METADATA_BYTES = 2048

# Called after a change is committed (the notifier); it must not raise.
OnChange = Callable[[ObjectChange, Requester], None]


@dataclass(frozen=True)
class NewObject:
    """Everything about an object to be written except its bytes."""

    bucket: str
    key: str
    content: ContentHeaders = field(default_factory=ContentHeaders)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    website_redirect: str | None = None


@dataclass(frozen=True)
class Integrity:
    """What the client claims about the bytes; checked once they are all written."""

    content_md5: str | None = None  # base64, from Content-MD5
    content_sha256: str | None = None  # hex, from x-amz-content-sha256
    checksums: dict[str, str | None] = field(default_factory=dict)  # algorithm -> base64 (None: compute)

    def algorithms(self) -> set[str]:
        wanted = {"MD5", *self.checksums}
        if self.content_sha256 is not None:
            wanted.add("SHA256")
        return wanted


@dataclass(frozen=True)
class WriteConditions:
    if_match: str | None = None
    if_none_match: str | None = None


@dataclass(frozen=True)
class Deletion:
    """What a delete did, as DeleteObject answers it (x-amz-version-id, x-amz-delete-marker)."""

    version_id: str | None = None
    delete_marker: bool = False


def check_metadata(metadata: dict[str, str]) -> None:
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise AwsError(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
            400,
            fields={"Size": str(size), "MaxSizeAllowed": str(MAX_METADATA_BYTES)},
        )


def check_content_md5(value: str) -> bytes:
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    return digest


def verify_integrity(digests: dict[str, bytes], integrity: Integrity) -> None:
    if integrity.content_md5 is not None and check_content_md5(integrity.content_md5) != digests["MD5"]:
        raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
    if integrity.content_sha256 is not None and digests["SHA256"].hex() != integrity.content_sha256.lower():
        raise AwsError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            fields={
                "ClientComputedContentSHA256": integrity.content_sha256,
                "S3ComputedContentSHA256": digests["SHA256"].hex(),
            },
        )
    for algorithm, expected in integrity.checksums.items():
        if expected is not None and checksums.encode(digests[algorithm]) != expected:
            raise checksums.mismatch(algorithm)


def _now() -> float:
    return round(time.time(), 3)


class ObjectService:
    def __init__(self, store: ObjectStore, on_change: OnChange | None = None) -> None:
        self._store = store
        self._on_change = on_change

    # -- helpers ---------------------------------------------------------------------------------------
    def bucket(self, name: str) -> Bucket:
        bucket = self._store.get_bucket(name)
        if bucket is None:
            raise no_such_bucket(name)
        return bucket

    def _missing(self, bucket: str, key: str) -> AwsError:
        if self._store.get_bucket(bucket) is None:
            return no_such_bucket(bucket)
        error = no_such_key(key)
        latest = self._store.latest_version(bucket, key)
        if latest is not None and latest.delete_marker:
            error.headers.update(marker_headers(latest))
        return error

    def version_label(self, record: S3Object) -> str | None:
        """x-amz-version-id of a version: absent in a bucket that was never versioned."""
        if record.version_id is not None:
            return record.version_id
        bucket = self._store.get_bucket(record.bucket)
        return "null" if bucket is not None and bucket.versioning is not None else None

    def _find(self, bucket: str, key: str, version_id: str | None, method: str) -> S3Object:
        """The current object, or a version by id (a delete marker is refused as S3 does)."""
        if version_id is None:
            record = self._store.get_object(bucket, key)
            if record is None:
                raise self._missing(bucket, key)
            return record
        record = self._store.get_version(bucket, key, version_id)
        if record is None:
            if self._store.get_bucket(bucket) is None:
                raise no_such_bucket(bucket)
            raise no_such_version(key, version_id)
        if record.delete_marker:
            raise delete_marker_not_allowed(record, method)
        return record

    def _announce(self, change: ObjectChange, requester: Requester) -> None:
        if self._on_change is not None:
            self._on_change(change, requester)

    @staticmethod
    def _created(record: S3Object, event: str) -> ObjectChange:
        return ObjectChange(
            event,
            record.bucket,
            record.key,
            record.size,
            record.etag,
            record.sequencer,
            record.last_modified,
            record.version_id,
        )

    async def _commit(
        self, record: S3Object, discard: Callable[[], Awaitable[None]], conditions: WriteConditions
    ) -> S3Object:
        def check(bucket: Bucket | None, current: S3Object | None) -> S3Object:
            if bucket is None:
                raise no_such_bucket(record.bucket)
            check_write(current, conditions.if_match, conditions.if_none_match)
            return replace(record, version_id=version_for(bucket))

        try:
            if record.size <= SMALL_BYTES:  # one short SQLite transaction: not worth a thread hand-off
                committed, _ = self._store.put_object(record, check)
            else:
                committed, _ = await asyncio.to_thread(self._store.put_object, record, check)
        except AwsError:
            await discard()  # refused: the blob was never named by a record
            raise
        return committed

    # -- writes ----------------------------------------------------------------------------------------
    def start_upload(self, spec: NewObject, algorithms: Iterable[str]) -> Upload:
        """Check what can be checked before the body is read, then open a blob for it."""
        check_key(spec.key)
        check_metadata(spec.metadata)
        self.bucket(spec.bucket)
        return Upload(self._store.new_small_blob(), algorithms)

    def precheck_write(self, bucket: str, key: str, conditions: WriteConditions) -> None:
        """Fail a conditional write before its body is read (checked again at commit)."""
        if conditions.if_match is None and conditions.if_none_match is None:
            return
        check_write(self._store.get_object(bucket, key), conditions.if_match, conditions.if_none_match)

    async def put(
        self,
        upload: Upload,
        spec: NewObject,
        integrity: Integrity,
        conditions: WriteConditions,
        requester: Requester,
        event: str = "ObjectCreated:Put",  # "ObjectCreated:Post" for browser form uploads
    ) -> S3Object:
        try:
            digests = await upload.finish()
            verify_integrity(digests, integrity)
        except BaseException:
            await upload.discard()
            raise
        record = S3Object(
            bucket=spec.bucket,
            key=spec.key,
            blob=upload.blob_id,
            size=upload.size,
            etag=digests["MD5"].hex(),
            last_modified=_now(),
            content=spec.content,
            metadata=spec.metadata,
            checksums={name: checksums.encode(digests[name]) for name in integrity.checksums},
            tags=spec.tags,
            storage_class=spec.storage_class,
            website_redirect=spec.website_redirect,
        )
        committed = await self._commit(record, upload.discard, conditions)
        self._announce(self._created(committed, event), requester)
        return committed

    async def copy(
        self,
        source_bucket: str,
        source_key: str,
        target: NewObject,
        *,
        replace_metadata: bool,
        replace_tags: bool,
        source_conditions: Preconditions,
        conditions: WriteConditions,
        checksum_algorithm: str | None,
        requester: Requester,
        source_version: str | None = None,
    ) -> tuple[S3Object, S3Object]:
        """CopyObject: the bytes are shared (a hard link), metadata copied or replaced."""
        check_key(target.key)
        if replace_metadata:
            check_metadata(target.metadata)
        self.bucket(target.bucket)
        for _ in range(10):
            source = self.source(source_bucket, source_key, source_version, source_conditions)
            unchanged = (
                not replace_metadata
                and target.storage_class == source.storage_class
                and target.website_redirect is None
                and checksum_algorithm is None
            )
            itself = (source_bucket, source_key) == (target.bucket, target.key) and source_version is None
            if itself and unchanged:
                raise invalid_request(
                    "This copy request is illegal because it is trying to copy an object to itself without "
                    "changing the object's metadata, storage class, website redirect location or "
                    "encryption attributes."
                )
            clone = await asyncio.to_thread(self._store.clone_blob, source)
            if clone is not None:
                break
        else:
            raise no_such_key(source_key)
        found = dict(source.checksums)
        checksum_type = source.checksum_type
        if checksum_algorithm is not None and checksum_algorithm not in found:
            found = {
                checksum_algorithm: await asyncio.to_thread(self._checksum_of, source, checksum_algorithm)
            }
            checksum_type = "FULL_OBJECT"
        record = S3Object(
            bucket=target.bucket,
            key=target.key,
            blob=clone.blob_id,
            size=source.size,
            etag=source.etag,
            last_modified=_now(),
            content=target.content if replace_metadata else source.content,
            metadata=target.metadata if replace_metadata else dict(source.metadata),
            checksums=found,
            tags=target.tags if replace_tags else dict(source.tags),
            storage_class=target.storage_class,
            website_redirect=target.website_redirect,
            parts=source.parts,
            checksum_type=checksum_type,
        )
        committed = await self._commit(record, lambda: asyncio.to_thread(clone.discard), conditions)
        self._announce(self._created(committed, "ObjectCreated:Copy"), requester)
        return committed, source

    def source(self, bucket: str, key: str, version_id: str | None, conditions: Preconditions) -> S3Object:
        """The source of a copy: the current object or a version (never a delete marker)."""
        if version_id is None:
            source = self._store.get_object(bucket, key)
            if source is None:
                raise self._missing(bucket, key)
        else:
            found = self._store.get_version(bucket, key, version_id)
            if found is None:
                raise self._missing(bucket, key) if version_id == "null" else no_such_version(key, version_id)
            if found.delete_marker:
                raise invalid_request(
                    "The source of a copy request may not specifically refer to a delete marker by version id."
                )
            source = found
        check_copy_source(source, conditions)
        return source

    def open_bytes(self, record: S3Object) -> BinaryIO:
        handle = self._store.open_blob(record)
        if handle is None:
            raise no_such_key(record.key)  # replaced or removed since the record was read
        return handle

    def _checksum_of(self, record: S3Object, algorithm: str) -> str:
        handle = self._store.open_blob(record)
        if handle is None:
            raise no_such_key(record.key)
        digests = checksums.Digests([algorithm])
        with handle:
            while chunk := handle.read(1 << 20):
                digests.update(chunk)
        return checksums.encode(digests.raw()[algorithm])

    async def delete(
        self, bucket: str, key: str, requester: Requester, version_id: str | None = None
    ) -> Deletion:
        """Without a version id: remove the object, or in a versioned bucket add a delete marker. With
        one: remove that version (or delete marker) for good."""

        def check(found: Bucket | None) -> None:
            if found is None:
                raise no_such_bucket(bucket)

        if version_id is not None:
            removed = await asyncio.to_thread(self._store.delete_version, bucket, key, version_id, check)
            if removed is None:
                return Deletion(version_id)
            change = ObjectChange(
                "ObjectRemoved:Delete", bucket, key, None, None, removed.sequencer, time.time(), version_id
            )
            self._announce(change, requester)
            return Deletion(version_id, removed.delete_marker)
        if self.bucket(bucket).versioning is None:
            gone = await asyncio.to_thread(self._store.delete_object, bucket, key, check)
            if gone is not None:
                change = ObjectChange(
                    "ObjectRemoved:Delete", bucket, key, None, None, gone.sequencer, time.time()
                )
                self._announce(change, requester)
            return Deletion()
        marker = S3Object(bucket, key, "", 0, "", _now(), delete_marker=True)

        def mark(found: Bucket | None, current: S3Object | None) -> S3Object:
            check(found)
            assert found is not None
            return replace(marker, version_id=version_for(found))

        committed, _ = await asyncio.to_thread(self._store.put_object, marker, mark)
        change = ObjectChange(
            "ObjectRemoved:DeleteMarkerCreated",
            bucket,
            key,
            None,
            None,
            committed.sequencer,
            committed.last_modified,
            label(committed),
        )
        self._announce(change, requester)
        return Deletion(label(committed), True)

    # -- reads -----------------------------------------------------------------------------------------
    def list(self, bucket: str, prefix: str, delimiter: str | None, marker: str, max_keys: int) -> Page:
        self.bucket(bucket)
        return list_page(self._store, bucket, prefix, delimiter, marker, max_keys)

    def list_versions(
        self,
        bucket: str,
        prefix: str,
        delimiter: str | None,
        key_marker: str,
        version_marker: str | None,
        max_keys: int,
    ) -> VersionPage:
        return list_versions(self._store, bucket, prefix, delimiter, key_marker, version_marker, max_keys)

    def head(
        self,
        bucket: str,
        key: str,
        conditions: Preconditions | None = None,
        version_id: str | None = None,
    ) -> S3Object:
        record = self._find(bucket, key, version_id, "HEAD")
        if conditions is not None and not conditions.empty:
            check_read(record, conditions)
        return record

    def open(
        self, bucket: str, key: str, conditions: Preconditions, version_id: str | None = None
    ) -> tuple[S3Object, BinaryIO]:
        opened = self._open(bucket, key, version_id)
        if opened is None:
            raise self._missing(bucket, key)
        record, handle = opened
        try:
            if not conditions.empty:
                check_read(record, conditions)
        except BaseException:
            handle.close()
            raise
        return record, handle

    def _open(self, bucket: str, key: str, version_id: str | None) -> tuple[S3Object, BinaryIO] | None:
        if version_id is None:
            return self._store.open_object(bucket, key)
        for _ in range(10):
            record = self._find(bucket, key, version_id, "GET")
            handle = self._store.open_blob(record)
            if handle is not None:
                return record, handle
        raise no_such_version(key, version_id)  # removed while it was being opened

    # -- tags ------------------------------------------------------------------------------------------
    def set_tags(self, bucket: str, key: str, tags: dict[str, str] | None, requester: Requester) -> S3Object:
        def change(found: Bucket | None, current: S3Object | None) -> S3Object:
            if found is None:
                raise no_such_bucket(bucket)
            if current is None:
                raise no_such_key(key)
            return replace(current, tags=dict(tags or {}))

        updated = self._store.update_object(bucket, key, change)
        event = "ObjectTagging:Put" if tags is not None else "ObjectTagging:Delete"
        self._announce(
            ObjectChange(event, bucket, key, None, updated.etag, updated.sequencer, time.time()), requester
        )
        return updated
