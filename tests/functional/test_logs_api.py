"""The CloudWatch Logs API through a real boto3 `logs` client against a running server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.conftest import Server, unique
from tests.signing import sign


@pytest.fixture(scope="module")
def logs(server: Server) -> Iterator[Any]:
    client = server.client("logs")
    yield client
    client.close()


@pytest.fixture(scope="module")
def unchecked_logs(server: Server) -> Iterator[Any]:
    """A client that sends what it is given, so that the server's own validation answers."""
    client = server.client("logs", parameter_validation=False)
    yield client
    client.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    return dict(info.value.response)


@pytest.fixture
def group(logs: Any) -> str:
    name = f"/test/{unique('group')}"
    logs.create_log_group(logGroupName=name)
    return name


def put(logs: Any, group: str, stream: str, messages: list[str], start: int | None = None) -> list[int]:
    base = start if start is not None else now_ms() - len(messages)
    stamps = [base + i for i in range(len(messages))]
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in zip(stamps, messages, strict=True)],
    )
    return stamps


# -- groups ------------------------------------------------------------------------------------------------
def test_log_group_lifecycle(logs: Any, server: Server) -> None:
    name = f"/test/{unique('lifecycle')}"
    logs.create_log_group(logGroupName=name, tags={"team": "core"})
    error = error_of(lambda: logs.create_log_group(logGroupName=name))
    assert error["Error"] == {
        "Code": "ResourceAlreadyExistsException",
        "Message": "The specified log group already exists",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RequestId"]

    (described,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert described["logGroupName"] == name
    assert described["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}:*"
    assert described["logGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{name}"
    assert described["storedBytes"] == 0 and described["metricFilterCount"] == 0
    assert described["logGroupClass"] == "STANDARD"
    assert abs(described["creationTime"] - now_ms()) < 60_000
    assert "retentionInDays" not in described

    logs.put_retention_policy(logGroupName=name, retentionInDays=14)
    (described,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert described["retentionInDays"] == 14
    logs.delete_retention_policy(logGroupName=name)
    (described,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert "retentionInDays" not in described

    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"team": "core"}
    logs.tag_log_group(logGroupName=name, tags={"env": "dev"})
    logs.untag_log_group(logGroupName=name, tags=["team"])
    assert logs.list_tags_for_resource(resourceArn=described["logGroupArn"])["tags"] == {"env": "dev"}
    logs.tag_resource(resourceArn=described["logGroupArn"], tags={"a": "1"})
    logs.untag_resource(resourceArn=described["logGroupArn"], tagKeys=["env"])
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"a": "1"}

    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    error = error_of(lambda: logs.delete_log_group(logGroupName=name))
    assert error["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log group does not exist.",
    }


def test_describe_log_groups_pages_prefix_and_pattern(logs: Any) -> None:
    base = f"/pages/{unique('g')}"
    names = [f"{base}/{i:02d}" for i in range(7)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=f"{base.upper()}/other")  # prefixes are case-sensitive
    first = logs.describe_log_groups(logGroupNamePrefix=base, limit=3)
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:3]
    paginator = logs.get_paginator("describe_log_groups")
    seen = [
        g["logGroupName"]
        for page in paginator.paginate(logGroupNamePrefix=base, PaginationConfig={"PageSize": 2})
        for g in page["logGroups"]
    ]
    assert seen == names
    by_pattern = logs.describe_log_groups(logGroupNamePattern=base.split("/")[-1] + "/03")["logGroups"]
    assert by_pattern == [
        {
            "logGroupName": names[3],
            "creationTime": by_pattern[0]["creationTime"],
            "arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{names[3]}:*",
        }
    ]
    error = error_of(lambda: logs.describe_log_groups(logGroupNamePrefix=base, logGroupNamePattern="x"))
    assert error["Error"]["Code"] == "InvalidParameterException"


def test_group_validation_errors(logs: Any) -> None:
    error = error_of(lambda: logs.create_log_group(logGroupName="bad name!"))
    assert error["Error"]["Code"] == "InvalidParameterException"
    assert error["Error"]["Message"] == (
        "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    )
    error = error_of(lambda: logs.put_retention_policy(logGroupName="/none", retentionInDays=2))
    assert error["Error"]["Code"] == "InvalidParameterException"
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14," in error["Error"]["Message"]
    error = error_of(lambda: logs.put_retention_policy(logGroupName=f"/{unique()}", retentionInDays=7))
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    error = error_of(lambda: logs.describe_log_streams(logGroupName=f"/{unique()}"))
    assert error["Error"]["Message"] == "The specified log group does not exist."


# -- streams -----------------------------------------------------------------------------------------------
def test_log_streams(logs: Any, group: str) -> None:
    for stream in ("b-stream", "a-stream", "c-stream"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    error = error_of(lambda: logs.create_log_stream(logGroupName=group, logStreamName="a-stream"))
    assert error["Error"] == {
        "Code": "ResourceAlreadyExistsException",
        "Message": "The specified log stream already exists",
    }
    error = error_of(lambda: logs.create_log_stream(logGroupName=f"/{unique()}", logStreamName="s"))
    assert error["Error"]["Code"] == "ResourceNotFoundException"

    put(logs, group, "c-stream", ["one"], start=now_ms() - 3000)
    put(logs, group, "a-stream", ["two"], start=now_ms() - 2000)
    put(logs, group, "b-stream", ["three"], start=now_ms() - 1000)

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a-stream", "b-stream", "c-stream"]
    a_stream = streams[0]
    assert a_stream["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:log-stream:a-stream"
    assert a_stream["firstEventTimestamp"] == a_stream["lastEventTimestamp"]
    assert a_stream["lastIngestionTime"] >= a_stream["creationTime"]
    assert a_stream["storedBytes"] == 0

    newest_first = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)
    assert [s["logStreamName"] for s in newest_first["logStreams"]] == ["b-stream", "a-stream", "c-stream"]
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="b-")["logStreams"]
    assert [s["logStreamName"] for s in prefixed] == ["b-stream"]
    page = logs.describe_log_streams(logGroupName=group, limit=2)
    assert len(page["logStreams"]) == 2
    rest = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["c-stream"] and "nextToken" not in rest
    by_arn = logs.describe_log_streams(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    )
    assert len(by_arn["logStreams"]) == 3

    error = error_of(
        lambda: logs.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a"
        )
    )
    assert error["Error"]["Code"] == "InvalidParameterException"
    error = error_of(lambda: logs.describe_log_streams(logGroupName=group, nextToken="garbage"))
    assert error["Error"]["Code"] == "InvalidParameterException"

    logs.delete_log_stream(logGroupName=group, logStreamName="a-stream")
    error = error_of(lambda: logs.delete_log_stream(logGroupName=group, logStreamName="a-stream"))
    assert error["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": "The specified log stream does not exist.",
    }


# -- events ------------------------------------------------------------------------------------------------
def test_put_log_events_rules(logs: Any, unchecked_logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    error = error_of(
        lambda: logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": now, "message": "b"}, {"timestamp": now - 5, "message": "a"}],
        )
    )
    assert error["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "Log events in a single PutLogEvents request must be in chronological order.",
    }
    response = logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now - 15 * 86_400_000, "message": "too old"},
            {"timestamp": now, "message": "fine"},
            {"timestamp": now + 3 * 3_600_000, "message": "too new"},
        ],
    )
    assert response["nextSequenceToken"]
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    events = logs.get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["fine"]
    error = error_of(
        lambda: logs.put_log_events(
            logGroupName=group, logStreamName="missing", logEvents=[{"timestamp": now, "message": "x"}]
        )
    )
    assert error["Error"]["Message"] == "The specified log stream does not exist."
    error = error_of(
        lambda: unchecked_logs.put_log_events(
            logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": ""}]
        )
    )
    assert error["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "1 validation error detected: Value '' at 'logEvents.1.member.message' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1",
    }


