"""S3 domain records. Frozen dataclasses; changes produce new records (`dataclasses.replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    """The current version of a key. `blob` names the stored bytes; they never change once written."""

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
    version_id: str | None = None  # versioning comes later; None is S3's "null" version
    sequencer: str = ""  # hex, increases with every change of the key (event ordering)

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
