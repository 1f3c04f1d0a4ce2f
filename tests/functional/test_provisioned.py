"""Provisioned concurrency: configurations through the Lambda API, environments initialized ahead of time."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function

HANDLER = """
import os, time
INITIALIZED_AT = time.time()

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "initialized": INITIALIZED_AT}
"""


def _wait_status(
    client: Any, name: str, qualifier: str, status: str, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        config: dict[str, Any] = client.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier=qualifier
        )
        if config["Status"] == status or time.monotonic() > deadline:
            assert config["Status"] == status, config
            return config
        time.sleep(0.1)


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def test_two_provisioned_environments_answer_concurrent_invokes_without_init(
    lambda_client: Any, deploy: Any
) -> None:
    name = deploy(HANDLER)
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    put = lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")
    ready = _wait_status(lambda_client, name, version, "READY")
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    invoked_after = time.time()

    def invoke(_: int) -> tuple[dict[str, Any], str]:
        response = lambda_client.invoke(
            FunctionName=name, Qualifier=version, Payload=b'{"sleep": 0.3}', LogType="Tail"
        )
        return json.loads(response["Payload"].read()), base64.b64decode(response["LogResult"]).decode()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(invoke, range(2)))
    for body, tail in results:
        assert body["type"] == "provisioned-concurrency"
        assert body["initialized"] < invoked_after  # Init ran before the invocations arrived
        report = next(line for line in tail.splitlines() if line.startswith("REPORT"))
        assert "Init Duration" not in report


def test_alias_configuration_follows_the_alias(lambda_client: Any, deploy: Any) -> None:
    name = deploy(HANDLER)
    v1 = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=v1)
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    _wait_status(lambda_client, name, "live", "READY")
    body = json.loads(lambda_client.invoke(FunctionName=name, Qualifier="live")["Payload"].read())
    assert body["type"] == "provisioned-concurrency"

    configs = lambda_client.list_provisioned_concurrency_configs(FunctionName=name)[
        "ProvisionedConcurrencyConfigs"
    ]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in configs] == ["live"]
    # The alias and the version it points to cannot both be provisioned.
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier=v1, ProvisionedConcurrentExecutions=1
        )
    assert _error(excinfo)[0] == "ResourceConflictException"

    lambda_client.update_function_configuration(FunctionName=name, Description="v2")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    v2 = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion=v2)
    _wait_status(lambda_client, name, "live", "READY")
    response = lambda_client.invoke(FunctionName=name, Qualifier="live")
    assert response["ExecutedVersion"] == v2
    assert json.loads(response["Payload"].read())["type"] == "provisioned-concurrency"

    lambda_client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
    assert _error(excinfo) == (
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )
    body = json.loads(lambda_client.invoke(FunctionName=name, Qualifier="live")["Payload"].read())
    assert body["type"] == "on-demand"


def test_bad_requests_are_refused_as_aws_does(lambda_client: Any, deploy: Any) -> None:
    name = deploy(HANDLER)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert _error(excinfo) == (
        "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="7", ProvisionedConcurrentExecutions=1
        )
    assert _error(excinfo)[0] == "ResourceNotFoundException"
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2
        )
    assert _error(excinfo) == (
        "InvalidParameterValueException",
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function",
    )


def test_an_init_failure_fails_the_configuration(lambda_client: Any, deploy: Any) -> None:
    name = deploy("raise RuntimeError('no init for you')\ndef handler(event, context):\n    return 1\n")
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    failed = _wait_status(lambda_client, name, version, "FAILED")
    assert failed["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"


def test_provisioned_environments_come_back_after_a_restart(server_factory: Any) -> None:
    server: Server = server_factory()
    client = server.client()
    name = create_function(client, HANDLER)
    version = client.publish_version(FunctionName=name)["Version"]
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    _wait_status(client, name, version, "READY")
    server.stop()
    server.close_clients()
    server.start()
    client = server.client()
    _wait_status(client, name, version, "READY")
    body = json.loads(client.invoke(FunctionName=name, Qualifier=version)["Payload"].read())
    assert body["type"] == "provisioned-concurrency"