def test_get_log_events_tokens(logs: Any, group: str) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    stamps = put(logs, group, "s", [f"message {i}" for i in range(10)])

    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=4)
    assert [e["message"] for e in tail["events"]] == [f"message {i}" for i in range(6, 10)]
    assert tail["events"][0]["timestamp"] == stamps[6] and tail["events"][0]["ingestionTime"] >= stamps[6]
    assert tail["nextForwardToken"].startswith("f/") and tail["nextBackwardToken"].startswith("b/")

    older = logs.get_log_events(
        logGroupName=group, logStreamName="s", limit=4, nextToken=tail["nextBackwardToken"]
    )
    assert [e["message"] for e in older["events"]] == [f"message {i}" for i in range(2, 6)]
    oldest = logs.get_log_events(
        logGroupName=group, logStreamName="s", limit=4, nextToken=older["nextBackwardToken"]
    )
    assert [e["message"] for e in oldest["events"]] == ["message 0", "message 1"]
    start = logs.get_log_events(
        logGroupName=group, logStreamName="s", limit=4, nextToken=oldest["nextBackwardToken"]
    )
    assert start["events"] == [] and start["nextBackwardToken"] == oldest["nextBackwardToken"]

    head = logs.get_log_events(logGroupName=group, logStreamName="s", limit=6, startFromHead=True)
    assert [e["message"] for e in head["events"]] == [f"message {i}" for i in range(6)]
    rest = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=head["nextForwardToken"])
    assert [e["message"] for e in rest["events"]] == [f"message {i}" for i in range(6, 10)]
    end = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=rest["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == rest["nextForwardToken"]

    put(logs, group, "s", ["late"], start=stamps[-1] + 1)
    new = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=end["nextForwardToken"])
    assert [e["message"] for e in new["events"]] == ["late"]

    window = logs.get_log_events(
        logGroupName=group, logStreamName="s", startTime=stamps[3], endTime=stamps[5], startFromHead=True
    )
    assert [e["message"] for e in window["events"]] == ["message 3", "message 4"]

    error = error_of(lambda: logs.get_log_events(logGroupName=group, logStreamName="s", nextToken="f/12"))
    assert error["Error"]["Code"] == "InvalidParameterException"
    error = error_of(lambda: logs.get_log_events(logGroupName=group, logStreamName="nope"))
    assert error["Error"]["Message"] == "The specified log stream does not exist."
    error = error_of(lambda: logs.get_log_events(logStreamName="s"))
    assert error["Error"]["Code"] == "InvalidParameterException"


