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
from lambdabox.core.s3.uploads import Upload
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


def _verify(digests: dict[str, bytes], integrity: Integrity) -> None:
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
        return no_such_key(key) if self._store.get_bucket(bucket) is not None else no_such_bucket(bucket)

    def _announce(self, change: ObjectChange, requester: Requester) -> None:
        if self._on_change is not None:
            self._on_change(change, requester)

    @staticmethod
    def _created(record: S3Object, event: str) -> ObjectChange:
        return ObjectChange(
            event, record.bucket, record.key, record.size, record.etag, record.sequencer, record.last_modified
        )

    async def _commit(
        self, record: S3Object, discard: Callable[[], Awaitable[None]], conditions: WriteConditions
    ) -> S3Object:
        def check(bucket: Bucket | None, current: S3Object | None) -> None:
            if bucket is None:
                raise no_such_bucket(record.bucket)
            check_write(current, conditions.if_match, conditions.if_none_match)

        try:
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
        return Upload(self._store.new_blob(), algorithms)

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
    ) -> S3Object:
        try:
            digests = await upload.finish()
            _verify(digests, integrity)
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
        self._announce(self._created(committed, "ObjectCreated:Put"), requester)
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
    ) -> tuple[S3Object, S3Object]:
        """CopyObject: the bytes are shared (a hard link), metadata copied or replaced."""
        check_key(target.key)
        if replace_metadata:
            check_metadata(target.metadata)
        self.bucket(target.bucket)
        for _ in range(10):
            source = self._store.get_object(source_bucket, source_key)
            if source is None:
                raise self._missing(source_bucket, source_key)
            check_copy_source(source, source_conditions)
            unchanged = (
                not replace_metadata
                and target.storage_class == source.storage_class
                and target.website_redirect is None
                and checksum_algorithm is None
            )
            if (source_bucket, source_key) == (target.bucket, target.key) and unchanged:
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
        if checksum_algorithm is not None and checksum_algorithm not in found:
            found = {
                checksum_algorithm: await asyncio.to_thread(self._checksum_of, source, checksum_algorithm)
            }
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
        )
        committed = await self._commit(record, lambda: asyncio.to_thread(clone.discard), conditions)
        self._announce(self._created(committed, "ObjectCreated:Copy"), requester)
        return committed, source

    def _checksum_of(self, record: S3Object, algorithm: str) -> str:
        handle = self._store.open_blob(record)
        if handle is None:
            raise no_such_key(record.key)
        digests = checksums.Digests([algorithm])
        with handle:
            while chunk := handle.read(1 << 20):
                digests.update(chunk)
        return checksums.encode(digests.raw()[algorithm])

    async def delete(self, bucket: str, key: str, requester: Requester) -> S3Object | None:
        def check(found: Bucket | None) -> None:
            if found is None:
                raise no_such_bucket(bucket)

        removed = await asyncio.to_thread(self._store.delete_object, bucket, key, check)
        if removed is not None:
            change = ObjectChange(
                "ObjectRemoved:Delete", bucket, key, None, None, removed.sequencer, time.time()
            )
            self._announce(change, requester)
        return removed

    # -- reads -----------------------------------------------------------------------------------------
    def list(self, bucket: str, prefix: str, delimiter: str | None, marker: str, max_keys: int) -> Page:
        self.bucket(bucket)
        return list_page(self._store, bucket, prefix, delimiter, marker, max_keys)

    def head(self, bucket: str, key: str, conditions: Preconditions | None = None) -> S3Object:
        record = self._store.get_object(bucket, key)
        if record is None:
            raise self._missing(bucket, key)
        if conditions is not None and not conditions.empty:
            check_read(record, conditions)
        return record

    def open(self, bucket: str, key: str, conditions: Preconditions) -> tuple[S3Object, BinaryIO]:
        opened = self._store.open_object(bucket, key)
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
