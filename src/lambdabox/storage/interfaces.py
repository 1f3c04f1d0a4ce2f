"""The storage contracts the core depends on. Backends: embedded (SQLite + files), later cluster."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from lambdabox.core.models import Alias, CodeRef, Function, FunctionVersion, QueuedEvent
from lambdabox.core.s3.models import Bucket, MultipartUpload, Part, S3Object, VersionPosition


class FunctionStore(Protocol):
    """Functions, their versions and aliases. Writes inside `transaction()` commit together."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def get_function(self, name: str) -> Function | None: ...
    def list_functions(self) -> list[Function]: ...
    def put_function(self, function: Function) -> None: ...
    def delete_function(self, name: str) -> None: ...  # with its versions and aliases
    def get_version(self, name: str, version: str) -> FunctionVersion | None: ...
    def list_versions(self, name: str) -> list[FunctionVersion]: ...  # $LATEST first, then ascending
    def put_version(self, version: FunctionVersion) -> None: ...
    def delete_version(self, name: str, version: str) -> None: ...
    def get_alias(self, function_name: str, alias: str) -> Alias | None: ...
    def list_aliases(self, function_name: str) -> list[Alias]: ...
    def put_alias(self, alias: Alias) -> None: ...
    def delete_alias(self, function_name: str, alias: str) -> None: ...


class CodeStore(Protocol):
    """Deployment packages, content-addressed; `task_root` is the unpacked, read-only tree."""

    def put_zip(self, data: bytes) -> CodeRef: ...
    def task_root(self, code: CodeRef) -> Path: ...
    def zip_path(self, code: CodeRef) -> Path: ...
    def opt_dir(self, layers: Sequence[CodeRef]) -> Path: ...  # the layers merged in order, read-only
    def collect(
        self, live: Iterable[CodeRef], layer_sets: Iterable[Sequence[CodeRef]] = (), *, idle_for: float = 0.0
    ) -> int: ...  # what nothing uses (and nobody wrote or reused for `idle_for` s) goes


class EventQueue(Protocol):
    """Durable queue of accepted asynchronous invocations (at-least-once)."""

    def enqueue(self, event: QueuedEvent) -> None: ...
    def claim(self, now: float, limit: int) -> list[QueuedEvent]: ...
    def complete(self, event_id: str) -> None: ...
    def reschedule(self, event_id: str, attempts: int, not_before: float) -> None: ...
    def release_claims(self) -> int: ...  # at start: events claimed by a crashed process run again
    def next_due(self) -> float | None: ...


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # epoch ms
    message: str
    ingestion_time: int
    stream: str
    event_id: int


@dataclass(frozen=True)
class LogStream:
    name: str
    created: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    stored_bytes: int


@dataclass(frozen=True)
class LogGroupInfo:
    name: str
    created: int
    stored_bytes: int
    retention_days: int | None = None
    log_group_class: str = "STANDARD"
    tags: Mapping[str, str] = field(default_factory=dict)


# A position in a log group's event order: (timestamp, event_id). Events are read in this order.
EventPosition = tuple[int, int]


class LogStore(Protocol):
    """CloudWatch-Logs-like storage of log groups, streams and events."""

    def ensure_group(self, group: str) -> None: ...
    def ensure_stream(self, group: str, stream: str) -> None: ...
    # (group, stream) -> its events, (timestamp ms, message): all of them in one transaction
    def append(self, batches: Mapping[tuple[str, str], Sequence[tuple[int, str]]]) -> None: ...
    def delete_group(self, group: str) -> bool: ...
    def list_streams(self, group: str, prefix: str | None = None) -> list[LogStream]: ...
    def create_group(self, group: str, log_group_class: str, tags: Mapping[str, str]) -> bool: ...
    def get_group(self, group: str) -> LogGroupInfo | None: ...
    def describe_groups(self, prefix: str | None = None) -> list[LogGroupInfo]: ...  # by name
    def set_retention(self, group: str, days: int | None) -> bool: ...
    def set_tags(self, group: str, tags: Mapping[str, str]) -> bool: ...  # replaces all tags
    def create_stream(self, group: str, stream: str) -> bool: ...  # False when it exists
    def get_stream(self, group: str, stream: str) -> LogStream | None: ...
    def delete_stream(self, group: str, stream: str) -> bool: ...
    def read_events(
        self,
        group: str,
        *,
        limit: int,
        streams: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,  # exclusive
        after: EventPosition | None = None,  # exclusive
        before: EventPosition | None = None,  # exclusive
        descending: bool = False,
    ) -> list[LogEvent]: ...  # ordered by (timestamp, event_id)


