"""Log groups and log streams: create, delete, describe, retention and tags."""

from __future__ import annotations

from typing import Any

from lambdabox.api.logs.common import (
    Ctx,
    decode_token,
    encode_token,
    group_not_found,
    invalid_parameter,
    invalid_token,
    position_digits,
    stream_not_found,
)
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import LogGroupInfo, LogStream

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip
DEFAULT_LIMIT = 50


# -- log groups --------------------------------------------------------------------------------------------
def create_log_group(ctx: Ctx, params: dict[str, Any]) -> None:
    name = params["logGroupName"]
    if name.startswith("aws/"):
        raise invalid_parameter("Log group names can't start with the string aws/")
    created = ctx.store.create_group(name, params.get("logGroupClass", "STANDARD"), params.get("tags") or {})
    if not created:
        raise AwsError("ResourceAlreadyExistsException", "The specified log group already exists")


def delete_log_group(ctx: Ctx, params: dict[str, Any]) -> None:
    if not ctx.store.delete_group(params["logGroupName"]):
        raise group_not_found()


def _describe_group(ctx: Ctx, group: LogGroupInfo, brief: bool) -> dict[str, Any]:
    if brief:  # with logGroupNamePattern AWS answers only these three
        return {"logGroupName": group.name, "creationTime": group.created, "arn": ctx.group_arn(group.name)}
    return {
        "logGroupName": group.name,
        "creationTime": group.created,
        "retentionInDays": group.retention_days,
        "metricFilterCount": 0,
        "arn": ctx.group_arn(group.name),
        "storedBytes": group.stored_bytes,
        "logGroupClass": group.log_group_class,
        "logGroupArn": ctx.group_arn(group.name, wildcard=False),
    }


def describe_log_groups(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("logGroupNamePrefix")
    pattern = params.get("logGroupNamePattern")
    identifiers = params.get("logGroupIdentifiers")
    if prefix is not None and pattern is not None:
        raise invalid_parameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
        )
    if identifiers is not None and (prefix is not None or pattern is not None):
        raise invalid_parameter(
            "logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern."
        )
    groups = ctx.store.describe_groups(prefix)
    if pattern:
        groups = [g for g in groups if pattern in g.name]
    if identifiers is not None:
        wanted = {ctx.group_of_arn(i) if i.startswith("arn:") else i for i in identifiers}
        groups = [g for g in groups if g.name in wanted]
    if "logGroupClass" in params:
        groups = [g for g in groups if g.log_group_class == params["logGroupClass"]]
    if params.get("nextToken"):
        after = decode_token("DescribeLogGroups", params["nextToken"])
        if not isinstance(after, str):
            raise invalid_token()
        groups = [g for g in groups if g.name > after]
    limit = params.get("limit", DEFAULT_LIMIT)
    page = groups[:limit]
    output: dict[str, Any] = {"logGroups": [_describe_group(ctx, g, pattern is not None) for g in page]}
    if len(groups) > limit:
        output["nextToken"] = encode_token("DescribeLogGroups", page[-1].name)
    return output


def put_retention_policy(ctx: Ctx, params: dict[str, Any]) -> None:
    days = params["retentionInDays"]
    if days not in RETENTION_DAYS:
        raise invalid_parameter(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(map(str, RETENTION_DAYS))}]"
        )
    if not ctx.store.set_retention(params["logGroupName"], days):
        raise group_not_found()


def delete_retention_policy(ctx: Ctx, params: dict[str, Any]) -> None:
    if not ctx.store.set_retention(params["logGroupName"], None):
        raise group_not_found()


# -- tags --------------------------------------------------------------------------------------------------
def _tag(ctx: Ctx, group: str, add: dict[str, str], remove: list[str]) -> None:
    info = ctx.store.get_group(group)
    if info is None:
        raise group_not_found()
    tags = {k: v for k, v in info.tags.items() if k not in remove}
    tags.update(add)
    if len(tags) > 50:
        raise AwsError(
            "TooManyTagsException",
            f"A resource can have no more than 50 tags; {group} would have {len(tags)}.",
            fields={"resourceName": ctx.group_arn(group, wildcard=False)},
        )
    ctx.store.set_tags(group, tags)


