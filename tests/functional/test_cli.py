"""The `lambdabox` function commands and the `aws` CLI, run as subprocesses against a real server."""

from __future__ import annotations

import io
import json
import os
import re
import selectors
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lambdabox.cli.function_commands import zip_directory
from tests.conftest import ACCESS_KEY, ROLE, SECRET_KEY, Server, ric_files, unique

AWS = Path(sys.executable).parent / "aws"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

HANDLER = """\
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    print("event", event.get("n"))
    logger.info("first line\\nsecond line")
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"n": event.get("n"), "greeting": os.environ.get("GREETING")}
"""


def cli_env(server: Server, **changes: str | None) -> dict[str, str]:
    env = server.client_env()
    env.pop("LAMBDABOX_ENDPOINT", None)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def lambdabox(
    server: Server, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdabox", *args],
        env=env or cli_env(server),
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "app.py").write_text(HANDLER)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"stale")
    return folder


def test_deploy_invoke_logs_ls_rm(server: Server, lambda_client: Any, project: Path) -> None:
    name = unique("cli")
    created = lambdabox(server, "deploy", str(project), "--name", name)
    assert created.returncode == 0, created.stderr
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["State"] == "Active" and config["Runtime"] == "python3.12"
    assert config["Handler"] == "app.handler"
    assert config["Role"] == "arn:aws:iam::000000000000:role/lambdabox-default"
    assert created.stdout.startswith(f"Created {name} ($LATEST): python3.12, ")
    assert created.stdout.strip().endswith(f"sha256 {config['CodeSha256']}")

    updated = lambdabox(
        server,
        "deploy",
        str(project),
        "-n",
        name,
        "--memory",
        "256",
        "--env",
        "GREETING=hi",
        "--timeout",
        "7",
    )
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith(f"Updated {name} ($LATEST)")
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Timeout"]) == (256, 7)
    assert config["Environment"]["Variables"] == {"GREETING": "hi"}
    assert config["LastUpdateStatus"] == "Successful"

    result = lambdabox(server, "invoke", name, "--payload", '{"n": 1}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 1, "greeting": "hi"} and result.stdout.endswith("}\n")
    assert "START RequestId: " in result.stderr and "event 1\n" in result.stderr
    assert "first line\nsecond line" in result.stderr

    payload_file = project.parent / "event.json"
    payload_file.write_text('{"n": 2, "fail": true}')
    failed = lambdabox(server, "invoke", name, "--payload", f"@{payload_file}")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorMessage"] == "asked to fail"

    queued = lambdabox(server, "invoke", name, "--async", "--payload", '{"n": 3}')
    assert queued.returncode == 0 and UUID.fullmatch(queued.stdout.strip()), queued

    deadline = time.monotonic() + 20
    while True:
        logs = lambdabox(server, "logs", name)
        assert logs.returncode == 0, logs.stderr
        if "event 3\n" in logs.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    lines = logs.stdout.splitlines()
    assert lines.index("event 1") < lines.index("event 2") < lines.index("event 3")
    assert any(line.endswith("first line") for line in lines) and "second line" in lines
    assert lines[0].startswith("INIT_START") or lines[0].startswith("START RequestId")
    assert any(line.startswith("REPORT RequestId: ") for line in lines)
    assert lambdabox(server, "logs", name, "--since", "1s").stdout.count("event") <= 3

    listed = lambdabox(server, "ls")
    assert listed.returncode == 0, listed.stderr
    (row,) = [line.split() for line in listed.stdout.splitlines() if line.startswith(name)]
    assert row[:6] == [name, "python3.12", "256", "MB", "7", "s"]

    removed = lambdabox(server, "rm", name)
    assert removed.returncode == 0 and removed.stdout == f"Deleted {name}\n"
    assert name not in lambdabox(server, "ls").stdout
    missing = lambdabox(server, "invoke", name)
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ResourceNotFoundException: Function not found: ")
    again = lambdabox(server, "rm", name)
    assert again.returncode == 1 and "ResourceNotFoundException" in again.stderr


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_logs_follow_prints_new_events_until_interrupted(
    server: Server, lambda_client: Any, project: Path
) -> None:
    name = unique("follow")
    assert lambdabox(server, "deploy", str(project), "--name", name).returncode == 0
    output = b""
    with (
        subprocess.Popen(
            [sys.executable, "-m", "lambdabox", "logs", name, "--follow"],
            env=cli_env(server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # As typed at a terminal: a suite run as a background job (`make test &`) ignores SIGINT, and
            # a child inherits that (Python then leaves Ctrl-C ignored, as every program does).
            preexec_fn=_interruptible,
        ) as follower,
        selectors.DefaultSelector() as selector,
    ):
        assert follower.stdout is not None
        selector.register(follower.stdout, selectors.EVENT_READ)
        try:
            for n in (1, 2):
                lambda_client.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
                deadline = time.monotonic() + 15
                while f"event {n}\n".encode() not in output and time.monotonic() < deadline:
                    if selector.select(timeout=0.2):
                        output += os.read(follower.stdout.fileno(), 65536)
                assert f"event {n}\n".encode() in output, output
            time.sleep(1.2)  # more polls: nothing is printed twice
        finally:
            follower.send_signal(signal.SIGINT)
            rest, errors = follower.communicate(timeout=10)
        output += rest
        code = follower.returncode
    assert code == 0, errors
    text = output.decode()
    assert text.count("event 1\n") == 1 and text.count("event 2\n") == 1
    assert text.count("START RequestId") == 2 and text.count("REPORT RequestId") == 2


def test_deploy_keeps_modes_and_is_deterministic(server: Server, tmp_path: Path) -> None:
    folder = tmp_path / "custom"
    (folder / "lib" / ".git").mkdir(parents=True)
    (folder / "lib" / ".git" / "HEAD").write_text("ref")
    (folder / "app.py").write_text("def handler(event, context):\n    return {'custom': event}\n")
    (folder / "lib" / "data.txt").write_text("data")
    for relative, content in ric_files().items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    bootstrap = folder / "bootstrap"
    bootstrap.chmod(0o755)

    package = zip_directory(folder)
    assert package == zip_directory(folder)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = archive.namelist()
        assert {"app.py", "bootstrap", "lib/data.txt", "awslambdaric/__init__.py"} <= set(names)
        assert not any(".git" in name or "__pycache__" in name for name in names)
        assert stat.S_IMODE(archive.getinfo("bootstrap").external_attr >> 16) == 0o755

    name = unique("custom")
    deployed = lambdabox(server, "deploy", str(folder), "--name", name, "--runtime", "provided.al2023")
    assert deployed.returncode == 0, deployed.stderr
    result = lambdabox(server, "invoke", name, "--payload", '{"k": "v"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"custom": {"k": "v"}}
    assert lambdabox(server, "rm", name).returncode == 0


def test_credentials_from_the_data_dir_and_errors(server: Server, tmp_path: Path, project: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "credentials.json").write_text(
        json.dumps({"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY})
    )
    env = cli_env(
        server,
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_ENDPOINT_URL=None,
        AWS_REGION=None,
        AWS_DEFAULT_REGION=None,
        LAMBDABOX_ROOT_ACCESS_KEY_ID=None,
        LAMBDABOX_ROOT_SECRET_ACCESS_KEY=None,
        LAMBDABOX_DATA_DIR=str(data_dir),
        LAMBDABOX_ENDPOINT=server.endpoint,
    )
    assert lambdabox(server, "ls", env=env).returncode == 0

    (data_dir / "credentials.json").unlink()
    no_credentials = lambdabox(server, "ls", env=env)
    assert no_credentials.returncode == 1 and "no credentials" in no_credentials.stderr

    unreachable = lambdabox(server, "ls", env=cli_env(server, LAMBDABOX_ENDPOINT="http://127.0.0.1:9"))
    assert unreachable.returncode == 1
    assert (
        unreachable.stderr
        == "Error: cannot reach Lambdabox at http://127.0.0.1:9: is `lambdabox up` running?\n"
    )

    bad_env = lambdabox(server, "deploy", str(project), "--name", unique(), "--env", "NOEQUALS")
    assert bad_env.returncode == 2 and "KEY=VALUE" in bad_env.stderr
    bad_runtime = lambdabox(server, "deploy", str(project), "--name", unique(), "--runtime", "cobol")
    assert bad_runtime.returncode == 1 and bad_runtime.stderr.startswith(
        "Error: InvalidParameterValueException"
    )
    assert lambdabox(server, "logs", unique()).stderr.startswith("No logs yet: the log group /aws/lambda/")


def test_aws_cli_with_exported_variables(server: Server, tmp_path: Path) -> None:
    archive = tmp_path / "function.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", textwrap.dedent(HANDLER))
    env = cli_env(
        server,
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_PROFILE=None,
    )
    name = unique("awscli")

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AWS), *args], env=env, capture_output=True, text=True, timeout=90, cwd=tmp_path
        )

    created = aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "app.handler", "--role", ROLE, "--zip-file", f"fileb://{archive}",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["FunctionName"] == name
    waited = aws("lambda", "wait", "function-active-v2", "--function-name", name)
    assert waited.returncode == 0, waited.stderr
    invoked = aws("lambda", "invoke", "--function-name", name, "--payload", '{"n": 5}', "out.json")
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout)["StatusCode"] == 200
    assert json.loads((tmp_path / "out.json").read_text()) == {"n": 5, "greeting": None}
    found = aws(
        "logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{name}", "--filter-pattern", "event"
    )
    assert found.returncode == 0, found.stderr
    assert [e["message"] for e in json.loads(found.stdout)["events"]] == ["event 5\n"]
    assert aws("lambda", "delete-function", "--function-name", name).returncode == 0