def test_filter_log_events(logs: Any, group: str) -> None:
    for stream in ("app/1", "app/2", "other"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    base = now_ms() - 100
    put(logs, group, "app/1", ["ERROR disk full", "INFO started", "WARN slow"], start=base)
    put(logs, group, "app/2", ["ERROR Failed to connect", "INFO done"], start=base + 10)
    put(logs, group, "other", ['{"level": "ERROR", "latency": 250}', "ERROR exiting"], start=base + 20)

    def messages(**kwargs: Any) -> list[str]:
        return [e["message"] for e in logs.filter_log_events(logGroupName=group, **kwargs)["events"]]

    everything = logs.filter_log_events(logGroupName=group)
    assert len(everything["events"]) == 7 and "nextToken" not in everything
    assert everything["searchedLogStreams"] == []
    first = everything["events"][0]
    assert first["logStreamName"] == "app/1" and first["timestamp"] == base and len(first["eventId"]) == 56
    assert messages(filterPattern="ERROR") == [
        "ERROR disk full",
        "ERROR Failed to connect",
        '{"level": "ERROR", "latency": 250}',
        "ERROR exiting",
    ]
    assert messages(filterPattern="ERROR disk") == ["ERROR disk full"]
    assert messages(filterPattern='"Failed to"') == ["ERROR Failed to connect"]
    assert messages(filterPattern="?WARN ?done") == ["WARN slow", "INFO done"]
    assert messages(filterPattern="ERROR -exiting -disk") == [
        "ERROR Failed to connect",
        '{"level": "ERROR", "latency": 250}',
    ]
    assert messages(filterPattern="error") == []  # case-sensitive
    assert messages(filterPattern="%ERROR [a-z]+ full%") == ["ERROR disk full"]
    assert messages(filterPattern='{ $.level = "ERROR" && $.latency > 200 }') == [
        '{"level": "ERROR", "latency": 250}'
    ]
    assert messages(logStreamNames=["app/2"]) == ["ERROR Failed to connect", "INFO done"]
    assert messages(logStreamNamePrefix="app/", filterPattern="INFO") == ["INFO started", "INFO done"]
    assert messages(startTime=base + 10, endTime=base + 11) == ["ERROR Failed to connect", "INFO done"]
    assert messages(startFromHead=False, limit=2) == ["ERROR exiting", '{"level": "ERROR", "latency": 250}']

    pages = list(
        logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 3})
    )
    assert [len(p["events"]) for p in pages] == [3, 3, 1]
    assert [e["eventId"] for p in pages for e in p["events"]] == [e["eventId"] for e in everything["events"]]

    error = error_of(
        lambda: logs.filter_log_events(logGroupName=group, logStreamNames=["a"], logStreamNamePrefix="a")
    )
    assert error["Error"]["Code"] == "InvalidParameterException"
    error = error_of(lambda: logs.filter_log_events(logGroupName=group, filterPattern='"unbalanced'))
    assert error["Error"]["Code"] == "InvalidParameterException"
    error = error_of(lambda: logs.filter_log_events(logGroupName=f"/{unique()}"))
    assert error["Error"]["Code"] == "ResourceNotFoundException"


