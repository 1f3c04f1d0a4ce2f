"""Event buses' resource-based policies (PutPermission, RemovePermission) and UpdateEventBus, through
boto3; the policy takes part in PutEvents' IAM check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, unique
from tests.functional.test_events_rules import PREFIX, error_of
from tests.functional.test_iam_enforcement import Users, allow, document

ENTRY = {"Source": "shop", "DetailType": "order", "Detail": "{}"}


@pytest.fixture(scope="module")
def events(server: Server) -> Any:
    return server.client("events")


def policy_of(events: Any, bus: str) -> dict[str, Any] | None:
    text = events.describe_event_bus(Name=bus).get("Policy")
    return json.loads(text) if text is not None else None


def test_statements_added_replaced_and_removed(events: Any) -> None:
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    assert policy_of(events, bus) is None
    events.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal="111111111111", StatementId="a"
    )
    events.put_permission(
        EventBusName=bus,
        Action="events:PutEvents",
        Principal="*",
        StatementId="org",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1234567890"},
    )
    resource = f"{PREFIX}:event-bus/{bus}"
    assert policy_of(events, bus) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "a",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "events:PutEvents",
                "Resource": resource,
            },
            {
                "Sid": "org",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": resource,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}},
            },
        ],
    }
    events.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal="222222222222", StatementId="a"
    )
    statements = policy_of(events, bus)["Statement"]  # type: ignore[index]
    assert [(s["Sid"], s["Principal"]) for s in statements] == [
        ("org", "*"),
        ("a", {"AWS": "arn:aws:iam::222222222222:root"}),
    ]
    listed = events.list_event_buses(NamePrefix=bus)["EventBuses"][0]
    assert json.loads(listed["Policy"]) == policy_of(events, bus)
    events.remove_permission(EventBusName=bus, StatementId="org")
    assert [s["Sid"] for s in policy_of(events, bus)["Statement"]] == ["a"]  # type: ignore[index]
    events.remove_permission(EventBusName=bus, StatementId="a")
    assert policy_of(events, bus) is None  # no statement left: no policy
    whole = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x", "Effect": "Allow"}]})
    events.put_permission(EventBusName=bus, Policy=whole)
    assert events.describe_event_bus(Name=bus)["Policy"] == whole  # kept as given
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert policy_of(events, bus) is None
    events.delete_event_bus(Name=bus)


def test_the_default_bus_when_none_is_named(events: Any) -> None:
    events.put_permission(Action="events:PutEvents", Principal="111111111111", StatementId="dflt")
    try:
        assert [s["Sid"] for s in policy_of(events, "default")["Statement"]] == ["dflt"]  # type: ignore[index]
    finally:
        events.remove_permission(StatementId="dflt")
    assert policy_of(events, "default") is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"Action": "events:PutRule", "Principal": "111111111111", "StatementId": "s"},
            ("ValidationException", "Provided value in parameter 'action' is not supported."),
        ),
        (
            {"Action": "events:PutEvents", "StatementId": "s"},
            ("ValidationException", "Parameter Principal must be specified."),
        ),
        (
            {
                "Action": "events:PutEvents",
                "Principal": "111111111111",
                "StatementId": "s",
                "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"},
            },
            (
                "InvalidParameterValue",
                "Value of the parameter 'principal' must be '*' when the parameter 'condition' is set.",
            ),
        ),
        ({"Policy": "{not json"}, ("ValidationException", "This policy contains invalid Json")),
        (
            {"Policy": "{}", "StatementId": "s"},
            (
                "ValidationException",
                "Policy cannot be combined with Action, Principal, StatementId or Condition.",
            ),
        ),
    ],
)
def test_put_permission_errors(events: Any, arguments: dict[str, Any], expected: tuple[str, str]) -> None:
    with pytest.raises(ClientError) as excinfo:
        events.put_permission(**arguments)
    assert error_of(excinfo) == expected


def test_put_permission_checks_the_model_and_the_bus(events: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        events.put_permission(Action="events:PutEvents", Principal="someone", StatementId="s")
    assert error_of(excinfo)[0] == "ValidationException"
    assert "Member must satisfy regular expression pattern" in error_of(excinfo)[1]
    missing = unique("missing")
    with pytest.raises(ClientError) as excinfo:
        events.put_permission(
            EventBusName=missing, Action="events:PutEvents", Principal="111111111111", StatementId="s"
        )
    assert error_of(excinfo) == ("ResourceNotFoundException", f"Event bus {missing} does not exist.")


def test_remove_permission_errors(events: Any) -> None:
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    with pytest.raises(ClientError) as excinfo:
        events.remove_permission(EventBusName=bus, StatementId="s")
    assert error_of(excinfo) == ("ResourceNotFoundException", "EventBus does not have a policy.")
    events.put_permission(
        EventBusName=bus, Action="events:PutEvents", Principal="111111111111", StatementId="s"
    )
    with pytest.raises(ClientError) as excinfo:
        events.remove_permission(EventBusName=bus, StatementId="other")
    assert error_of(excinfo) == (
        "ResourceNotFoundException",
        "Statement with the provided id does not exist.",
    )
    events.delete_event_bus(Name=bus)


def test_update_event_bus_sets_what_it_is_given(events: Any) -> None:
    bus = unique("bus")
    created = events.create_event_bus(
        Name=bus, Description="first", DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}
    )
    assert created["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}
    before = events.describe_event_bus(Name=bus)
    updated = events.update_event_bus(
        Name=bus,
        Description="second",
        KmsKeyIdentifier="alias/events",
        LogConfig={"IncludeDetail": "FULL", "Level": "INFO"},
    )
    assert updated == {
        "Arn": f"{PREFIX}:event-bus/{bus}",
        "Name": bus,
        "Description": "second",
        "KmsKeyIdentifier": "alias/events",
        "LogConfig": {"IncludeDetail": "FULL", "Level": "INFO"},
        "ResponseMetadata": updated["ResponseMetadata"],
    }
    described = events.describe_event_bus(Name=bus)
    assert described["Description"] == "second" and "DeadLetterConfig" not in described
    assert described["LastModifiedTime"] >= before["LastModifiedTime"]
    assert described["CreationTime"] == before["CreationTime"]
    with pytest.raises(ClientError) as excinfo:
        events.update_event_bus(Name=unique("missing"))
    assert error_of(excinfo)[0] == "ResourceNotFoundException"
    events.delete_event_bus(Name=bus)


def test_the_bus_policy_lets_a_principal_put_events(server: Server, events: Any) -> None:
    """A user without any policy of its own may put events on a bus whose policy names it, and only there."""
    users = Users(server)
    user_arn, keys = users.create(inline=document(allow("events:DescribeEventBus")))
    theirs = users.client("events", keys)
    bus, other = unique("bus"), unique("bus")
    events.create_event_bus(Name=bus)
    events.create_event_bus(Name=other)
    with pytest.raises(ClientError) as excinfo:
        theirs.put_events(Entries=[{**ENTRY, "EventBusName": bus}])
    assert error_of(excinfo)[0] == "AccessDeniedException"
    grant = {
        "Sid": "user",
        "Effect": "Allow",
        "Principal": {"AWS": user_arn},
        "Action": "events:PutEvents",
        "Resource": f"{PREFIX}:event-bus/{bus}",
    }
    events.put_permission(
        EventBusName=bus, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
    )
    assert theirs.put_events(Entries=[{**ENTRY, "EventBusName": bus}])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        theirs.put_events(Entries=[{**ENTRY, "EventBusName": other}])
    assert error_of(excinfo)[0] == "AccessDeniedException"
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    with pytest.raises(ClientError) as excinfo:
        theirs.put_events(Entries=[{**ENTRY, "EventBusName": bus}])
    assert error_of(excinfo)[0] == "AccessDeniedException"
