"""S3 domain records. Frozen dataclasses; changes produce new records (`dataclasses.replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lambdabox.core.s3.cors import CorsRule


@dataclass(frozen=True)
class FilterRule:
    name: str  # "Prefix" | "Suffix" (AWS answers them capitalized)
    value: str


@dataclass(frozen=True)
class NotificationTarget:
    """One Lambda, queue or topic configuration of a bucket's notification configuration."""

    kind: str  # "lambda" | "queue" | "topic"
    id: str
    arn: str
    events: tuple[str, ...]
    rules: tuple[FilterRule, ...] = ()

    @property
    def prefix(self) -> str:
        return next((r.value for r in self.rules if r.name == "Prefix"), "")

    @property
    def suffix(self) -> str:
        return next((r.value for r in self.rules if r.name == "Suffix"), "")


@dataclass(frozen=True)
class NotificationConfiguration:
    targets: tuple[NotificationTarget, ...] = ()
    event_bridge: bool = False


@dataclass(frozen=True)
class Bucket:
    name: str
    created: float  # epoch seconds
    region: str
    location_constraint: str | None = None
    tags: dict[str, str] | None = None  # None: no tag set at all (GetBucketTagging → NoSuchTagSet)
    notifications: NotificationConfiguration = field(default_factory=NotificationConfiguration)
    versioning: str | None = None  # None (never configured) | "Enabled" | "Suspended"
    cors: tuple[CorsRule, ...] | None = None  # None: no CORS configuration (NoSuchCORSConfiguration)
    policy: str | None = None  # the bucket policy as sent (stored; enforced by IAM policy evaluation)


@dataclass(frozen=True)
class ContentHeaders:
    """The representation headers S3 stores with an object and answers on GET/HEAD."""

    content_type: str = "binary/octet-stream"
    content_encoding: str | None = None
    content_disposition: str | None = None
    content_language: str | None = None
    cache_control: str | None = None
    expires: str | None = None  # kept as sent: S3 echoes the header verbatim


@dataclass(frozen=True)
class S3Object:
    """One version of a key (or a delete marker, which has no bytes: `blob` is empty). `blob` names the
    stored bytes; they never change once written."""

    bucket: str
    key: str
    blob: str
    size: int
    etag: str  # hex, without quotes
    last_modified: float  # epoch seconds (ms precision)
    content: ContentHeaders = field(default_factory=ContentHeaders)
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-* (lower-case names)
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm (e.g. "CRC32") -> base64 value
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    website_redirect: str | None = None
    # None: written while the bucket was unversioned; "null": written while versioning was suspended
    # (both are S3's null version); else the id of a version written while versioning was enabled.
    version_id: str | None = None
    sequencer: str = ""  # hex, increases with every change of the key (event ordering)
    delete_marker: bool = False
    parts: tuple[int, ...] = ()  # part sizes of an object assembled by a multipart upload
    checksum_type: str = "FULL_OBJECT"  # "COMPOSITE": checksums are `<base64>-<parts>` of the parts'

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


# (key, rank, seq): where a version sits in ListObjectVersions order (by key, then newest first). Rank 0
# is the latest version when it is an object, 1 any other version or delete marker (ordered by `seq`,
# descending); as a starting point, -1 means "before every version of key", 2 "after all of them".
VersionPosition = tuple[str, int, str]


@dataclass(frozen=True)
class MultipartUpload:
    """An upload in progress: what the object will be, except its bytes (the parts)."""

    upload_id: str  # sorts by initiation time (ListMultipartUploads orders and pages by it)
    bucket: str
    key: str
    initiated: float  # epoch seconds
    content: ContentHeaders = field(default_factory=ContentHeaders)
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    website_redirect: str | None = None
    checksum_algorithm: str | None = None
    checksum_type: str | None = None  # "COMPOSITE" | "FULL_OBJECT" when an algorithm is set


@dataclass(frozen=True)
class Part:
    upload_id: str
    number: int
    blob: str
    size: int
    etag: str  # hex MD5 of the part, without quotes
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64 value

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


@dataclass(frozen=True)
class ObjectChange:
    """What a successful write or delete did, for the notifier."""

    event_name: str  # e.g. "ObjectCreated:Put", "ObjectRemoved:Delete"
    bucket: str
    key: str
    size: int | None
    etag: str | None
    sequencer: str
    time: float  # epoch seconds
    version_id: str | None = None


@dataclass(frozen=True)
class Requester:
    """Who made an S3 request, as S3 puts it into event records."""

    request_id: str
    host_id: str
    source_ip: str
    principal_id: str
