"""The server process: readiness, clean shutdown without orphans, idle reaping, root credentials."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import urllib3

from tests.conftest import Server, create_function, free_port

# The runtime's pid and PID namespace: with isolation it is PID 2 of a namespace of its own.
PID_HANDLER = (
    "import os\n\ndef handler(event, context):\n    return [os.getpid(), os.readlink('/proc/self/ns/pid')]\n"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # it may be gone between the two looks
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _function_pid(server: Server) -> int:
    client = server.client()
    name = create_function(client, PID_HANDLER)
    pid, namespace = json.loads(client.invoke(FunctionName=name)["Payload"].read())
    client.close()
    return _host_pid(int(pid), namespace)


def _host_pid(pid: int, namespace: str) -> int:
    """The pid, as this test sees it, of the process that is `pid` in the PID namespace `namespace`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "pid") != namespace:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("NSpid:") and int(line.split()[-1]) == pid:
                    return int(entry.name)
        except OSError:
            continue
    raise AssertionError(f"no process is pid {pid} in {namespace}")


def test_health_reports_ready(server: Server) -> None:
    with urllib3.PoolManager() as http:
        response = http.request("GET", f"{server.endpoint}/_lambdabox/health")
    assert response.status == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["region"] == "us-east-1" and body["accountId"] == "000000000000"
    assert body["pythonRuntimes"]["python3.12"]


def test_sigterm_stops_environments(server_factory: Any) -> None:
    server: Server = server_factory()
    pid = _function_pid(server)
    assert _alive(pid)
    assert server.stop(signal.SIGTERM) == 0
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_kill_9_leaves_no_orphans(server_factory: Any) -> None:
    server: Server = server_factory()
    pid = _function_pid(server)
    server.stop(signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_idle_environments_are_reaped(server_factory: Any) -> None:
    server: Server = server_factory(LAMBDABOX_IDLE_TIMEOUT="1")
    pid = _function_pid(server)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)


def test_generated_root_credentials(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDABOX_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdabox", "up", "--port", str(port), "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        Server(data_dir, port=port, process=process).wait_ready()
        stored = data_dir / "credentials.json"
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        keys = json.loads(stored.read_text())
        exported = subprocess.run(
            [sys.executable, "-m", "lambdabox", "credentials", "--data-dir", str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"export AWS_ACCESS_KEY_ID={keys['access_key_id']}" in exported
        assert f"export AWS_SECRET_ACCESS_KEY={keys['secret_access_key']}" in exported
        assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in exported
        assert "export AWS_DEFAULT_REGION=us-east-1" in exported
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=20)[0].decode()
    assert process.returncode == 0
    assert keys["secret_access_key"] in output  # printed once, at the start that generated it
