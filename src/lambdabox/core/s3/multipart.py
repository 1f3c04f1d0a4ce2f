"""Multipart uploads: create, upload or copy parts (streamed and hashed like PutObject), complete with
S3's rules, abort, list parts and uploads.

Completing checks the requested parts (ascending, each uploaded with that ETag, every one but the last
at least 5 MiB), derives the ETag and checksums from the parts' digests (core/s3/composite.py), has the
store concatenate the part files into the object's blob, then commits the object (a new version, as
PutObject does) together with the removal of the upload and its parts, and announces
`ObjectCreated:CompleteMultipartUpload`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from lambdabox.core.s3 import checksums
from lambdabox.core.s3.composite import FULL_OBJECT_ALGORITHMS, combine_crc, composite, multipart_etag
from lambdabox.core.s3.conditions import check_write
from lambdabox.core.s3.errors import invalid_argument, invalid_request, malformed_xml, no_such_bucket
from lambdabox.core.s3.models import Bucket, MultipartUpload, ObjectChange, Part, Requester, S3Object
from lambdabox.core.s3.names import check_key
from lambdabox.core.s3.objects import (
    MAX_PUT_BYTES,
    Integrity,
    NewObject,
    ObjectService,
    OnChange,
    WriteConditions,
    check_metadata,
    verify_integrity,
)
from lambdabox.core.s3.paging import Rolled, roll_up
from lambdabox.core.s3.uploads import BUFFER_BYTES, Upload
from lambdabox.core.s3.versions import version_for
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import UploadStore

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = MAX_PUT_BYTES
MAX_PARTS = 10_000
_BEYOND = "\U0010ffff"


def no_such_upload(upload_id: str) -> AwsError:
    return AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed.",
        404,
        fields={"UploadId": upload_id},
    )


def invalid_part(upload_id: str, number: int, etag: str) -> AwsError:
    return AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or "
        "the specified entity tag may not have matched the part's entity tag.",
        400,
        fields={"UploadId": upload_id, "PartNumber": str(number), "ETag": etag},
    )


def check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive", "partNumber", str(number)
        )


def checksum_settings(algorithm: str | None, kind: str | None) -> tuple[str | None, str | None]:
    """The (algorithm, checksum type) of a new upload, with S3's defaults and refusals."""
    if algorithm is None:
        if kind is not None:
            raise invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )
        return None, None
    algorithm = checksums.check_algorithm(algorithm)
    kind = kind or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    if kind not in ("COMPOSITE", "FULL_OBJECT"):
        raise invalid_request("Value for x-amz-checksum-type header is invalid.")
    if kind == "FULL_OBJECT" and algorithm not in FULL_OBJECT_ALGORITHMS:
        raise invalid_request(
            f"The FULL_OBJECT checksum type cannot be used with the {algorithm.lower()} checksum algorithm."
        )
    if kind == "COMPOSITE" and algorithm == "CRC64NVME":
        raise invalid_request(
            "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."
        )
    return algorithm, kind


def _now() -> float:
    return round(time.time(), 3)


def _new_upload_id() -> str:
    """Sorts by creation time (uploads of a key are listed, and paged, in upload id order)."""
    return f"{time.time_ns():016x}{secrets.token_urlsafe(30)}"


@dataclass(frozen=True)
class CompletedPart:
    """One entry of a CompleteMultipartUpload request."""

    number: int
    etag: str
    checksums: dict[str, str] = field(default_factory=dict)


