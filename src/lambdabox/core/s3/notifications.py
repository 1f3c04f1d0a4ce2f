"""Bucket event notifications: validating a configuration as S3 does, and delivering matching events
to Lambda as asynchronous invocations (durable once queued), after the change is committed.

S3 sends an `s3:TestEvent` when a configuration is saved only to SQS queues and SNS topics, never to
Lambda functions; queues and topics do not exist on this platform yet, so none is ever sent.
"""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.invoke import InvokeService
from lambdabox.core.names import Account, FunctionRef, parse_function_ref
from lambdabox.core.resource_policy import invocation_allowed
from lambdabox.core.s3.errors import invalid_argument, malformed_xml
from lambdabox.core.s3.events import event_record
from lambdabox.core.s3.models import (
    FilterRule,
    NotificationConfiguration,
    NotificationTarget,
    ObjectChange,
    Requester,
)
from lambdabox.core.s3.names import bucket_arn, owner_principal
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import ObjectStore

log = logging.getLogger("lambdabox.s3.notifications")

# The model's `Event` enum: every event type a configuration may name.
SUPPORTED_EVENTS = frozenset(
    [
        "s3:ReducedRedundancyLostObject",
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectRestore:*",
        "s3:ObjectRestore:Post",
        "s3:ObjectRestore:Completed",
        "s3:Replication:*",
        "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked",
        "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold",
        "s3:ObjectRestore:Delete",
        "s3:LifecycleTransition",
        "s3:IntelligentTiering",
        "s3:ObjectAcl:Put",
        "s3:LifecycleExpiration:*",
        "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
        "s3:ObjectAnnotation:*",
        "s3:ObjectAnnotation:Put",
        "s3:ObjectAnnotation:Delete",
        "s3:ObjectRetention:Put",
    ]
)
_ARNS = {
    "lambda": (
        "CloudFunction",
        re.compile(r"arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]+(:[a-zA-Z0-9$_-]+)?"),
    ),
    "queue": ("Queue", re.compile(r"arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_.-]+")),
    "topic": ("Topic", re.compile(r"arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_.-]+")),
}
S3_PRINCIPAL = "s3.amazonaws.com"


@dataclass(frozen=True)
class TargetInput:
    """One configuration as the request states it (before validation)."""

    kind: str
    arn: str
    events: Sequence[str]
    id: str | None = None
    rules: Sequence[tuple[str, str]] = ()


def _new_id() -> str:
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def _events_overlap(a: str, b: str) -> bool:
    if a == b:
        return True
    for wildcard, other in ((a, b), (b, a)):
        if wildcard.endswith(":*") and other.startswith(wildcard[:-1]):
            return True
    return False


def _overlap(a: NotificationTarget, b: NotificationTarget) -> bool:
    if not any(_events_overlap(x, y) for x in a.events for y in b.events):
        return False
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def _matches(target: NotificationTarget, change: ObjectChange) -> bool:
    name = f"s3:{change.event_name}"
    family = name.rsplit(":", 1)[0] + ":*"
    if name not in target.events and family not in target.events:
        return False
    return change.key.startswith(target.prefix) and change.key.endswith(target.suffix)


class Notifier:
    def __init__(
        self, store: ObjectStore, settings: FunctionSettings, invoker: InvokeService, account: Account
    ) -> None:
        self._store = store
        self._settings = settings
        self._invoker = invoker
        self._account = account
        self._owner = owner_principal(account.account_id)

    # -- configuration ---------------------------------------------------------------------------------
    def validate(
        self, bucket: str, targets: Sequence[TargetInput], event_bridge: bool, skip_destinations: bool
    ) -> NotificationConfiguration:
        checked = [self._target(target) for target in targets]
        for index, first in enumerate(checked):
            for second in checked[index + 1 :]:
                if _overlap(first, second):
                    raise invalid_argument(
                        "Configurations overlap. Configurations on the same bucket cannot share a common "
                        "event type."
                    )
        if not skip_destinations:
            failures = [problem for target in checked if (problem := self._unreachable(bucket, target))]
            if failures:
                fields: dict[str, object] = {}
                for number, (name, value) in enumerate(failures, start=1):
                    fields[f"ArgumentName{number}"] = name
                    fields[f"ArgumentValue{number}"] = value
                raise AwsError(
                    "InvalidArgument",
                    "Unable to validate the following destination configurations",
                    400,
                    fields=fields,
                )
        return NotificationConfiguration(tuple(checked), event_bridge)

    @staticmethod
    def _target(target: TargetInput) -> NotificationTarget:
        argument, pattern = _ARNS[target.kind]
        if pattern.fullmatch(target.arn) is None:
            raise invalid_argument("The ARN could not be parsed", argument, target.arn)
        if not target.events:
            raise malformed_xml()
        for event in target.events:
            if event not in SUPPORTED_EVENTS:
                raise invalid_argument("The event is not supported for notifications", "Event", event)
        rules: dict[str, FilterRule] = {}
        for name, value in target.rules:
            normalized = name.lower()
            if normalized not in ("prefix", "suffix"):
                raise invalid_argument(
                    "filter rule name must be either prefix or suffix", "FilterRule.Name", name
                )
            if normalized in rules:
                raise invalid_argument(f"Cannot specify more than one {normalized} rule in a filter.")
            if len(value.encode()) > 1024:
                raise invalid_argument(
                    "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation"
                )
            rules[normalized] = FilterRule(normalized.capitalize(), value)
        return NotificationTarget(
            kind=target.kind,
            id=target.id or _new_id(),
            arn=target.arn,
            events=tuple(dict.fromkeys(target.events)),
            rules=tuple(rules.values()),
        )

    def _unreachable(self, bucket: str, target: NotificationTarget) -> tuple[str, str] | None:
        if target.kind == "queue":
            return target.arn, "The destination queue does not exist"
        if target.kind == "topic":
            return target.arn, "The destination topic does not exist"
        try:
            ref = parse_function_ref(self._account, target.arn)
        except AwsError:
            ref = None
        if ref is not None and self._s3_may_invoke(ref, bucket):
            return None
        return f"{target.arn}, null", f"Not authorized to invoke function [{target.arn}]"

    def _s3_may_invoke(self, ref: FunctionRef, bucket: str) -> bool:
        return invocation_allowed(self._settings, self._account, ref, S3_PRINCIPAL, bucket_arn(bucket))

    # -- delivery --------------------------------------------------------------------------------------
    def on_change(self, change: ObjectChange, requester: Requester) -> None:
        """Queue one asynchronous invocation per matching Lambda configuration. Never raises."""
        try:
            bucket = self._store.get_bucket(change.bucket)
            if bucket is None:
                return
            for target in bucket.notifications.targets:
                if target.kind == "lambda" and _matches(target, change):
                    self._deliver(target, change, requester)
        except Exception:
            log.exception("could not deliver %s for s3://%s/%s", change.event_name, change.bucket, change.key)

    def _deliver(self, target: NotificationTarget, change: ObjectChange, requester: Requester) -> None:
        record = event_record(change, requester, target.id, self._account.region, self._owner)
        payload = orjson.dumps({"Records": [record]})
        try:
            ref = parse_function_ref(self._account, target.arn)
            if not self._s3_may_invoke(ref, change.bucket):  # the permission may have been removed since
                raise AwsError("AccessDeniedException", f"S3 is not authorized to invoke {target.arn}", 403)
            self._invoker.enqueue(ref, payload)
        except AwsError as error:
            log.warning(
                "S3 event %s for s3://%s/%s not delivered to %s: %s",
                change.event_name,
                change.bucket,
                change.key,
                target.arn,
                error.message,
            )
