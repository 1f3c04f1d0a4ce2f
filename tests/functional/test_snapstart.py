"""SnapStart: a published version initializes once; its environments are restored copies of that snapshot."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

from tests.conftest import (
    Server,
    create_function,
    isolated_by,
    isolation_of,
    python_zip,
    unique,
    wait_for_logs,
)

HANDLER = """
import ctypes, os, random, time, uuid
from snapshot_restore_py import register_after_restore, register_before_snapshot

INIT_ID = uuid.uuid4().hex  # once per snapshot
HOOKS = []
with open("/tmp/written-by-init", "w") as handle:
    handle.write("hello")


@register_before_snapshot
def before():
    HOOKS.append("before")


@register_after_restore
def after():
    HOOKS.append("after")


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    libc = ctypes.CDLL(None, use_errno=True)
    unshared = libc.unshare(0x00020000)  # CLONE_NEWNS: refused by the seccomp filter
    return {
        "init_id": INIT_ID,
        "type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "random": random.random(),
        "hooks": HOOKS,
        "request_id": context.aws_request_id,
        "tmp": sorted(os.listdir("/tmp")),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "uid": os.getuid(),
        "unshare": [unshared, ctypes.get_errno()],
        "stream": context.log_stream_name,
    }
"""


def _snapstart_function(client: Any, source: str = HANDLER, runtime: str = "python3.12") -> str:
    return create_function(client, source, runtime=runtime, SnapStart={"ApplyOn": "PublishedVersions"})


def _publish(client: Any, name: str) -> str:
    version: str = client.publish_version(FunctionName=name)["Version"]
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    return version


def test_environments_of_a_version_are_restored_from_one_snapshot(lambda_client: Any, server: Server) -> None:
    name = _snapstart_function(lambda_client)
    latest = lambda_client.get_function_configuration(FunctionName=name)
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    version = _publish(lambda_client, name)
    config = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert config["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}

    def invoke(_: int) -> dict[str, Any]:
        response = lambda_client.invoke(
            FunctionName=name, Qualifier=version, Payload=b'{"sleep": 0.5}', LogType="Tail"
        )
        assert "FunctionError" not in response, response["Payload"].read()
        body: dict[str, Any] = json.loads(response["Payload"].read())
        body["tail"] = base64.b64decode(response["LogResult"]).decode()
        return body

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(invoke, range(3)))
    isolation = isolation_of(server)
    assert len({r["stream"] for r in results}) == 3  # three environments
    assert len({r["init_id"] for r in results}) == 1  # Init ran once, in the snapshot
    assert len({r["random"] for r in results}) == 3  # random numbers reseeded in every copy
    assert len({r["request_id"] for r in results}) == 3
    for result in results:
        assert result["type"] == "snap-start"
        assert result["hooks"] == ["before", "after"]
        if isolated_by(isolation, "mountNamespace"):
            assert result["tmp"] == ["written-by-init"]  # /tmp as the snapshot left it, in a private copy
        else:  # (the host's /tmp)
            assert "written-by-init" in result["tmp"]
        if isolated_by(isolation, "user"):
            assert result["uid"] != 0
        if isolated_by(isolation, "pidNamespace"):
            assert len(result["pids"]) <= 3  # its own PID namespace
        if isolated_by(isolation, "seccomp"):
            assert result["unshare"][0] == -1
        report = next(line for line in result["tail"].splitlines() if line.startswith("REPORT"))
        assert "Restore Duration: " in report and "Billed Restore Duration: " in report
        assert "Init Duration" not in report
    messages = wait_for_logs(server, name, lambda m: sum("RESTORE_REPORT" in x for x in m) >= 3)
    assert sum(m.startswith("RESTORE_START") for m in messages) == 3

    # $LATEST is not snapshotted: an ordinary Init.
    body = json.loads(lambda_client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert body["type"] == "on-demand" and body["hooks"] == []


def test_a_failing_init_fails_the_version(lambda_client: Any) -> None:
    name = _snapstart_function(
        lambda_client, "raise ValueError('broken')\ndef handler(e, c):\n    return 1\n"
    )
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    with pytest.raises(WaiterError):
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, Qualifier=version, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
    config = lambda_client.get_function_configuration(FunctionName=name, Qualifier=version)
    assert config["State"] == "Failed"
    assert config["StateReasonCode"] == "FunctionError.RuntimeInitError"


def test_a_failing_after_restore_hook_fails_the_invocation(lambda_client: Any) -> None:
    source = (
        "from snapshot_restore_py import register_after_restore\n"
        "def boom():\n    raise RuntimeError('no restore')\n"
        "register_after_restore(boom)\n"
        "def handler(e, c):\n    return 1\n"
    )
    name = _snapstart_function(lambda_client, source)
    version = _publish(lambda_client, name)
    response = lambda_client.invoke(FunctionName=name, Qualifier=version, Payload=b"{}")
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())  # what the runtime posted to /restore/error
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "no restore")


def test_snapstart_is_refused_for_runtimes_without_it(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lambda_client.create_function(
            FunctionName=unique(),
            Runtime="python3.11",
            Handler="app.handler",
            Role="arn:aws:iam::000000000000:role/lambda-test",
            Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
            SnapStart={"ApplyOn": "PublishedVersions"},
        )
    error = excinfo.value.response["Error"]
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "python3.11 is not supported for SnapStart enabled functions.",
    }