class MultipartService:
    def __init__(self, store: UploadStore, objects: ObjectService, on_change: OnChange | None = None) -> None:
        self._store = store
        self._objects = objects
        self._on_change = on_change

    def get(self, bucket: str, key: str, upload_id: str) -> MultipartUpload:
        upload = self._store.get_upload(upload_id)
        if upload is None or (upload.bucket, upload.key) != (bucket, key):
            self._objects.bucket(bucket)
            raise no_such_upload(upload_id)
        return upload

    def create(self, spec: NewObject, algorithm: str | None, kind: str | None) -> MultipartUpload:
        check_key(spec.key)
        check_metadata(spec.metadata)
        algorithm, kind = checksum_settings(algorithm, kind)
        upload = MultipartUpload(
            upload_id=_new_upload_id(),
            bucket=spec.bucket,
            key=spec.key,
            initiated=_now(),
            content=spec.content,
            metadata=spec.metadata,
            tags=spec.tags,
            storage_class=spec.storage_class,
            website_redirect=spec.website_redirect,
            checksum_algorithm=algorithm,
            checksum_type=kind,
        )

        def check(bucket: Bucket | None) -> None:
            if bucket is None:
                raise no_such_bucket(spec.bucket)

        self._store.create_upload(upload, check)
        return upload

    # -- parts -----------------------------------------------------------------------------------------
    def _part_writer(self, upload: MultipartUpload, number: int, integrity: Integrity) -> Upload:
        """A blob writer for a part, hashing what the request claims and the upload's algorithm."""
        check_part_number(number)
        expected = upload.checksum_algorithm
        others = sorted(name for name in integrity.checksums if name != expected)
        if expected is not None and others:
            raise invalid_request(
                f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, "
                f"actual checksum Type: {others[0].lower()}"
            )
        return Upload(self._store.new_blob(), {*integrity.algorithms(), *filter(None, [expected])})

    def start_part(
        self, bucket: str, key: str, upload_id: str, number: int, integrity: Integrity
    ) -> tuple[MultipartUpload, Upload]:
        upload = self.get(bucket, key, upload_id)
        return upload, self._part_writer(upload, number, integrity)

    async def put_part(
        self, upload: MultipartUpload, number: int, writer: Upload, integrity: Integrity
    ) -> Part:
        try:
            digests = await writer.finish()
            verify_integrity(digests, integrity)
        except BaseException:
            await writer.discard()
            raise
        algorithms = {*integrity.checksums, *filter(None, [upload.checksum_algorithm])}
        part = Part(
            upload_id=upload.upload_id,
            number=number,
            blob=writer.blob_id,
            size=writer.size,
            etag=digests["MD5"].hex(),
            last_modified=_now(),
            checksums={name: checksums.encode(digests[name]) for name in sorted(algorithms)},
        )

        def check(found: MultipartUpload | None) -> None:
            if found is None:
                raise no_such_upload(upload.upload_id)

        try:
            return await asyncio.to_thread(self._store.put_part, part, check)
        except AwsError:
            await writer.discard()
            raise

    async def copy_part(
        self, upload: MultipartUpload, number: int, source: S3Object, span: tuple[int, int] | None
    ) -> Part:
        """UploadPartCopy: the source's bytes (or the inclusive byte span of them) become the part."""
        first, last = span if span is not None else (0, source.size - 1)
        writer = self._part_writer(upload, number, Integrity())
        handle = self._objects.open_bytes(source)
        try:
            if first:
                handle.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(BUFFER_BYTES, remaining))
                if not chunk:
                    raise OSError("object file ended early")
                remaining -= len(chunk)
                await writer.write(chunk)
        except BaseException:
            await writer.discard()
            raise
        finally:
            handle.close()
        return await self.put_part(upload, number, writer, Integrity())

    def parts(self, upload: MultipartUpload, after: int, limit: int) -> tuple[list[Part], bool]:
        found = self._store.get_parts(upload.upload_id, after, limit + 1)
        return found[:limit], len(found) > limit

    # -- completion ------------------------------------------------------------------------------------
    def _chosen(self, upload: MultipartUpload, requested: Sequence[CompletedPart]) -> list[Part]:
        if not requested:
            raise malformed_xml()
        numbers = [entry.number for entry in requested]
        if any(b <= a for a, b in pairwise(numbers)):
            raise AwsError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts list must be specified in order by "
                "part number.",
                400,
                fields={"UploadId": upload.upload_id},
            )
        stored = {part.number: part for part in self._store.get_parts(upload.upload_id)}
        algorithm = upload.checksum_algorithm
        chosen = []
        for entry in requested:
            part = stored.get(entry.number)
            if part is None or entry.etag.strip().strip('"') != part.etag:
                raise invalid_part(upload.upload_id, entry.number, entry.etag)
            if algorithm is not None:
                value = entry.checksums.get(algorithm)
                if value is None and upload.checksum_type == "COMPOSITE":
                    raise invalid_request(
                        f"The upload was created using a {algorithm.lower()} checksum. The complete request "
                        f"must include the checksum for each part. It was missing for part {entry.number} "
                        "in the request."
                    )
                if value is not None and value != part.checksums.get(algorithm):
                    raise invalid_part(upload.upload_id, entry.number, entry.etag)
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_BYTES:
                raise AwsError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    400,
                    fields={
                        "ProposedSize": str(part.size),
                        "MinSizeAllowed": str(MIN_PART_BYTES),
                        "PartNumber": str(part.number),
                        "ETag": part.etag,
                    },
                )
        return chosen

    @staticmethod
    def _checksums(
        upload: MultipartUpload, chosen: Sequence[Part], whole: Mapping[str, str]
    ) -> dict[str, str]:
        algorithm = upload.checksum_algorithm
        if algorithm is None:
            return {}
        if upload.checksum_type == "COMPOSITE":
            value = composite(algorithm, [part.checksums[algorithm] for part in chosen])
        else:
            value = combine_crc(algorithm, [(part.checksums[algorithm], part.size) for part in chosen])
        expected = whole.get(algorithm)
        if expected is not None and expected.split("-", 1)[0] != value.split("-", 1)[0]:
            raise checksums.mismatch(algorithm)
        return {algorithm: value}

    async def complete(
        self,
        upload: MultipartUpload,
        requested: Sequence[CompletedPart],
        *,
        whole_checksums: Mapping[str, str],
        object_size: int | None,
        conditions: WriteConditions,
        requester: Requester,
    ) -> S3Object:
        chosen = self._chosen(upload, requested)
        size = sum(part.size for part in chosen)
        if object_size is not None and object_size != size:
            raise invalid_request(
                f"The provided 'x-amz-mp-object-size' header value {object_size} does not match the object "
                f"size {size}."
            )
        record = S3Object(
            bucket=upload.bucket,
            key=upload.key,
            blob="",
            size=size,
            etag=multipart_etag([part.etag for part in chosen]),
            last_modified=_now(),
            content=upload.content,
            metadata=upload.metadata,
            checksums=self._checksums(upload, chosen, whole_checksums),
            tags=upload.tags,
            storage_class=upload.storage_class,
            website_redirect=upload.website_redirect,
            parts=tuple(part.size for part in chosen),
            checksum_type=upload.checksum_type or "FULL_OBJECT",
        )
        try:
            blob = await asyncio.to_thread(self._store.assemble, chosen)
        except FileNotFoundError:
            raise no_such_upload(upload.upload_id) from None  # aborted (or completed) meanwhile
        record = replace(record, blob=blob.blob_id)
        used = {part.number: part.blob for part in chosen}

        def check(found: MultipartUpload | None, parts: list[Part]) -> None:
            if found is None:
                raise no_such_upload(upload.upload_id)
            current = {part.number: part.blob for part in parts}
            for number, blob_id in used.items():
                if current.get(number) != blob_id:  # replaced while the object was assembled
                    raise invalid_part(upload.upload_id, number, "")

        def prepare(bucket: Bucket | None, current: S3Object | None) -> S3Object:
            if bucket is None:
                raise no_such_bucket(upload.bucket)
            check_write(current, conditions.if_match, conditions.if_none_match)
            return replace(record, version_id=version_for(bucket))

        try:
            committed, _ = await asyncio.to_thread(
                self._store.complete_upload, upload.upload_id, record, check, prepare
            )
        except BaseException:
            await asyncio.to_thread(blob.discard)
            raise
        if self._on_change is not None:
            change = ObjectChange(
                "ObjectCreated:CompleteMultipartUpload",
                committed.bucket,
                committed.key,
                committed.size,
                committed.etag,
                committed.sequencer,
                committed.last_modified,
                committed.version_id,
            )
            self._on_change(change, requester)
        return committed

    def abort(self, upload: MultipartUpload) -> None:
        def check(found: MultipartUpload | None) -> None:
            if found is None:
                raise no_such_upload(upload.upload_id)

        self._store.abort_upload(upload.upload_id, check)

    # -- listing ---------------------------------------------------------------------------------------
    def list_uploads(
        self,
        bucket: str,
        prefix: str,
        delimiter: str | None,
        key_marker: str,
        upload_id_marker: str | None,
        max_uploads: int,
    ) -> Rolled[MultipartUpload]:
        """Uploads by key, then by initiation; after (key_marker, upload_id_marker), or after every
        upload of key_marker (the upload id marker is ignored without a key marker)."""
        self._objects.bucket(bucket)
        start = (key_marker, upload_id_marker or _BEYOND) if key_marker else (prefix, "")

        def fetch(after: tuple[str, str], limit: int) -> list[tuple[str, tuple[str, str], MultipartUpload]]:
            return [
                (u.key, (u.key, u.upload_id), u)
                for u in self._store.list_uploads(bucket, prefix, after, limit)
            ]

        return roll_up(fetch, start, lambda key: (key, ""), prefix, delimiter, key_marker, max_uploads)
