"""PutEvents → Lambda: matching rules on the default and custom buses, Input / InputPath / InputTransformer,
the function's resource policy, and PutEvents' own answers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, raw_request, unique, wait_for_logs

ACCOUNT = "000000000000"

# Logs every event it receives as one line: "EVENT <json>".
RECORDER = """
import json


def handler(event, context):
    print("EVENT " + json.dumps(event))
"""


@pytest.fixture(scope="module")
def events(server: Server) -> Any:
    return server.client("events")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def allow_events(lambda_client: Any, name: str, rule_arn: str | None) -> None:
    extra = {"SourceArn": rule_arn} if rule_arn else {}
    lambda_client.add_permission(
        FunctionName=name,
        StatementId=unique("events"),
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        **extra,
    )


def received(server: Server, function_name: str, count: int) -> list[Any]:
    """The events the recorder logged, once there are at least `count` (waits for them)."""

    def recorded(messages: list[str]) -> list[Any]:
        return [json.loads(m[len("EVENT ") :]) for m in messages if m.startswith("EVENT ")]

    return recorded(wait_for_logs(server, function_name, lambda messages: len(recorded(messages)) >= count))


@pytest.fixture
def recorder(deploy: Callable[..., str]) -> str:
    return deploy(RECORDER)


def test_matching_events_reach_lambda_transformed_per_target(
    server: Server, events: Any, lambda_client: Any, recorder: str
) -> None:
    name = recorder
    rule = unique("orders")
    pattern = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 10]}]}}
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps(pattern))["RuleArn"]
    allow_events(lambda_client, name, rule_arn)
    transformer = {
        "InputPathsMap": {"order": "$.detail.id", "total": "$.detail.total", "kind": "$.detail-type"},
        "InputTemplate": '{"summary": "<kind> <order> for <total>", "order": <order>, "rule": <aws.events.rule-name>}',
    }
    events.put_targets(
        Rule=rule,
        Targets=[
            {"Id": "whole", "Arn": function_arn(name)},
            {"Id": "constant", "Arn": function_arn(name), "Input": '{"constant": true}'},
            {"Id": "detail", "Arn": function_arn(name), "InputPath": "$.detail"},
            {"Id": "shaped", "Arn": function_arn(name), "InputTransformer": transformer},
        ],
    )
    answer = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"id": "o-1", "total": 12.5}),
             "Resources": ["arn:aws:s3:::bucket"]},
            {"Source": "shop", "DetailType": "Order Placed", "Detail": json.dumps({"id": "o-2", "total": 3})},
        ]
    )  # fmt: skip
    assert answer["FailedEntryCount"] == 0
    event_id = answer["Entries"][0]["EventId"]
    got = received(server, name, 4)
    whole = next(e for e in got if isinstance(e, dict) and e.get("id") == event_id)
    assert whole == {
        "version": "0",
        "id": event_id,
        "detail-type": "Order Placed",
        "source": "shop",
        "account": ACCOUNT,
        "time": whole["time"],
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::bucket"],
        "detail": {"id": "o-1", "total": 12.5},
    }
    assert whole["time"].endswith("Z") and len(whole["time"]) == 20
    others = [e for e in got if e is not whole]
    assert {"constant": True} in others
    assert {"id": "o-1", "total": 12.5} in others
    assert {"summary": "Order Placed o-1 for 12.5", "order": "o-1", "rule": rule} in others
    time.sleep(0.5)
    assert len(received(server, name, 4)) == 4  # the second event did not match
    events.remove_targets(Rule=rule, Ids=["whole", "constant", "detail", "shaped"])
    events.delete_rule(Name=rule)


def test_custom_bus_disabled_rules_and_the_resource_policy(
    server: Server, events: Any, lambda_client: Any, recorder: str
) -> None:
    name = recorder
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    pattern = json.dumps({"detail-type": [{"prefix": "probe"}]})
    rule = unique("probe")
    rule_arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern=pattern)["RuleArn"]
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": function_arn(name)}])

    def put(detail_type: str) -> None:
        answer = events.put_events(
            Entries=[{"Source": "app", "DetailType": detail_type, "Detail": "{}", "EventBusName": bus}]
        )
        assert answer["FailedEntryCount"] == 0

    def failed_invocations() -> int:
        health = raw_request("GET", f"{server.endpoint}/_lambdabox/health").json()
        return int(health["eventTargets"]["failedInvocations"])

    failed = failed_invocations()
    put("probe-no-permission")  # the function's policy does not let EventBridge invoke it: dropped
    allow_events(lambda_client, name, f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{bus}/other-rule")
    put("probe-other-source-arn")  # a statement for another rule does not count either
    assert failed_invocations() == failed + 2
    events.disable_rule(Name=rule, EventBusName=bus)
    allow_events(lambda_client, name, rule_arn)
    put("probe-disabled")  # disabled rules match nothing
    events.enable_rule(Name=rule, EventBusName=bus)
    # the same event on the default bus: not this rule's bus
    events.put_events(Entries=[{"Source": "app", "DetailType": "probe-default-bus", "Detail": "{}"}])
    put("probe-delivered")
    assert [e["detail-type"] for e in received(server, name, 1)] == ["probe-delivered"]
    events.remove_targets(Rule=rule, EventBusName=bus, Ids=["fn"])
    events.delete_event_bus(Name=bus)


def test_put_events_answers_per_entry(events: Any) -> None:
    answer = events.put_events(
        Entries=[
            {"Source": "app", "DetailType": "t", "Detail": "{}"},
            {"DetailType": "t", "Detail": "{}"},
            {"Source": "app", "Detail": "{}"},
            {"Source": "app", "DetailType": "t"},
            {"Source": "app", "DetailType": "t", "Detail": "[1, 2]"},
            {"Source": "app", "DetailType": "t", "Detail": "{nope"},
            {"Source": "aws.ec2", "DetailType": "t", "Detail": "{}"},
            {"Source": "app", "DetailType": "t", "Detail": "{}", "EventBusName": "no-such-bus"},
        ]
    )
    entries = answer["Entries"]
    assert answer["FailedEntryCount"] == 7
    assert list(entries[0]) == ["EventId"]
    assert entries[1:] == [
        {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."},
        {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument."},
        {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."},
        {"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Event bus no-such-bus does not exist."},
    ]  # fmt: skip


def test_put_events_limits(events: Any) -> None:
    big = json.dumps({"data": "x" * (200 * 1024)})
    with pytest.raises(ClientError) as excinfo:
        events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": big}] * 2)
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Total size of the entries in the request is over the limit.",
    }
    answer = events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": big}])
    assert answer["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": "{}"}] * 11)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 10" in excinfo.value.response["Error"]["Message"]
