"""S3 event notification records exactly as S3 delivers them to Lambda."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdabox.core.s3.models import ObjectChange, Requester
from lambdabox.core.s3.names import bucket_arn, event_key

# ObjectCreated/ObjectRemoved records are 2.1 on AWS; the tagging family was introduced with 2.3.
_VERSIONS = {"ObjectTagging": "2.3"}


def event_time(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def event_record(
    change: ObjectChange, requester: Requester, configuration_id: str, region: str, owner_principal: str
) -> dict[str, Any]:
    family = change.event_name.split(":", 1)[0]
    obj: dict[str, Any] = {"key": event_key(change.key)}
    if family == "ObjectCreated":
        obj["size"] = change.size
        obj["eTag"] = change.etag
    elif family == "ObjectTagging":
        obj["eTag"] = change.etag
    if change.version_id is not None:
        obj["versionId"] = change.version_id
    obj["sequencer"] = change.sequencer
    return {
        "eventVersion": _VERSIONS.get(family, "2.1"),
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": event_time(change.time),
        "eventName": change.event_name,
        "userIdentity": {"principalId": requester.principal_id},
        "requestParameters": {"sourceIPAddress": requester.source_ip},
        "responseElements": {"x-amz-request-id": requester.request_id, "x-amz-id-2": requester.host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": change.bucket,
                "ownerIdentity": {"principalId": owner_principal},
                "arn": bucket_arn(change.bucket),
            },
            "object": obj,
        },
    }