class BlobWriter(Protocol):
    """The bytes of one new object on their way to storage: `write` them, `seal` (durable), then commit
    the object record naming `blob_id` through `ObjectStore.put_object`, or `discard`."""

    @property
    def blob_id(self) -> str: ...
    @property
    def in_memory(self) -> bool: ...  # held in memory until its record is committed: nothing to flush
    def write(self, data: bytes | bytearray) -> None: ...
    def seal(self) -> None: ...
    def discard(self) -> None: ...


class ObjectStore(Protocol):
    """S3 buckets and objects. Checks passed in run inside the store's transaction, so a check and the
    change it guards are atomic; they raise to refuse. Object bytes are immutable blobs: a committed
    object never changes its bytes, and a reader that opened one keeps reading it whole."""

    def create_bucket(self, bucket: Bucket) -> bool: ...  # False when the name exists
    def get_bucket(self, name: str) -> Bucket | None: ...
    def list_buckets(self) -> list[Bucket]: ...  # by name
    def update_bucket(self, name: str, change: Callable[[Bucket | None], Bucket]) -> Bucket: ...
    def delete_bucket(
        self, name: str, check: Callable[[Bucket | None, bool], None]
    ) -> None: ...  # bool: empty

    def new_blob(self) -> BlobWriter: ...
    def new_small_blob(self) -> BlobWriter: ...  # a PutObject body: stored with its record while small
    def clone_blob(self, source: S3Object) -> BlobWriter | None: ...  # sealed; None if `source` is gone
    def put_object(
        self, record: S3Object, check: Callable[[Bucket | None, S3Object | None], S3Object | None]
    ) -> tuple[S3Object, S3Object | None]: ...  # (committed with its sequencer, replaced version)
    # `put_object` commits a new latest version (an object or a delete marker; `check` may return the
    # record to write instead, e.g. with its version id): it replaces the version with the same id and
    # keeps any other current version as noncurrent.
    def update_object(
        self, bucket: str, key: str, change: Callable[[Bucket | None, S3Object | None], S3Object]
    ) -> S3Object: ...  # metadata only (tags): the blob stays
    def delete_object(
        self, bucket: str, key: str, check: Callable[[Bucket | None], None]
    ) -> S3Object | None: ...  # the removed version
    def get_object(self, bucket: str, key: str) -> S3Object | None: ...
    def open_object(self, bucket: str, key: str) -> tuple[S3Object, BinaryIO] | None: ...
    def open_blob(self, record: S3Object) -> BinaryIO | None: ...  # None once the blob was replaced
    def list_objects(self, bucket: str, prefix: str, after: str, limit: int) -> list[S3Object]: ...

    # versions ("null" or None is the null version)
    def get_version(self, bucket: str, key: str, version_id: str | None) -> S3Object | None: ...
    def latest_version(self, bucket: str, key: str) -> S3Object | None: ...  # a delete marker included
    def delete_version(
        self, bucket: str, key: str, version_id: str | None, check: Callable[[Bucket | None], None]
    ) -> S3Object | None: ...  # removed for good (None: no such version); the next becomes latest
    def version_position(self, bucket: str, key: str, version_id: str | None) -> VersionPosition | None: ...
    def list_versions(
        self, bucket: str, prefix: str, after: VersionPosition, limit: int
    ) -> list[tuple[S3Object, VersionPosition]]: ...  # by key, newest first


class UploadStore(Protocol):
    """Multipart uploads and their parts. Parts are blobs written like objects; completing an upload
    commits the assembled object (as `ObjectStore.put_object` does) and drops the upload and its parts
    in one transaction."""

    def new_blob(self) -> BlobWriter: ...
    def create_upload(self, upload: MultipartUpload, check: Callable[[Bucket | None], None]) -> None: ...
    def get_upload(self, upload_id: str) -> MultipartUpload | None: ...
    def list_uploads(
        self, bucket: str, prefix: str, after: tuple[str, str], limit: int
    ) -> list[MultipartUpload]: ...  # by (key, upload id), after (key, upload id) exclusive
    def put_part(self, part: Part, check: Callable[[MultipartUpload | None], None]) -> Part: ...
    def get_parts(self, upload_id: str, after: int = 0, limit: int = -1) -> list[Part]: ...  # by number
    def open_part(self, part: Part) -> BinaryIO | None: ...
    def assemble(self, parts: Sequence[Part]) -> BlobWriter: ...  # the parts' bytes, concatenated, sealed
    def complete_upload(
        self,
        upload_id: str,
        record: S3Object,
        check: Callable[[MultipartUpload | None, list[Part]], None],
        prepare: Callable[[Bucket | None, S3Object | None], S3Object | None],
    ) -> tuple[S3Object, S3Object | None]: ...
    def abort_upload(
        self, upload_id: str, check: Callable[[MultipartUpload | None], None]
    ) -> None: ...  # the upload and its parts are gone
