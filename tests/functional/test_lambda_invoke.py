"""Invoking functions through the real server: results, context, logs, errors, limits, concurrency."""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, make_zip, python_zip, ric_files, wait_for_logs

INTROSPECT = """
import os
import boto3

def handler(event, context):
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if context.client_context is None else context.client_context.custom,
        "env": {k: v for k, v in os.environ.items()},
        "cwd": os.getcwd(),
        "boto3": boto3.__version__,
    }
"""


def payload_of(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_invoke_returns_result_with_context_and_environment(lambda_client: Any, deploy: Any) -> None:
    name = deploy(INTROSPECT, MemorySize=256, Timeout=30, Environment={"Variables": {"GREETING": "hi"}})
    client_context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"a": 1}', ClientContext=client_context)
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    result = payload_of(response)
    assert result["event"] == {"a": 1}
    assert result["function_name"] == name
    assert result["function_version"] == "$LATEST"
    assert result["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert result["memory_limit_in_mb"] == "256"
    assert result["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert result["log_group_name"] == f"/aws/lambda/{name}"
    assert result["log_stream_name"].split("/")[3].startswith("[$LATEST]")
    assert 25_000 < result["remaining"] <= 30_000
    assert result["identity"] == [None, None]
    assert result["client_context"] == {"k": "v"}
    env = result["env"]
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == result["log_stream_name"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] == result["cwd"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert result["boto3"]


def test_function_can_call_the_platform_with_boto3(lambda_client: Any, deploy: Any) -> None:
    source = """
import boto3
client = boto3.client("lambda")

def handler(event, context):
    return client.get_function(FunctionName=context.function_name)["Configuration"]["FunctionName"]
"""
    name = deploy(source, Timeout=30)
    assert payload_of(lambda_client.invoke(FunctionName=name)) == name


def test_warm_environment_is_reused(lambda_client: Any, deploy: Any) -> None:
    source = """
import os
count = 0

def handler(event, context):
    global count
    count += 1
    path = os.path.join(os.environ["TMPDIR"], "seen")
    with open(path, "a") as handle:
        handle.write("x")
    return [count, os.getpid(), open(path).read()]
"""
    name = deploy(source)
    results = [payload_of(lambda_client.invoke(FunctionName=name)) for _ in range(3)]
    assert [r[0] for r in results] == [1, 2, 3]
    assert len({r[1] for r in results}) == 1
    assert results[-1][2] == "xxx"


def test_log_tail_holds_platform_lines_and_output(lambda_client: Any, deploy: Any) -> None:
    name = deploy("def handler(event, context):\n    print('hello from the handler')\n    return 1\n")
    response = lambda_client.invoke(FunctionName=name, LogType="Tail")
    request_id = response["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"START RequestId: {request_id} Version: $LATEST" in tail
    assert "hello from the handler" in tail
    assert f"END RequestId: {request_id}" in tail
    report = next(line for line in tail.splitlines() if line.startswith("REPORT"))
    fields = report.split("\t")
    assert fields[0] == f"REPORT RequestId: {request_id}"
    assert fields[1].startswith("Duration: ") and fields[1].endswith(" ms")
    assert fields[2].startswith("Billed Duration: ")
    assert fields[3] == "Memory Size: 128 MB"
    assert fields[4].startswith("Max Memory Used: ")
    assert fields[5].startswith("Init Duration: ")  # first invocation of a fresh environment
    second = base64.b64decode(lambda_client.invoke(FunctionName=name, LogType="Tail")["LogResult"]).decode()
    assert "Init Duration" not in second
    assert "LogResult" not in lambda_client.invoke(FunctionName=name)


def test_unhandled_exception(lambda_client: Any, deploy: Any) -> None:
    source = """
def handler(event, context):
    raise ValueError("something broke")
"""
    name = deploy(source)
    response = lambda_client.invoke(FunctionName=name)
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    error = payload_of(response)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "something broke"
    assert isinstance(error["stackTrace"], list) and error["stackTrace"]
    assert any("raise ValueError" in frame for frame in error["stackTrace"])


@pytest.mark.parametrize(
    ("files", "handler", "error_type"),
    [
        ({"app.py": "import not_a_module\n"}, "app.handler", "Runtime.ImportModuleError"),
        ({"app.py": "def handler(:\n"}, "app.handler", "Runtime.UserCodeSyntaxError"),
        ({"app.py": "x = 1\n"}, "app.handler", "Runtime.HandlerNotFound"),
        ({"app.py": "x = 1\n"}, "nodot", "Runtime.MalformedHandlerName"),
    ],
)
def test_init_errors(
    lambda_client: Any, deploy: Any, files: dict[str, str], handler: str, error_type: str
) -> None:
    name = deploy(zip_file=make_zip(files), handler=handler)
    response = lambda_client.invoke(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    assert payload_of(response)["errorType"] == error_type


def test_timeout_kills_and_replaces_the_environment(lambda_client: Any, deploy: Any) -> None:
    source = """
import time, uuid

ENVIRONMENT = uuid.uuid4().hex  # one per environment (pids repeat across PID namespaces)

def handler(event, context):
    if event.get("sleep"):
        time.sleep(5)
    return ENVIRONMENT
"""
    name = deploy(source, Timeout=1)
    first_environment = payload_of(lambda_client.invoke(FunctionName=name))
    started = time.monotonic()
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"sleep": true}', LogType="Tail")
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert response["FunctionError"] == "Unhandled"
    error = payload_of(response)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail
    assert "Status: timeout" in tail
    assert payload_of(lambda_client.invoke(FunctionName=name)) != first_environment


def test_runtime_crash_is_an_exit_error(lambda_client: Any, deploy: Any) -> None:
    name = deploy("import os\n\ndef handler(event, context):\n    os._exit(3)\n")
    response = lambda_client.invoke(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    error = payload_of(response)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]


def test_updates_take_effect_on_next_invoke(lambda_client: Any, deploy: Any) -> None:
    source = "import os\n\ndef handler(event, context):\n    return ['v1', os.environ.get('MODE')]\n"
    name = deploy(source)
    assert payload_of(lambda_client.invoke(FunctionName=name)) == ["v1", None]
    lambda_client.update_function_code(FunctionName=name, ZipFile=python_zip(source.replace("v1", "v2")))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert payload_of(lambda_client.invoke(FunctionName=name)) == ["v2", None]
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"MODE": "fast"}}
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert payload_of(lambda_client.invoke(FunctionName=name)) == ["v2", "fast"]


def test_published_version_behind_alias_keeps_old_code(lambda_client: Any, deploy: Any) -> None:
    source = "def handler(event, context):\n    return ['old', context.function_version, context.invoked_function_arn]\n"
    name = deploy(source)
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    lambda_client.update_function_code(FunctionName=name, ZipFile=python_zip(source.replace("old", "new")))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    by_alias = lambda_client.invoke(FunctionName=name, Qualifier="prod")
    assert by_alias["ExecutedVersion"] == "1"
    assert payload_of(by_alias) == ["old", "1", f"{arn}:prod"]
    by_number = lambda_client.invoke(FunctionName=f"{name}:1")
    assert by_number["ExecutedVersion"] == "1"
    assert payload_of(by_number) == ["old", "1", f"{arn}:1"]
    latest = lambda_client.invoke(FunctionName=name)
    assert latest["ExecutedVersion"] == "$LATEST"
    assert payload_of(latest) == ["new", "$LATEST", arn]


def test_weighted_alias_routes_to_both_versions(lambda_client: Any, deploy: Any) -> None:
    source = "def handler(event, context):\n    return 'a'\n"
    name = deploy(source)
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_code(FunctionName=name, ZipFile=python_zip(source.replace("'a'", "'b'")))
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lambda_client.publish_version(FunctionName=name)
    lambda_client.create_alias(
        FunctionName=name,
        Name="split",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = {lambda_client.invoke(FunctionName=name, Qualifier="split")["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}


def test_payload_limits_and_bad_json(lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    big = b'"' + b"x" * (7 * 1024 * 1024) + b'"'
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=name, Payload=big)
    assert excinfo.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(
            FunctionName=name, InvocationType="Event", Payload=b'"' + b"x" * (1024 * 1024 + 10) + b'"'
        )
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    assert excinfo.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert payload_of(lambda_client.invoke(FunctionName=name)) == {}


def test_oversize_response(lambda_client: Any, deploy: Any) -> None:
    name = deploy("def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n", Timeout=30)
    response = lambda_client.invoke(FunctionName=name)
    assert response["FunctionError"] == "Unhandled"
    assert payload_of(response)["errorType"] == "Function.ResponseSizeTooLarge"


def test_dry_run_and_event(server: Server, lambda_client: Any, deploy: Any) -> None:
    name = deploy(
        "def handler(event, context):\n    print('EVENT-RAN', context.aws_request_id, event['n'])\n"
    )
    assert lambda_client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    response = lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    wait_for_logs(server, name, lambda lines: f"EVENT-RAN {request_id} 7\n" in lines)


def test_failed_events_are_retried(server: Server, lambda_client: Any, deploy: Any) -> None:
    name = deploy("def handler(event, context):\n    print('ATTEMPT')\n    raise RuntimeError('fail')\n")
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    wait_for_logs(server, name, lambda lines: lines.count("ATTEMPT\n") >= 2)
    time.sleep(1.5)  # the retry delay in tests is 0.5 s: a third attempt would have come by now
    assert (
        wait_for_logs(server, name, lambda lines: True).count("ATTEMPT\n") == 2
    )  # the first try + one retry


def test_event_accepted_before_kill_9_runs_after_restart(server_factory: Any) -> None:
    server: Server = server_factory()
    client = server.client()
    name = create_function(
        client, "import time\n\ndef handler(event, context):\n    time.sleep(2)\n    print('DONE')\n"
    )
    response = client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert response["StatusCode"] == 202
    time.sleep(0.5)  # the event is running: its environment dies with the server
    server.stop(9)  # SIGKILL: no clean shutdown
    server.close_clients()
    server.start()
    wait_for_logs(server, name, lambda lines: "DONE\n" in lines)


def test_concurrent_invocations_get_their_own_environments(server: Server, deploy: Any) -> None:
    source = "import time, uuid\n\nENV = uuid.uuid4().hex\n\ndef handler(event, context):\n    time.sleep(1)\n    return ENV\n"
    name = deploy(source, Timeout=10)
    client = server.client(max_pool_connections=8)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as executor:
        environments = list(executor.map(lambda _: payload_of(client.invoke(FunctionName=name)), range(4)))
    client.close()
    assert time.monotonic() - started < 2.5
    assert len(set(environments)) == 4


def test_reserved_concurrency_throttles(server: Server, deploy: Any, lambda_client: Any) -> None:
    name = deploy(
        "import time\n\ndef handler(event, context):\n    time.sleep(1.5)\n    return 'ok'\n", Timeout=10
    )
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    client = server.client(max_pool_connections=4)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(payload_of(client.invoke(FunctionName=name))))
    first.start()
    time.sleep(0.5)
    with pytest.raises(ClientError) as excinfo:
        client.invoke(FunctionName=name)
    first.join()
    client.close()
    error = excinfo.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert results == ["ok"]
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.invoke(FunctionName=name)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


SHELL_BOOTSTRAP = """#!/bin/bash
set -euo pipefail
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "handling $REQUEST_ID"
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" \\
    -d "{\\"echo\\": $EVENT_DATA, \\"handler\\": \\"$_HANDLER\\"}" > /dev/null
done
"""


def test_custom_runtime_bootstrap(lambda_client: Any, deploy: Any) -> None:
    code = make_zip({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": 0o755})
    name = deploy(zip_file=code, runtime="provided.al2023", handler="function.handler")
    for value in (1, 2):
        response = lambda_client.invoke(
            FunctionName=name, Payload=json.dumps({"n": value}).encode(), LogType="Tail"
        )
        assert payload_of(response) == {"echo": {"n": value}, "handler": "function.handler"}
    assert "handling " in base64.b64decode(response["LogResult"]).decode()


def test_a_bootstrap_that_is_not_executable_fails_the_invocation(lambda_client: Any, deploy: Any) -> None:
    name = deploy(zip_file=make_zip({"bootstrap": SHELL_BOOTSTRAP}), runtime="provided.al2023")
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    error = payload_of(response)
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert error["errorMessage"].startswith(f"RequestId: {response['ResponseMetadata']['RequestId']} Error: ")
    assert error["errorMessage"].endswith("/bootstrap: permission denied")


def test_official_runtime_interface_client(lambda_client: Any, deploy: Any) -> None:
    files = {
        **ric_files(),
        "app.py": "def handler(event, context):\n    return {'ric': event['x'], 'id': context.aws_request_id}\n",
    }
    name = deploy(zip_file=make_zip(files, modes={"bootstrap": 0o755}), runtime="provided.al2023")
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"x": 1}')
    assert payload_of(response) == {"ric": 1, "id": response["ResponseMetadata"]["RequestId"]}
    failing = lambda_client.invoke(FunctionName=name, Payload=b"[]")
    assert failing["FunctionError"] == "Unhandled"
    assert payload_of(failing)["errorType"] == "TypeError"


def test_async_outcomes_reach_their_destinations(server: Server, lambda_client: Any, deploy: Any) -> None:
    recorder = deploy("import json\n\ndef handler(event, context):\n    print('RECORD', json.dumps(event))\n")
    worker = deploy(
        "def handler(event, context):\n    if event.get('fail'):\n        raise ValueError('no')\n    return {'ok': event['n']}\n"
    )
    destination = f"arn:aws:lambda:us-east-1:000000000000:function:{recorder}"
    lambda_client.put_function_event_invoke_config(
        FunctionName=worker,
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": destination},
            "OnFailure": {"Destination": destination},
        },
    )
    ok = lambda_client.invoke(FunctionName=worker, InvocationType="Event", Payload=b'{"n": 1}')
    failed = lambda_client.invoke(
        FunctionName=worker, InvocationType="Event", Payload=b'{"n": 2, "fail": true}'
    )
    lines = wait_for_logs(
        server, recorder, lambda lines: sum(line.startswith("RECORD") for line in lines) >= 2
    )
    records = {
        record["requestContext"]["condition"]: record
        for record in (json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("RECORD"))
    }
    success, failure = records["Success"], records["RetriesExhausted"]
    assert success["version"] == "1.0"
    assert success["requestContext"]["requestId"] == ok["ResponseMetadata"]["RequestId"]
    assert success["requestContext"]["functionArn"].endswith(f":function:{worker}:$LATEST")
    assert success["requestContext"]["approximateInvokeCount"] == 1
    assert success["requestPayload"] == {"n": 1}
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert success["responsePayload"] == {"ok": 1}
    assert failure["requestContext"]["requestId"] == failed["ResponseMetadata"]["RequestId"]
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["responsePayload"]["errorType"] == "ValueError"
