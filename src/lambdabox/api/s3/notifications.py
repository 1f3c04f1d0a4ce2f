"""PutBucketNotificationConfiguration / GetBucketNotificationConfiguration."""

from __future__ import annotations

from typing import Any

from lambdabox.api.s3.context import S3Call, S3Result
from lambdabox.core.s3.models import NotificationTarget
from lambdabox.core.s3.notifications import TargetInput

# (kind, list member of NotificationConfiguration, ARN member of each entry)
_KINDS = (
    ("topic", "TopicConfigurations", "TopicArn"),
    ("queue", "QueueConfigurations", "QueueArn"),
    ("lambda", "LambdaFunctionConfigurations", "LambdaFunctionArn"),
)


def _rules(entry: dict[str, Any]) -> list[tuple[str, str]]:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return [(rule.get("Name", ""), rule.get("Value", "")) for rule in rules]


async def put_bucket_notification_configuration(call: S3Call) -> S3Result:
    p = call.params
    bucket = call.deps.buckets.get(p["Bucket"]).name
    document = p.get("NotificationConfiguration") or {}
    targets = [
        TargetInput(
            kind, entry.get(arn_member, ""), entry.get("Events") or [], entry.get("Id"), _rules(entry)
        )
        for kind, member, arn_member in _KINDS
        for entry in document.get(member) or []
    ]
    config = call.deps.notifier.validate(
        bucket, targets, "EventBridgeConfiguration" in document, bool(p.get("SkipDestinationValidation"))
    )
    call.deps.buckets.set_notifications(bucket, config)
    return S3Result()


def _entry(target: NotificationTarget, arn_member: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": target.id, arn_member: target.arn, "Events": list(target.events)}
    if target.rules:
        entry["Filter"] = {"Key": {"FilterRules": [{"Name": r.name, "Value": r.value} for r in target.rules]}}
    return entry


async def get_bucket_notification_configuration(call: S3Call) -> S3Result:
    config = call.deps.buckets.get(call.params["Bucket"]).notifications
    output: dict[str, Any] = {}
    for kind, member, arn_member in _KINDS:
        entries = [_entry(t, arn_member) for t in config.targets if t.kind == kind]
        if entries:
            output[member] = entries
    if config.event_bridge:
        output["EventBridgeConfiguration"] = {}
    return S3Result(output)
