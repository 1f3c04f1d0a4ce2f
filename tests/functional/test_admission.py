"""Admission control: environments are started only when the host has room; otherwise idle ones make
way, then invocations wait briefly, then they are throttled — the host is never overcommitted."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, wait_for_logs

SLEEPER = """
import time
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "ok"
"""


def _health(server: Server) -> dict[str, Any]:
    with urllib3.PoolManager() as http:
        document: dict[str, Any] = http.request("GET", f"{server.endpoint}/_lambdabox/health").json()
        return document


def test_idle_environments_make_way_and_busy_ones_throttle(server_factory: Any) -> None:
    server: Server = server_factory(LAMBDABOX_MAX_ENVIRONMENTS="2", LAMBDABOX_ADMISSION_WAIT="0.3")
    client = server.client(retries={"total_max_attempts": 1})  # see the throttle, not a retry
    a, b, c = (create_function(client, SLEEPER) for _ in range(3))
    for name in (a, b, c):  # the third cold start stops the least recently used idle environment
        assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
    health = _health(server)
    assert health["environments"] <= 2
    assert health["admission"]["maxEnvironments"] == 2
    assert health["coldStarts"] == {a: 1, b: 1, c: 1}

    with ThreadPoolExecutor(2) as pool:
        busy = [pool.submit(client.invoke, FunctionName=n, Payload=b'{"sleep": 2}') for n in (b, c)]
        for name in (b, c):  # both are running (their second START line) before `a` asks for room
            wait_for_logs(server, name, lambda m: sum(x.startswith("START") for x in m) >= 2)
        with pytest.raises(ClientError) as excinfo:
            client.invoke(FunctionName=a, Payload=b"{}")
        assert [f.result()["StatusCode"] for f in busy] == [200, 200]
    error = excinfo.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ConcurrentInvocationLimitExceeded"
    # Room again: the throttled function runs.
    assert json.loads(client.invoke(FunctionName=a, Payload=b"{}")["Payload"].read()) == "ok"


def test_a_host_without_memory_to_spare_throttles_cold_starts(server_factory: Any) -> None:
    server: Server = server_factory(LAMBDABOX_MEMORY_RESERVE_MB="100000000", LAMBDABOX_ADMISSION_WAIT="0.05")
    client = server.client(retries={"total_max_attempts": 1})
    name = create_function(client, SLEEPER)
    with pytest.raises(ClientError) as excinfo:
        client.invoke(FunctionName=name, Payload=b"{}")
    assert excinfo.value.response["Error"]["Code"] == "TooManyRequestsException"
    health = _health(server)
    assert health["status"] == "ready"
    assert health["environments"] == 0
    assert health["admission"]["memoryReserveMb"] == 100000000


def test_provisioned_environments_are_admitted_like_on_demand_ones(server_factory: Any) -> None:
    """Provisioned concurrency cannot overcommit the host either: an idle on-demand environment makes way
    for it, and what does not fit waits (IN_PROGRESS) instead of starting."""
    server: Server = server_factory(LAMBDABOX_MAX_ENVIRONMENTS="2")
    client = server.client()
    name = create_function(client, SLEEPER)
    assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200  # one idle, on-demand
    version = client.publish_version(FunctionName=name)["Version"]
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        config = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
        if config["Status"] == "READY":
            break
        time.sleep(0.1)
    assert config["Status"] == "READY" and config["AllocatedProvisionedConcurrentExecutions"] == 2
    assert _health(server)["environments"] == 2  # the on-demand one made way

    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=3
    )
    time.sleep(1.0)
    config = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert config["Status"] == "IN_PROGRESS", config
    assert config["AllocatedProvisionedConcurrentExecutions"] == 2
    assert _health(server)["environments"] == 2
    # The two that fit serve invocations of the version.
    assert json.loads(client.invoke(FunctionName=name, Qualifier=version)["Payload"].read()) == "ok"


def test_a_burst_waiting_for_a_snapstart_template_does_not_overshoot(server_factory: Any) -> None:
    """After a restart the template of a SnapStart version is made again by the first invocations; the
    ones that wait for it are counted, so a burst cannot start more environments than the host allows."""
    server: Server = server_factory(LAMBDABOX_MAX_ENVIRONMENTS="2", LAMBDABOX_ADMISSION_WAIT="0.3")
    client = server.client()
    name = create_function(client, SLEEPER, SnapStart={"ApplyOn": "PublishedVersions"})
    version = client.publish_version(FunctionName=name)["Version"]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    server.close_clients()
    server.stop()
    server.start()
    client = server.client(retries={"total_max_attempts": 1})

    def invoke(_: int) -> str:
        try:
            client.invoke(FunctionName=name, Qualifier=version, Payload=b'{"sleep": 1}')
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    with ThreadPoolExecutor(5) as pool:
        outcomes = sorted(pool.map(invoke, range(5)))
    assert outcomes == ["TooManyRequestsException"] * 3 + ["ok"] * 2, outcomes
    assert _health(server)["environments"] <= 2
