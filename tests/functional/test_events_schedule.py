"""Scheduled rules through a real server: the Scheduled Event a function receives, disabled rules, and
restarts that neither double nor replay fires.

Tests do not wait for due times: the server runs with `LAMBDABOX_TEST_HOOKS=1`, and
`POST /_lambdabox/scheduler/tick?now=<t>` sets the platform clock to `t` and runs a scheduler pass at once
(`LAMBDABOX_CLOCK_OFFSET` starts a server with its clock elsewhere, e.g. after a long outage).
"""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Server, create_function, raw_request, unique, wait_for_logs

ACCOUNT = "000000000000"
HOOKS = {"LAMBDABOX_TEST_HOOKS": "1"}

# Logs every event it receives as one line: "EVENT <json>".
RECORDER = """
import json


def handler(event, context):
    print("EVENT " + json.dumps(event))
"""


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduler(server: Server) -> Any:
    response = raw_request("GET", f"{server.endpoint}/_lambdabox/scheduler")
    assert response.status == 200
    return response.json()


def next_fire(server: Server, rule_arn: str) -> float:
    return float(next(r["nextFire"] for r in scheduler(server)["rules"] if r["arn"] == rule_arn))


def tick(server: Server, now: float, rule_arn: str) -> list[float]:
    """Run a scheduler pass at `now`; the due times it fired for `rule_arn`."""
    response = raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={now}")
    assert response.status == 200, response.data
    return [fire["time"] for fire in response.json()["fired"] if fire["rule"] == rule_arn]


def received(server: Server, function_name: str, count: int) -> list[Any]:
    def recorded(messages: list[str]) -> list[Any]:
        return [json.loads(m[len("EVENT ") :]) for m in messages if m.startswith("EVENT ")]

    return recorded(wait_for_logs(server, function_name, lambda messages: len(recorded(messages)) >= count))


def scheduled_rule(server: Server, state: str = "ENABLED", **target: str) -> tuple[str, str]:
    """A recorder function and a `rate(1 minute)` rule targeting it (allowed by its policy), created 5 s
    into a minute: its first fire is 55 s away, so only the test's ticks can reach it."""
    lambda_client, events = server.client("lambda"), server.client("events")
    name = create_function(lambda_client, RECORDER)
    minute = math.floor(scheduler(server)["now"] / 60 + 1) * 60
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={minute + 5}")
    rule = unique("tick")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)", State=state)["RuleArn"]
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": function_arn, **target}])
    return name, rule_arn


def remove_rule(server: Server, rule_arn: str) -> None:
    events, rule = server.client("events"), rule_arn.rsplit("/", 1)[1]
    events.remove_targets(Rule=rule, Ids=["fn"])
    events.delete_rule(Name=rule)


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = Server(tmp_path_factory.mktemp("events-schedule") / "data", extra_env=dict(HOOKS)).start()
    yield instance
    instance.close_clients()
    if instance.process is not None:
        instance.stop()


def test_scheduled_rule_fires_at_its_next_minute_with_the_scheduled_event(hooked: Server) -> None:
    name, rule_arn = scheduled_rule(hooked)
    due = next_fire(hooked, rule_arn)
    now = scheduler(hooked)["now"]
    assert due % 60 == 0 and now < due < now + 60  # the next whole minute
    assert tick(hooked, due - 0.5, rule_arn) == []
    assert tick(hooked, due + 0.2, rule_arn) == [due]
    assert tick(hooked, due + 0.4, rule_arn) == []
    [event] = received(hooked, name, 1)
    assert event == {
        "version": "0",
        "id": event["id"],
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": iso(due),
        "region": "us-east-1",
        "resources": [rule_arn],
        "detail": {},
    }
    assert next_fire(hooked, rule_arn) == due + 60
    remove_rule(hooked, rule_arn)


def test_scheduled_fire_with_an_input_transformer(hooked: Server) -> None:
    transformer = json.dumps({"InputPathsMap": {"at": "$.time"}, "InputTemplate": '{"fired": <at>}'})
    name, rule_arn = scheduled_rule(hooked)
    hooked.client("events").put_targets(
        Rule=rule_arn.rsplit("/", 1)[1],
        Targets=[{"Id": "fn", "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
                  "InputTransformer": json.loads(transformer)}],
    )  # fmt: skip
    due = next_fire(hooked, rule_arn)
    assert tick(hooked, due + 0.1, rule_arn) == [due]
    assert received(hooked, name, 1) == [{"fired": iso(due)}]
    remove_rule(hooked, rule_arn)


def test_disabled_rule_does_not_fire(hooked: Server) -> None:
    name, rule_arn = scheduled_rule(hooked, state="DISABLED")
    events = hooked.client("events")
    rule = rule_arn.rsplit("/", 1)[1]
    due = next_fire(hooked, rule_arn)
    assert tick(hooked, due + 0.1, rule_arn) == []
    assert next_fire(hooked, rule_arn) == due + 60  # its schedule goes on, without firing
    events.enable_rule(Name=rule)
    assert tick(hooked, due + 60.1, rule_arn) == [due + 60]
    events.disable_rule(Name=rule)
    assert tick(hooked, due + 120.1, rule_arn) == []
    time.sleep(0.5)
    assert [e["time"] for e in received(hooked, name, 1)] == [iso(due + 60)]
    remove_rule(hooked, rule_arn)


def test_restart_neither_doubles_nor_replays_fires(server_factory: Callable[..., Server]) -> None:
    server = server_factory(**HOOKS)
    name, rule_arn = scheduled_rule(server)
    first = next_fire(server, rule_arn)
    assert tick(server, first + 0.2, rule_arn) == [first]
    assert [e["time"] for e in received(server, name, 1)] == [iso(first)]

    # killed and back within the minute: the fire was committed with its invocation, it is not owed again
    server.stop(signal.SIGKILL)
    server.start()
    assert tick(server, first + 30, rule_arn) == []
    assert next_fire(server, rule_arn) == first + 60

    # killed and back 2½ minutes later: the fires due meanwhile are not replayed; the schedule goes on
    server.stop(signal.SIGKILL)
    server.extra_env["LAMBDABOX_CLOCK_OFFSET"] = str(first + 150 - time.time())
    server.start()
    assert first + 150 <= scheduler(server)["startedAt"] < first + 179
    assert tick(server, first + 179, rule_arn) == []
    assert next_fire(server, rule_arn) == first + 180
    assert tick(server, first + 180.2, rule_arn) == [first + 180]
    assert [e["time"] for e in received(server, name, 2)] == [iso(first), iso(first + 180)]
    time.sleep(0.5)
    assert len(received(server, name, 2)) == 2


def test_scheduler_hooks_are_off_unless_asked_for(server: Server) -> None:
    assert raw_request("GET", f"{server.endpoint}/_lambdabox/scheduler").status == 404
    assert raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now=0").status == 404
