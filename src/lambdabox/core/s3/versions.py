"""Versioning: the bucket's state, version ids, the errors around versions and delete markers, and
ListObjectVersions pages.

A bucket starts unversioned; `Enabled` gives every new version a fresh id, `Suspended` writes the
"null" version (replacing any earlier null version). It never goes back to unversioned. The storage
keeps the versions (storage/interfaces.py `ObjectStore.put_object`); this module decides their ids.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.utils import formatdate

from lambdabox.core.s3.errors import invalid_argument, malformed_xml, no_such_bucket, not_implemented
from lambdabox.core.s3.models import Bucket, S3Object, VersionPosition
from lambdabox.core.s3.paging import roll_up
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import ObjectStore

STATES = ("Enabled", "Suspended")
_VERSION_ID = re.compile(r"[A-Za-z0-9_-]{32}")


def new_version_id() -> str:
    return secrets.token_urlsafe(24)  # 32 URL-safe characters, as long as S3's


def version_for(bucket: Bucket) -> str | None:
    """The id of a version written now (None: the bucket was never versioned)."""
    if bucket.versioning == "Enabled":
        return new_version_id()
    return "null" if bucket.versioning == "Suspended" else None


def label(record: S3Object) -> str:
    """The version id as S3 answers it in a versioned context."""
    return record.version_id or "null"


def valid_version_id(value: str) -> bool:
    return value == "null" or _VERSION_ID.fullmatch(value) is not None


def check_version_id(value: str, argument: str = "versionId") -> str:
    if not valid_version_id(value):
        raise invalid_argument("Invalid version id specified", argument, value)
    return value


def check_state(status: str | None, mfa_delete: str | None) -> None:
    if mfa_delete == "Enabled":
        raise not_implemented("MFA delete")
    if mfa_delete not in (None, "Disabled") or (status is not None and status not in STATES):
        raise malformed_xml()


def no_such_version(key: str, version_id: str) -> AwsError:
    return AwsError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": version_id},
    )


def marker_headers(marker: S3Object) -> dict[str, str]:
    return {"x-amz-delete-marker": "true", "x-amz-version-id": label(marker)}


def delete_marker_not_allowed(marker: S3Object, method: str) -> AwsError:
    """GET or HEAD of a delete marker by version id."""
    return AwsError(
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        405,
        fields={"Method": method, "ResourceType": "DeleteMarker"},
        headers={**marker_headers(marker), "Last-Modified": formatdate(marker.last_modified, usegmt=True)},
    )


@dataclass(frozen=True)
class VersionPage:
    entries: list[tuple[S3Object, bool]]  # (a version or delete marker, is it the latest)
    common_prefixes: list[str]
    truncated: bool
    next_key_marker: str | None
    next_version_marker: str | None


def list_versions(
    store: ObjectStore,
    bucket: str,
    prefix: str,
    delimiter: str | None,
    key_marker: str,
    version_marker: str | None,
    max_keys: int,
) -> VersionPage:
    """Versions after (key_marker, version_marker), or after every version of key_marker, by key and
    newest first, with S3's delimiter roll-up."""
    if store.get_bucket(bucket) is None:
        raise no_such_bucket(bucket)
    previous: str | None = None  # key of the entry before the page: its later versions are not latest
    start: VersionPosition
    if version_marker is not None:
        if not key_marker:
            raise invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
                "version-id-marker",
                version_marker,
            )
        found = store.version_position(
            bucket, key_marker, check_version_id(version_marker, "version-id-marker")
        )
        if found is None:
            raise invalid_argument("Invalid version id specified", "version-id-marker", version_marker)
        start, previous = found, key_marker
    else:
        start = (key_marker, 2, "") if key_marker else (prefix, -1, "")

    def fetch(after: VersionPosition, limit: int) -> list[tuple[str, VersionPosition, S3Object]]:
        return [(r.key, position, r) for r, position in store.list_versions(bucket, prefix, after, limit)]

    page = roll_up(fetch, start, lambda key: (key, -1, ""), prefix, delimiter, key_marker, max_keys)
    entries = []
    for record in page.items:
        entries.append((record, record.key != previous))
        previous = record.key
    next_key = next_version = None
    if page.truncated:
        if isinstance(page.last, str):
            next_key = page.last
        elif page.last is not None:
            next_key, next_version = page.last.key, label(page.last)
    return VersionPage(entries, page.common_prefixes, page.truncated, next_key, next_version)