def test_function_logs_are_readable(logs: Any, lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = deploy("def handler(event, context):\n    print('hello from', event['who'])\n    return 1\n")
    lambda_client.invoke(FunctionName=name, Payload=b'{"who": "lambdabox"}')
    group = f"/aws/lambda/{name}"
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert stream["logStreamName"].split("/")[3].startswith("[$LATEST]")
    events = logs.filter_log_events(logGroupName=group)["events"]
    text = [e["message"] for e in events]
    assert any(m.startswith("START RequestId: ") for m in text)
    assert "hello from lambdabox\n" in text
    assert any(m.startswith("REPORT RequestId: ") for m in text)


# -- protocol ----------------------------------------------------------------------------------------------
def test_protocol_errors(server: Server, logs: Any) -> None:
    def post(target: str, body: bytes) -> urllib3.BaseHTTPResponse:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
        signed = sign("POST", server.endpoint + "/", service="logs", body=body, headers=headers)
        return http.request("POST", server.endpoint + "/", body=body, headers=signed)

    with urllib3.PoolManager() as http:
        unknown = post("Logs_20140328.Bogus", b"{}")
        assert unknown.status == 400
        assert unknown.json()["__type"] == "UnknownOperationException"
        assert unknown.headers["x-amzn-RequestId"]
        garbage = post("Logs_20140328.DescribeLogGroups", b"{nope")
        assert garbage.status == 400 and garbage.json()["__type"] == "SerializationException"
        wrong_type = post(
            "Logs_20140328.PutLogEvents",
            b'{"logGroupName": "/x", "logStreamName": "s", "logEvents": "not a list"}',
        )
        assert wrong_type.status == 400 and wrong_type.json()["__type"] == "SerializationException"
        assert wrong_type.headers["Content-Type"] == "application/x-amz-json-1.1"

        error = error_of(
            lambda: logs.start_query(logGroupName="/x", startTime=0, endTime=1, queryString="fields @message")
        )
        assert error["Error"]["Code"] == "NotImplementedException"
        assert "StartQuery" in error["Error"]["Message"]