def _tags(ctx: Ctx, group: str) -> dict[str, Any]:
    info = ctx.store.get_group(group)
    if info is None:
        raise group_not_found()
    return {"tags": dict(info.tags)}


def _group_of_resource(ctx: Ctx, arn: str) -> str:
    group = ctx.group_of_arn(arn)
    if group is None:
        raise group_not_found()
    return group


def tag_log_group(ctx: Ctx, params: dict[str, Any]) -> None:
    _tag(ctx, params["logGroupName"], params["tags"], [])


def untag_log_group(ctx: Ctx, params: dict[str, Any]) -> None:
    _tag(ctx, params["logGroupName"], {}, params["tags"])


def list_tags_log_group(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return _tags(ctx, params["logGroupName"])


def tag_resource(ctx: Ctx, params: dict[str, Any]) -> None:
    _tag(ctx, _group_of_resource(ctx, params["resourceArn"]), params["tags"], [])


def untag_resource(ctx: Ctx, params: dict[str, Any]) -> None:
    _tag(ctx, _group_of_resource(ctx, params["resourceArn"]), {}, params["tagKeys"])


def list_tags_for_resource(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    return _tags(ctx, _group_of_resource(ctx, params["resourceArn"]))


# -- log streams -------------------------------------------------------------------------------------------
def create_log_stream(ctx: Ctx, params: dict[str, Any]) -> None:
    group = params["logGroupName"]
    ctx.require_group(group)
    if not ctx.store.create_stream(group, params["logStreamName"]):
        raise AwsError("ResourceAlreadyExistsException", "The specified log stream already exists")


def delete_log_stream(ctx: Ctx, params: dict[str, Any]) -> None:
    group = params["logGroupName"]
    ctx.require_group(group)
    if not ctx.store.delete_stream(group, params["logStreamName"]):
        raise stream_not_found()


def _describe_stream(ctx: Ctx, group: str, stream: LogStream) -> dict[str, Any]:
    described: dict[str, Any] = {
        "logStreamName": stream.name,
        "creationTime": stream.created,
        "firstEventTimestamp": stream.first_event,
        "lastEventTimestamp": stream.last_event,
        "lastIngestionTime": stream.last_ingestion,
        "arn": ctx.stream_arn(group, stream.name),
        "storedBytes": 0,  # AWS: "no longer supported for log streams, and is always reported as zero"
    }
    if stream.last_ingestion is not None:  # deprecated, ignored by PutLogEvents; still shown
        described["uploadSequenceToken"] = position_digits((stream.last_ingestion, 1))
    return described


def describe_log_streams(ctx: Ctx, params: dict[str, Any]) -> dict[str, Any]:
    group = ctx.group_name(params)
    prefix = params.get("logStreamNamePrefix")
    by_time = params.get("orderBy") == "LastEventTime"
    if by_time and prefix is not None:
        raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
    ctx.require_group(group)
    descending = bool(params.get("descending"))

    def key(stream: LogStream) -> list[Any]:
        return [stream.last_event or 0, stream.name] if by_time else [stream.name]

    streams = sorted(ctx.store.list_streams(group, prefix), key=key, reverse=descending)
    kind = f"DescribeLogStreams/{'time' if by_time else 'name'}/{'desc' if descending else 'asc'}/{group}"
    if params.get("nextToken"):
        after = decode_token(kind, params["nextToken"])
        shape = [type(part) for part in key(LogStream("", 0, None, 0, None, 0))]
        if not isinstance(after, list) or [type(part) for part in after] != shape:
            raise invalid_token()
        streams = [s for s in streams if (key(s) < after if descending else key(s) > after)]
    limit = params.get("limit", DEFAULT_LIMIT)
    page = streams[:limit]
    output: dict[str, Any] = {"logStreams": [_describe_stream(ctx, group, s) for s in page]}
    if len(streams) > limit:
        output["nextToken"] = encode_token(kind, key(page[-1]))
    return output
