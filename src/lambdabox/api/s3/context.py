"""What S3 operation handlers receive and return."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdabox.api.s3.body import RequestBody
from lambdabox.core.names import Account
from lambdabox.core.s3.buckets import BucketService
from lambdabox.core.s3.models import Requester
from lambdabox.core.s3.multipart import MultipartService
from lambdabox.core.s3.notifications import Notifier
from lambdabox.core.s3.objects import ObjectService


@dataclass(frozen=True)
class S3Deps:
    account: Account
    buckets: BucketService
    objects: ObjectService
    notifier: Notifier
    multipart: MultipartService


@dataclass
class S3Call:
    deps: S3Deps
    operation: str
    params: dict[str, Any]
    headers: Mapping[str, str]  # request headers, lower-case names
    body: RequestBody
    requester: Requester
    # IAM authorization of one key of a DeleteObjects request (key, version id); raises AccessDenied.
    authorize_delete: Callable[[str, str | None], None] | None = None


@dataclass
class S3Result:
    """An operation's output members; `stream` (object bytes) or `raw` replace the XML body."""

    output: dict[str, Any] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None
    raw: bytes | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # beyond the output members (CORS, Location)


Handler = Callable[[S3Call], Awaitable[S3Result]]
