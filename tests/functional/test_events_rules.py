"""EventBridge control plane through boto3: buses, rules, targets, tags, TestEventPattern, and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, unique

ACCOUNT = "000000000000"
PREFIX = f"arn:aws:events:us-east-1:{ACCOUNT}"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:somewhere"


@pytest.fixture(scope="module")
def events(server: Server) -> Any:
    return server.client("events")


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_default_bus_always_exists_and_custom_buses_come_and_go(events: Any) -> None:
    default = events.describe_event_bus()
    assert (default["Name"], default["Arn"]) == ("default", f"{PREFIX}:event-bus/default")
    assert events.describe_event_bus(Name=f"{PREFIX}:event-bus/default")["Name"] == "default"
    name = unique("bus")
    created = events.create_event_bus(Name=name, Description="orders", Tags=[{"Key": "team", "Value": "a"}])
    assert created["EventBusArn"] == f"{PREFIX}:event-bus/{name}"
    described = events.describe_event_bus(Name=name)
    assert described["Description"] == "orders" and "CreationTime" in described
    assert events.list_tags_for_resource(ResourceARN=created["EventBusArn"])["Tags"] == [
        {"Key": "team", "Value": "a"}
    ]
    assert [b["Name"] for b in events.list_event_buses(NamePrefix=name)["EventBuses"]] == [name]
    with pytest.raises(ClientError) as excinfo:
        events.create_event_bus(Name=name)
    assert error_of(excinfo) == ("ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    events.delete_event_bus(Name=name)
    events.delete_event_bus(Name=name)  # deleting a bus that is gone succeeds
    with pytest.raises(ClientError) as excinfo:
        events.describe_event_bus(Name=name)
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Event bus {name} does not exist.")
    with pytest.raises(ClientError) as excinfo:
        events.delete_event_bus(Name="default")
    assert error_of(excinfo) == ("ValidationException", "Cannot delete event bus default.")


def test_rule_lifecycle(events: Any) -> None:
    name = unique("rule")
    pattern = json.dumps({"source": ["shop"]})
    arn = events.put_rule(Name=name, EventPattern=pattern, Description="d", Tags=[{"Key": "k", "Value": "v"}])
    assert arn["RuleArn"] == f"{PREFIX}:rule/{name}"
    described = events.describe_rule(Name=name)
    assert {k: v for k, v in described.items() if k != "ResponseMetadata"} == {
        "Name": name,
        "Arn": f"{PREFIX}:rule/{name}",
        "EventPattern": pattern,
        "State": "ENABLED",
        "Description": "d",
        "EventBusName": "default",
        "CreatedBy": ACCOUNT,
    }
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    # PutRule replaces the rule: omitted members are gone; tags are kept (only set at creation)
    events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)", Tags=[{"Key": "x", "Value": "y"}])
    described = events.describe_rule(Name=name)
    assert described["ScheduleExpression"] == "rate(5 minutes)"
    assert "EventPattern" not in described and "Description" not in described
    assert events.list_tags_for_resource(ResourceARN=arn["RuleArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
    events.tag_resource(ResourceARN=arn["RuleArn"], Tags=[{"Key": "x", "Value": "1"}])
    events.untag_resource(ResourceARN=arn["RuleArn"], TagKeys=["k"])
    assert events.list_tags_for_resource(ResourceARN=arn["RuleArn"])["Tags"] == [{"Key": "x", "Value": "1"}]
    events.delete_rule(Name=name)
    events.delete_rule(Name=name)  # deleting a rule that is gone succeeds
    with pytest.raises(ClientError) as excinfo:
        events.describe_rule(Name=name)
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        f"Rule {name} does not exist on EventBus default.",
    )


def test_rules_on_a_custom_bus(events: Any) -> None:
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    name = unique("rule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["a"]}')["RuleArn"]
    assert arn == f"{PREFIX}:rule/{bus}/{name}"
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [name]
    assert events.list_rules(EventBusName=f"{PREFIX}:event-bus/{bus}")["Rules"][0]["EventBusName"] == bus
    with pytest.raises(ClientError) as excinfo:
        events.describe_rule(Name=name)
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        f"Rule {name} does not exist on EventBus default.",
    )
    with pytest.raises(ClientError) as excinfo:
        events.put_rule(Name=unique("rule"), EventBusName=bus, ScheduleExpression="rate(1 minute)")
    assert error_of(excinfo) == (
        "ValidationException",
        "ScheduleExpression is supported only on the default event bus.",
    )
    events.delete_event_bus(Name=bus)  # with its rules
    with pytest.raises(ClientError) as excinfo:
        events.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["a"]}')
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Event bus {bus} does not exist.")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, ("ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")),
        ({"ScheduleExpression": "rate(1 minutes)"}, ("ValidationException", "Parameter ScheduleExpression is not valid.")),
        ({"ScheduleExpression": "cron(0 1 * * * *)"}, ("ValidationException", "Parameter ScheduleExpression is not valid.")),
        ({"EventPattern": '{"source": "x"}'},
         ("InvalidEventPatternException", 'Event pattern is not valid. Reason: "source" must be an object or an array')),
        ({"EventPattern": '{"a": [{"numeric": [">", 5, "<", 1]}]}'},
         ("InvalidEventPatternException", "Event pattern is not valid. Reason: Bottom must be less than top")),
        ({"EventPattern": '{"a": ["b"]}', "State": "PAUSED"},
         ("ValidationException", "1 validation error detected: Value 'PAUSED' at 'state' failed to satisfy constraint: "
          "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]")),
    ],
)  # fmt: skip
def test_put_rule_errors(events: Any, arguments: dict[str, str], expected: tuple[str, str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        events.put_rule(Name=unique("rule"), **arguments)
    assert error_of(excinfo) == expected


def test_targets(events: Any) -> None:
    name = unique("rule")
    events.put_rule(Name=name, EventPattern='{"source": ["a"]}')
    transformer = {"InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"from": <s>}'}
    result = events.put_targets(
        Rule=name,
        Targets=[
            {"Id": "plain", "Arn": FUNCTION},
            {"Id": "input", "Arn": FUNCTION, "Input": '{"k": 1}'},
            {"Id": "path", "Arn": FUNCTION + ":live", "InputPath": "$.detail"},
            {"Id": "shaped", "Arn": FUNCTION, "InputTransformer": transformer, "RetryPolicy": {"MaximumRetryAttempts": 3}},
        ],
    )  # fmt: skip
    assert (result["FailedEntryCount"], result["FailedEntries"]) == (0, [])
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    assert targets == [
        {"Id": "input", "Arn": FUNCTION, "Input": '{"k": 1}'},
        {"Id": "path", "Arn": FUNCTION + ":live", "InputPath": "$.detail"},
        {"Id": "plain", "Arn": FUNCTION},
        {"Id": "shaped", "Arn": FUNCTION, "InputTransformer": transformer, "RetryPolicy": {"MaximumRetryAttempts": 3}},
    ]  # fmt: skip
    page = events.list_targets_by_rule(Rule=name, Limit=3)
    assert [t["Id"] for t in page["Targets"]] == ["input", "path", "plain"]
    rest = events.list_targets_by_rule(Rule=name, Limit=3, NextToken=page["NextToken"])
    assert [t["Id"] for t in rest["Targets"]] == ["shaped"] and "NextToken" not in rest
    assert name in events.list_rule_names_by_target(TargetArn=FUNCTION)["RuleNames"]
    # a rule holds at most five targets
    events.put_targets(Rule=name, Targets=[{"Id": "fifth", "Arn": FUNCTION}])
    with pytest.raises(ClientError) as excinfo:
        events.put_targets(Rule=name, Targets=[{"Id": "sixth", "Arn": FUNCTION}])
    assert error_of(excinfo) == (
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.",
    )
    events.put_targets(
        Rule=name, Targets=[{"Id": "fifth", "Arn": FUNCTION, "Input": "{}"}]
    )  # replacing is fine
    with pytest.raises(ClientError) as excinfo:
        events.delete_rule(Name=name)
    assert error_of(excinfo) == ("ValidationException", "Rule can't be deleted since it has targets.")
    removed = events.remove_targets(Rule=name, Ids=["plain", "input", "path", "shaped", "fifth"])
    assert removed["FailedEntryCount"] == 0
    assert events.list_targets_by_rule(Rule=name)["Targets"] == []
    events.delete_rule(Name=name)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ({"Id": "t1", "Arn": "not-an-arn"}, "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format."),
        ({"Id": "t1", "Arn": FUNCTION, "Input": "{}", "InputPath": "$"},
         "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
        ({"Id": "t1", "Arn": FUNCTION, "Input": "not json"}, "JSON syntax error in input for target t1"),
        ({"Id": "t1", "Arn": FUNCTION, "InputPath": "detail"}, "InputPath for target t1 is invalid."),
        ({"Id": "t1", "Arn": FUNCTION, "InputTransformer": {"InputTemplate": "<nope>"}},
         "InputTemplate for target t1 contains invalid placeholder nope."),
        ({"Id": "t1", "Arn": "arn:aws:states:us-east-1:000000000000:stateMachine:sm"},
         "RoleArn is required for target arn:aws:states:us-east-1:000000000000:stateMachine:sm."),
    ],
)  # fmt: skip
def test_put_targets_errors(events: Any, target: dict[str, Any], expected: str) -> None:
    name = unique("rule")
    events.put_rule(Name=name, EventPattern='{"source": ["a"]}')
    with pytest.raises(ClientError) as excinfo:
        events.put_targets(Rule=name, Targets=[target])
    assert error_of(excinfo) == ("ValidationException", expected)
    events.delete_rule(Name=name)


def test_missing_rules_and_buses(events: Any) -> None:
    missing = unique("missing")
    for call in (
        lambda: events.put_targets(Rule=missing, Targets=[{"Id": "t", "Arn": FUNCTION}]),
        lambda: events.remove_targets(Rule=missing, Ids=["t"]),
        lambda: events.list_targets_by_rule(Rule=missing),
        lambda: events.enable_rule(Name=missing),
        lambda: events.disable_rule(Name=missing),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == (
            "ResourceNotFoundException",
            f"Rule {missing} does not exist on EventBus default.",
        )
    with pytest.raises(ClientError) as excinfo:
        events.list_rules(EventBusName=missing)
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Event bus {missing} does not exist.")


def test_list_rules_by_prefix_in_pages(events: Any) -> None:
    prefix = unique("page")
    for index in range(5):
        events.put_rule(Name=f"{prefix}-{index}", EventPattern='{"source": ["a"]}')
    first = events.list_rules(NamePrefix=prefix, Limit=2)
    names = [r["Name"] for r in first["Rules"]]
    token = first["NextToken"]
    while token:
        page = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=token)
        names += [r["Name"] for r in page["Rules"]]
        token = page.get("NextToken")
    assert names == [f"{prefix}-{index}" for index in range(5)]
    paginated = events.get_paginator("list_rules").paginate(
        NamePrefix=prefix, PaginationConfig={"PageSize": 3}
    )
    assert [r["Name"] for page in paginated for r in page["Rules"]] == names
    for name in names:
        events.delete_rule(Name=name)


def test_test_event_pattern(events: Any) -> None:
    event = {
        "id": "1", "account": ACCOUNT, "source": "shop", "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
        "detail-type": "Order", "resources": [], "detail": {"total": 12},
    }  # fmt: skip
    pattern = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 10]}]}}
    assert (
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"] is True
    )
    pattern["detail"] = {"total": [{"numeric": [">", 20]}]}
    assert (
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
        is False
    )
    with pytest.raises(ClientError) as excinfo:
        events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps({"source": "shop"}))
    assert error_of(excinfo) == ("ValidationException", "Parameter Event is not valid.")
    with pytest.raises(ClientError) as excinfo:
        events.test_event_pattern(EventPattern='{"source": [{"exists": 1}]}', Event=json.dumps(event))
    assert error_of(excinfo) == (
        "InvalidEventPatternException",
        "Event pattern is not valid. Reason: exists match pattern must be either true or false.",
    )


def test_operations_not_served_yet_answer_an_aws_shaped_error(events: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        events.list_archives()
    assert excinfo.value.response["Error"]["Code"] == "NotImplementedException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
