"""Domain records. Frozen dataclasses; changes produce new records (`dataclasses.replace`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lambdabox.core.http.stream import ResponseStream

LATEST = "$LATEST"
MAX_UNZIPPED_BYTES = 262_144_000  # a function's code and its layers, unzipped (AWS: 250 MB)


class FunctionState(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    FAILED = "Failed"
    INACTIVE = "Inactive"


class UpdateStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


@dataclass(frozen=True)
class CodeRef:
    """A deployment package in the code store: `sha256` is base64 as AWS shows it, `key` the store's id."""

    key: str
    sha256: str
    size: int
    unzipped_size: int


@dataclass(frozen=True)
class LayerRef:
    """A layer version a function uses: its ARN, and its content (kept even after the version is deleted)."""

    arn: str
    code: CodeRef


@dataclass(frozen=True)
class LoggingConfig:
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None


@dataclass(frozen=True)
class FunctionVersion:
    """One version of a function: `$LATEST` (mutable through updates) or an immutable published number."""

    name: str
    version: str
    code: CodeRef
    runtime: str
    handler: str
    role: str
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    ephemeral_storage: int = 512
    environment: dict[str, str] | None = None
    architectures: tuple[str, ...] = ("x86_64",)
    tracing_mode: str = "PassThrough"
    layers: tuple[LayerRef, ...] = ()  # extracted in this order under /opt
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    dead_letter_target: str | None = None
    kms_key_arn: str | None = None
    package_type: str = "Zip"
    last_modified: str = ""
    revision_id: str = ""
    state: FunctionState = FunctionState.PENDING
    state_reason: str | None = "The function is being created."
    state_reason_code: str | None = "Creating"
    last_update_status: UpdateStatus | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    snap_start: str = "None"  # SnapStart ApplyOn: "PublishedVersions" or "None"

    @property
    def log_group(self) -> str:
        return self.logging.log_group or f"/aws/lambda/{self.name}"

    @property
    def snapshotted(self) -> bool:
        """SnapStart applies: a published version of a function with SnapStart on published versions."""
        return self.snap_start == "PublishedVersions" and self.version != LATEST


@dataclass(frozen=True)
class Alias:
    function_name: str
    name: str
    function_version: str
    description: str = ""
    additional_weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = ""


@dataclass(frozen=True)
class EventInvokeConfig:
    qualifier: str
    maximum_retry_attempts: int | None = None
    maximum_event_age_seconds: int | None = None
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = 0.0


@dataclass(frozen=True)
class ProvisionedConcurrencyConfig:
    """Pre-initialized environments requested for one alias or published version."""

    qualifier: str
    requested: int
    last_modified: str = ""


@dataclass(frozen=True)
class Function:
    """Function-level (unversioned) settings."""

    name: str
    created: float
    last_published: int = 0  # highest version number ever published; numbers are never reused
    reserved_concurrency: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Resource policy statements per qualifier ("" = unqualified), each a JSON-ready statement dict.
    policies: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    policy_revisions: dict[str, str] = field(default_factory=dict)
    event_invoke_configs: dict[str, EventInvokeConfig] = field(default_factory=dict)
    provisioned_concurrency: dict[str, ProvisionedConcurrencyConfig] = field(default_factory=dict)


class InvocationType(StrEnum):
    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


@dataclass(frozen=True)
class InvocationRequest:
    """What an execution environment needs to run one invocation."""

    request_id: str
    payload: bytes
    invoked_arn: str
    client_context: str | None = None  # JSON text
    cognito_identity: str | None = None  # JSON text
    trace_id: str | None = None
    content_type: str = "application/json"
    tail_logs: bool = False
    # Set when the caller can take a streamed response (function URLs in RESPONSE_STREAM mode).
    response_stream: ResponseStream | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    payload: bytes
    executed_version: str
    function_error: str | None = None  # "Unhandled" when the function or runtime failed
    error_type: str | None = None
    log_tail: str | None = None  # last 4 KB of the invocation's log text, when asked
    content_type: str = "application/json"


@dataclass(frozen=True)
class QueuedEvent:
    """An accepted asynchronous invocation, durable until it ran or was given up."""

    id: str
    function_name: str
    qualifier: str
    invoked_arn: str
    payload: bytes
    enqueued_at: float
    attempts: int = 0
    not_before: float = 0.0
