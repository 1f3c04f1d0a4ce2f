"""EventBridge Scheduler through a real server and real boto3 / AWS CLI clients: schedule groups and tags,
schedules and their validation, and fires — at() once within a second of its due time, deleted after
completion when asked, cron in a time zone at the right UTC instant, EventBridge bus and universal targets,
the target's RetryPolicy, and restarts that neither double nor replay fires.

Tests do not wait for due times: the server runs with `LAMBDABOX_TEST_HOOKS=1`, and
`POST /_lambdabox/scheduler/tick?now=<t>` sets the platform clock to `t` and runs a scheduler pass at once.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.config import Config

from tests.conftest import BROAD_POLICY, Server, create_function, raw_request, unique, wait_for_logs

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler"
SCHEDULER_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                              "Principal": {"Service": "scheduler.amazonaws.com"}}]})  # fmt: skip
HOOKS = {"LAMBDABOX_TEST_HOOKS": "1"}
OFF = {"Mode": "OFF"}

# Logs every event it receives as one line: "EVENT <json>".
RECORDER = """
import json


def handler(event, context):
    print("EVENT " + json.dumps(event))
"""
FAILING = """
def handler(event, context):
    raise RuntimeError("always fails")
"""


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = with_role(Server(tmp_path_factory.mktemp("scheduler") / "data", extra_env=dict(HOOKS)).start())
    yield instance
    instance.close_clients()
    if instance.process is not None:
        instance.stop()


def with_role(server: Server) -> Server:
    """Create ROLE, the execution role of the schedules here: fires act as it (it may do anything)."""
    server.ensure_role(ROLE.rsplit("/", 1)[1], BROAD_POLICY, trust=SCHEDULER_TRUST)
    return server


@pytest.fixture(scope="module")
def scheduler(hooked: Server) -> Any:
    return hooked.client("scheduler")


def state(server: Server) -> Any:
    response = raw_request("GET", f"{server.endpoint}/_lambdabox/scheduler")
    assert response.status == 200
    return response.json()


def next_fire(server: Server, arn: str) -> float | None:
    return next((s["nextFire"] for s in state(server)["schedules"] if s["arn"] == arn), None)


def tick(server: Server, now: float, arn: str) -> list[float]:
    """Run a scheduler pass at `now`; the due times it fired for `arn`."""
    response = raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={now}")
    assert response.status == 200, response.data
    return [fire["time"] for fire in response.json()["fired"] if fire["rule"] == arn]


def at_expression(seconds: float, zone: str = "UTC") -> str:
    return datetime.fromtimestamp(seconds, ZoneInfo(zone)).strftime("at(%Y-%m-%dT%H:%M:%S)")


def received(server: Server, function_name: str, count: int) -> list[Any]:
    def recorded(messages: list[str]) -> list[Any]:
        return [json.loads(m[len("EVENT ") :]) for m in messages if m.startswith("EVENT ")]

    return recorded(wait_for_logs(server, function_name, lambda messages: len(recorded(messages)) >= count))


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def lambda_target(name: str, **extra: Any) -> dict[str, Any]:
    return {"Arn": function_arn(name), "RoleArn": ROLE, **extra}


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    try:
        call()
    except Exception as exc:  # botocore ClientError
        response = exc.response  # type: ignore[attr-defined]
        return (
            response["Error"]["Code"],
            response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"],
        )
    raise AssertionError("the call succeeded")


# -- groups and tags -------------------------------------------------------------------------------------
def test_schedule_groups_tags_and_the_default_group(scheduler: Any) -> None:
    default = scheduler.get_schedule_group(Name="default")
    assert default["Arn"] == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/default"
    assert default["State"] == "ACTIVE"
    assert error_of(lambda: scheduler.delete_schedule_group(Name="default")) == (
        "ValidationException", "This operation cannot be performed on schedule group default.", 400
    )  # fmt: skip
    assert error_of(lambda: scheduler.create_schedule_group(Name="default"))[0] == "ConflictException"

    name = unique("grp")
    arn = scheduler.create_schedule_group(Name=name, Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert arn == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/{name}"
    assert error_of(lambda: scheduler.create_schedule_group(Name=name)) == (
        "ConflictException", f"Schedule group {name} already exists.", 409
    )  # fmt: skip
    scheduler.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}]
    )
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "b"}]
    missing = arn + "x"
    assert error_of(lambda: scheduler.list_tags_for_resource(ResourceArn=missing)) == (
        "ResourceNotFoundException", f"Schedule group {name}x does not exist.", 404
    )  # fmt: skip

    others = [scheduler.create_schedule_group(Name=f"{name}-{i}") for i in range(3)]
    assert len(others) == 3
    pages = scheduler.get_paginator("list_schedule_groups").paginate(
        NamePrefix=name, PaginationConfig={"PageSize": 2}
    )
    listed = [[g["Name"] for g in page["ScheduleGroups"]] for page in pages]
    assert listed == [[name, f"{name}-0"], [f"{name}-1", f"{name}-2"]]

    # deleting a group deletes its schedules
    scheduler.create_schedule(
        Name="inside", GroupName=name, ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
        Target={"Arn": function_arn("any"), "RoleArn": ROLE},
    )  # fmt: skip
    scheduler.delete_schedule_group(Name=name)
    assert error_of(lambda: scheduler.get_schedule_group(Name=name)) == (
        "ResourceNotFoundException", f"Schedule group {name} does not exist.", 404
    )  # fmt: skip
    assert scheduler.list_schedules(NamePrefix="inside")["Schedules"] == []
    assert error_of(lambda: scheduler.delete_schedule_group(Name=name))[0] == "ResourceNotFoundException"


# -- schedules -------------------------------------------------------------------------------------------
def test_create_get_update_delete_a_schedule(scheduler: Any) -> None:
    name = unique("sched")
    arn = scheduler.create_schedule(
        Name=name,
        ScheduleExpression="cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Paris",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Description="weekday mornings",
        Target=lambda_target(
            "worker", Input='{"job": "report"}', DeadLetterConfig={"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"},
            RetryPolicy={"MaximumRetryAttempts": 3},
        ),
    )["ScheduleArn"]  # fmt: skip
    assert arn == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/{name}"
    got = scheduler.get_schedule(Name=name)
    got.pop("ResponseMetadata")
    created = got.pop("CreationDate")
    assert got.pop("LastModificationDate") == created
    assert got == {
        "Arn": arn,
        "GroupName": "default",
        "Name": name,
        "ScheduleExpression": "cron(0 9 ? * MON-FRI *)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "Description": "weekday mornings",
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        "ActionAfterCompletion": "NONE",
        "Target": {
            "Arn": function_arn("worker"),
            "RoleArn": ROLE,
            "Input": '{"job": "report"}',
            "DeadLetterConfig": {"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"},
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 86400},
        },
    }
    assert error_of(
        lambda: scheduler.create_schedule(
            Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF, Target=lambda_target("w")
        )
    ) == ("ConflictException", f"Schedule {name} already exists.", 409)

    # a retry of the same request (same ClientToken) succeeds again, as AWS; another one conflicts
    again = {"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": OFF, "Target": lambda_target("w")}
    token = unique("token")
    retried = unique("retried")
    first = scheduler.create_schedule(Name=retried, ClientToken=token, **again)["ScheduleArn"]
    assert scheduler.create_schedule(Name=retried, ClientToken=token, **again)["ScheduleArn"] == first
    assert error_of(lambda: scheduler.create_schedule(Name=retried, **again))[0] == "ConflictException"
    scheduler.delete_schedule(Name=retried)

    # UpdateSchedule replaces the whole schedule: what it leaves out takes its default
    scheduler.update_schedule(
        Name=name, ScheduleExpression="rate(2 hours)", FlexibleTimeWindow=OFF, Target=lambda_target("worker"),
        State="DISABLED",
    )  # fmt: skip
    updated = scheduler.get_schedule(Name=name)
    assert updated["ScheduleExpression"] == "rate(2 hours)"
    assert updated["ScheduleExpressionTimezone"] == "UTC"
    assert updated["State"] == "DISABLED"
    assert "Description" not in updated and "Input" not in updated["Target"]
    assert updated["Target"]["RetryPolicy"] == {
        "MaximumRetryAttempts": 185,
        "MaximumEventAgeInSeconds": 86400,
    }
    assert updated["CreationDate"] == created and updated["LastModificationDate"] >= created

    scheduler.delete_schedule(Name=name)
    assert error_of(lambda: scheduler.get_schedule(Name=name)) == (
        "ResourceNotFoundException", f"Schedule {name} does not exist.", 404
    )  # fmt: skip
    assert error_of(lambda: scheduler.delete_schedule(Name=name))[0] == "ResourceNotFoundException"
    assert (
        error_of(
            lambda: scheduler.update_schedule(
                Name=name,
                ScheduleExpression="rate(1 hour)",
                FlexibleTimeWindow=OFF,
                Target=lambda_target("w"),
            )
        )[0]
        == "ResourceNotFoundException"
    )
    assert error_of(lambda: scheduler.get_schedule(Name=name, GroupName="nope")) == (
        "ResourceNotFoundException", "Schedule group nope does not exist.", 404
    )  # fmt: skip


def test_list_schedules_by_group_prefix_and_state_with_pages(scheduler: Any) -> None:
    prefix = unique("ls")
    group = unique("lsgrp")
    scheduler.create_schedule_group(Name=group)
    for i, (where, state_) in enumerate(
        [("default", "ENABLED"), ("default", "DISABLED"), (group, "ENABLED")]
    ):
        scheduler.create_schedule(
            Name=f"{prefix}-{i}", GroupName=where, ScheduleExpression="rate(7 days)", State=state_,
            FlexibleTimeWindow=OFF, Target=lambda_target("w"),
        )  # fmt: skip

    def names(**filters: Any) -> list[str]:
        pages = scheduler.get_paginator("list_schedules").paginate(
            NamePrefix=prefix, PaginationConfig={"PageSize": 1}, **filters
        )
        return [s["Name"] for page in pages for s in page["Schedules"]]

    assert names() == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    assert names(GroupName=group) == [f"{prefix}-2"]
    assert names(State="DISABLED") == [f"{prefix}-1"]
    summary = scheduler.list_schedules(NamePrefix=f"{prefix}-2")["Schedules"][0]
    assert summary["GroupName"] == group and summary["Target"] == {"Arn": function_arn("w")}
    assert error_of(lambda: scheduler.list_schedules(GroupName="nope"))[0] == "ResourceNotFoundException"
    assert error_of(lambda: scheduler.list_schedules(NextToken="garbage"))[0] == "ValidationException"
    scheduler.delete_schedule_group(Name=group)
    for i in range(2):
        scheduler.delete_schedule(Name=f"{prefix}-{i}")


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"ScheduleExpression": "cron(0 12 1 * MON *)"}, "ValidationException",
         "Invalid Schedule Expression cron(0 12 1 * MON *)."),
        ({"ScheduleExpression": "cron(0 12 * * ?)"}, "ValidationException",
         "Invalid Schedule Expression cron(0 12 * * ?)."),
        ({"ScheduleExpression": "rate(1 minutes)"}, "ValidationException",
         "Invalid Schedule Expression rate(1 minutes)."),
        ({"ScheduleExpression": "at(2030-02-30T10:00:00)"}, "ValidationException",
         "Invalid Schedule Expression at(2030-02-30T10:00:00)."),
        ({"ScheduleExpressionTimezone": "Mars/Olympus_Mons"}, "ValidationException",
         "Invalid ScheduleExpressionTimezone Mars/Olympus_Mons."),
        ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}}, "ValidationException",
         "MaximumWindowInMinutes must be provided when Mode is FLEXIBLE."),
        ({"StartDate": datetime(2020, 1, 1, tzinfo=UTC)}, "ValidationException",
         "The StartDate you specify cannot be earlier than 5 minutes ago."),
        ({"GroupName": "nope"}, "ResourceNotFoundException", "Schedule group nope does not exist."),
        ({"Target": {"Arn": "not-an-arn", "RoleArn": ROLE}}, "ValidationException", "Invalid target arn not-an-arn."),
        ({"Target": {"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default", "RoleArn": ROLE}},
         "ValidationException", "EventBridgeParameters must be specified for an EventBridge PutEvents target."),
    ],
)  # fmt: skip
def test_invalid_schedules_are_refused_as_aws_does(
    scheduler: Any, changes: dict[str, Any], code: str, message: str
) -> None:
    request: dict[str, Any] = {
        "Name": unique("bad"),
        "ScheduleExpression": "rate(1 hour)",
        "FlexibleTimeWindow": OFF,
        "Target": lambda_target("w"),
        **changes,
    }
    assert error_of(lambda: scheduler.create_schedule(**request)) == (
        code,
        message,
        404 if "NotFound" in code else 400,
    )


def test_model_constraints_are_checked_by_the_server(hooked: Server) -> None:
    scheduler = hooked.client("scheduler", parameter_validation=False)
    code, message, status = error_of(
        lambda: scheduler.create_schedule(
            Name="x", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow=OFF,
            Target={**lambda_target("w"), "RetryPolicy": {"MaximumRetryAttempts": 186}},
        )
    )  # fmt: skip
    assert (code, status) == ("ValidationException", 400) and "185" in message


def test_cron_with_both_day_fields_is_refused_for_rules_too(hooked: Server) -> None:
    events = hooked.client("events")
    assert error_of(lambda: events.put_rule(Name=unique("r"), ScheduleExpression="cron(0 12 1 * MON *)")) == (
        "ValidationException",
        "Parameter ScheduleExpression is not valid.",
        400,
    )


# -- fires -----------------------------------------------------------------------------------------------
def test_at_fires_once_within_a_second_of_due_and_is_deleted_after_completion(
    hooked: Server, scheduler: Any
) -> None:
    name = create_function(hooked.client("lambda"), RECORDER)
    due = math.floor(state(hooked)["now"]) + 3600
    arn = scheduler.create_schedule(
        Name=unique("once"), ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        Target=lambda_target(name, Input='{"at": "<aws.scheduler.scheduled-time>", "arn": "<aws.scheduler.schedule-arn>"}'),
    )["ScheduleArn"]  # fmt: skip
    assert next_fire(hooked, arn) == due
    assert tick(hooked, due - 0.5, arn) == []  # the platform clock now reads half a second before due
    began = time.monotonic()
    while next_fire(hooked, arn) is not None and time.monotonic() - began < 5:
        time.sleep(0.01)
    waited = time.monotonic() - began
    assert 0.4 < waited < 1.3, waited  # fired by the background loop well within a second of its due time
    iso = datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert received(hooked, name, 1) == [{"at": iso, "arn": arn}]
    assert (
        error_of(lambda: scheduler.get_schedule(Name=arn.rsplit("/", 1)[1]))[0] == "ResourceNotFoundException"
    )
    assert tick(hooked, due + 90, arn) == []
    time.sleep(0.3)
    assert len(received(hooked, name, 1)) == 1


def test_cron_in_a_time_zone_fires_at_the_right_utc_instant(hooked: Server, scheduler: Any) -> None:
    name = create_function(hooked.client("lambda"), RECORDER)
    now = state(hooked)["now"]
    arns = {}
    for zone in ("America/New_York", "Asia/Kolkata"):
        arns[zone] = scheduler.create_schedule(
            Name=unique("tz"), ScheduleExpression="cron(30 9 * * ? *)", ScheduleExpressionTimezone=zone,
            FlexibleTimeWindow=OFF, Target=lambda_target(name, Input=json.dumps({"zone": zone})),
        )["ScheduleArn"]  # fmt: skip
    fires = {zone: next_fire(hooked, arn) for zone, arn in arns.items()}
    # The earlier fire first: moving the clock to the later one would pass the other's, which then
    # fires (rightly) once more when its own turn moves the clock a day further.
    for zone in sorted(arns, key=lambda zone: fires[zone] or 0):
        arn, fire = arns[zone], fires[zone]
        local_now = datetime.fromtimestamp(now, ZoneInfo(zone))
        nine_thirty = local_now.replace(hour=9, minute=30, second=0, microsecond=0)
        expected = nine_thirty.timestamp() if nine_thirty > local_now else None
        assert fire is not None
        if expected is not None:
            assert fire == expected
        local = datetime.fromtimestamp(fire, ZoneInfo(zone))
        assert (local.hour, local.minute, local.second) == (9, 30, 0)
        assert tick(hooked, fire - 0.5, arn) == []
        assert tick(hooked, fire + 0.2, arn) == [fire]
        scheduler.delete_schedule(Name=arn.rsplit("/", 1)[1])
    zones = sorted(event["zone"] for event in received(hooked, name, 2))
    assert zones == ["America/New_York", "Asia/Kolkata"]


def test_start_date_and_flexible_window_place_the_first_fire(hooked: Server, scheduler: Any) -> None:
    start = math.floor(state(hooked)["now"]) + 86_400
    name = unique("flex")
    arn = scheduler.create_schedule(
        Name=name, ScheduleExpression="rate(1 hour)", StartDate=datetime.fromtimestamp(start, UTC),
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}, Target=lambda_target("w"),
    )["ScheduleArn"]  # fmt: skip
    fire = next_fire(hooked, arn)
    assert fire is not None and start <= fire < start + 600
    assert scheduler.get_schedule(Name=name)["StartDate"] == datetime.fromtimestamp(start, UTC)
    scheduler.delete_schedule(Name=name)


def test_event_bus_target_puts_an_event_through_eventbridge(hooked: Server, scheduler: Any) -> None:
    lambda_client, events = hooked.client("lambda"), hooked.client("events")
    name = create_function(lambda_client, RECORDER)
    source = unique("my.app")
    rule = unique("from-scheduler")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))["RuleArn"]
    lambda_client.add_permission(
        FunctionName=name, StatementId="events", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule_arn,
    )  # fmt: skip
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function_arn(name)}])
    due = math.floor(state(hooked)["now"]) + 7200
    arn = scheduler.create_schedule(
        Name=unique("bus"), ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        Target={"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default", "RoleArn": ROLE,
                "Input": '{"order": 7}', "EventBridgeParameters": {"DetailType": "Nightly", "Source": source}},
    )["ScheduleArn"]  # fmt: skip
    assert tick(hooked, due + 0.1, arn) == [due]
    [event] = received(hooked, name, 1)
    assert (event["source"], event["detail-type"], event["detail"]) == (source, "Nightly", {"order": 7})
    assert event["resources"] == [arn]
    events.remove_targets(Rule=rule, Ids=["fn"])
    events.delete_rule(Name=rule)


def test_universal_lambda_invoke_target(hooked: Server, scheduler: Any) -> None:
    name = create_function(hooked.client("lambda"), RECORDER)
    due = math.floor(state(hooked)["now"]) + 7300
    invoke = {"FunctionName": name, "InvocationType": "Event", "Payload": json.dumps({"via": "aws-sdk"})}
    arn = scheduler.create_schedule(
        Name=unique("sdk"), ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        Target={"Arn": "arn:aws:scheduler:::aws-sdk:lambda:invoke", "RoleArn": ROLE, "Input": json.dumps(invoke)},
    )["ScheduleArn"]  # fmt: skip
    assert tick(hooked, due + 0.1, arn) == [due]
    assert received(hooked, name, 1) == [{"via": "aws-sdk"}]


def test_sqs_target_is_stored_and_its_fires_are_logged_as_undelivered(hooked: Server, scheduler: Any) -> None:
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs.fifo"
    due = math.floor(state(hooked)["now"]) + 7400
    name = unique("sqs")
    arn = scheduler.create_schedule(
        Name=name, ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        Target={"Arn": queue, "RoleArn": ROLE, "SqsParameters": {"MessageGroupId": "g"}},
    )["ScheduleArn"]  # fmt: skip
    assert scheduler.get_schedule(Name=name)["Target"]["SqsParameters"] == {"MessageGroupId": "g"}
    fired = raw_request("POST", f"{hooked.endpoint}/_lambdabox/scheduler/tick?now={due + 0.1}").json()[
        "fired"
    ]
    assert [(f["targets"], f["delivered"]) for f in fired if f["rule"] == arn] == [(1, 0)]
    assert f"schedule {arn}" in hooked.log()


def test_a_refused_fire_is_retried_per_the_retry_policy_until_the_function_exists(
    hooked: Server, scheduler: Any
) -> None:
    lambda_client = hooked.client("lambda")
    name = unique("later")
    due = math.floor(state(hooked)["now"]) + 7500
    arn = scheduler.create_schedule(
        Name=unique("retry"), ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        Target=lambda_target(name, Input='{"attempt": <aws.scheduler.attempt-number>}',
                             RetryPolicy={"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 3600}),
    )["ScheduleArn"]  # fmt: skip
    fired = raw_request("POST", f"{hooked.endpoint}/_lambdabox/scheduler/tick?now={due + 0.1}").json()[
        "fired"
    ]
    assert [(f["time"], f["delivered"]) for f in fired if f["rule"] == arn] == [(due, 0)]  # no such function
    create_function(lambda_client, RECORDER, name=name)
    tick(hooked, due + 600, arn)  # the next retry is due by then (backoff doubles from 1 s, at most 5 min)
    [event] = received(hooked, name, 1)
    assert event["attempt"] > 1


def test_function_errors_are_retried_by_lambda_with_the_function_settings(
    hooked: Server, scheduler: Any
) -> None:
    lambda_client = hooked.client("lambda")
    name = create_function(lambda_client, FAILING)
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    due = math.floor(state(hooked)["now"]) + 7600
    arn = scheduler.create_schedule(
        Name=unique("fails"), ScheduleExpression=at_expression(due), FlexibleTimeWindow=OFF,
        Target=lambda_target(name, RetryPolicy={"MaximumRetryAttempts": 0}),
    )["ScheduleArn"]  # fmt: skip
    assert tick(hooked, due + 0.1, arn) == [due]  # handed to Lambda: the schedule's part is done

    def starts(messages: list[str]) -> int:
        return sum(1 for m in messages if m.startswith("START "))

    wait_for_logs(hooked, name, lambda messages: starts(messages) >= 2)
    time.sleep(1.5)  # retry delays are 0.5 s here: a third attempt would have started by now
    assert starts(wait_for_logs(hooked, name, lambda messages: True)) == 2


def test_aws_cli_creates_and_lists_schedules(hooked: Server) -> None:
    aws = Path(sys.executable).parent / "aws"
    name = unique("cli")
    env = hooked.client_env()

    def run(*args: str) -> Any:
        done = subprocess.run(
            [str(aws), "scheduler", *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    created = run(
        "create-schedule", "--name", name, "--schedule-expression", "rate(5 minutes)",
        "--flexible-time-window", "Mode=OFF", "--target", json.dumps(lambda_target("w")),
    )  # fmt: skip
    assert created["ScheduleArn"].endswith(f"/default/{name}")
    assert [s["Name"] for s in run("list-schedules", "--name-prefix", name)["Schedules"]] == [name]
    run("delete-schedule", "--name", name)


# -- restarts --------------------------------------------------------------------------------------------
def test_restart_neither_doubles_nor_replays_and_a_missed_at_fires_once_at_start(
    server_factory: Callable[..., Server],
) -> None:
    server = with_role(server_factory(**HOOKS))
    scheduler = server.client("scheduler")
    name = create_function(server.client("lambda"), RECORDER)
    minute = math.floor(state(server)["now"] / 60 + 1) * 60
    tick(server, minute + 5, "")
    arn = scheduler.create_schedule(
        Name="every-5", ScheduleExpression="cron(*/5 * * * ? *)", FlexibleTimeWindow=OFF,
        Target=lambda_target(name, Input='{"kind": "cron", "at": "<aws.scheduler.scheduled-time>"}'),
    )["ScheduleArn"]  # fmt: skip
    first = next_fire(server, arn)
    assert first is not None and first % 300 == 0
    assert tick(server, first + 0.2, arn) == [first]
    assert len(received(server, name, 1)) == 1

    # killed and back within the minute: the fire was committed with its invocation, it is not owed again
    server.stop(signal.SIGKILL)
    server.start()
    assert tick(server, first + 30, arn) == []
    assert next_fire(server, arn) == first + 300

    # a one-time schedule falls due while the server is down for 11 minutes
    once = scheduler.create_schedule(
        Name="once", ScheduleExpression=at_expression(first + 400), FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE", Target=lambda_target(name, Input='{"kind": "once"}'),
    )["ScheduleArn"]  # fmt: skip
    server.stop(signal.SIGKILL)
    server.extra_env["LAMBDABOX_CLOCK_OFFSET"] = str(first + 660 - time.time())
    server.start()
    assert first + 660 <= state(server)["startedAt"] < first + 690
    kinds = [e["kind"] for e in received(server, name, 2)]
    assert kinds == ["cron", "once"]  # the at() fired once at start; 10:05 and 10:10 were not replayed
    assert next_fire(server, once) is None and next_fire(server, arn) == first + 900
    assert tick(server, first + 899, arn) == []
    assert tick(server, first + 900.2, arn) == [first + 900]
    events = received(server, name, 3)
    time.sleep(0.5)
    assert len(received(server, name, 3)) == 3
    assert events[2]["at"] == datetime.fromtimestamp(first + 900, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- IAM ---------------------------------------------------------------------------------------------------
def test_iam_policies_govern_scheduler_calls_and_passing_the_role(hooked: Server) -> None:
    iam = hooked.client("iam")
    user = unique("user")
    schedule_arn = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "scheduler:CreateSchedule", "Resource": schedule_arn},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
             "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}},
        ],
    }  # fmt: skip
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="scheduler", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = boto3.client(
        "scheduler",
        endpoint_url=hooked.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    request = {"ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": OFF}
    name = unique("iam")
    client.create_schedule(Name=name, Target=lambda_target("w"), **request)
    code, message, status = error_of(lambda: client.get_schedule(Name=name))
    assert (code, status) == ("AccessDeniedException", 403)
    assert "scheduler:GetSchedule" in message and f"schedule/default/{name}" in message
    other_role = f"arn:aws:iam::{ACCOUNT}:role/other"
    code, message, status = error_of(
        lambda: client.create_schedule(
            Name=unique("iam"), Target={"Arn": function_arn("w"), "RoleArn": other_role}, **request
        )
    )
    assert (code, status) == ("AccessDeniedException", 403) and "iam:PassRole" in message
    client.close()
    hooked.client("scheduler").delete_schedule(Name=name)
