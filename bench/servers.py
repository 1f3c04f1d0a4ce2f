"""Processes the benchmark starts (a Lambdabox server, the baseline server) and how it talks to them.

Everything binds and connects to 127.0.0.1 only. Each process runs in its own session so that stopping it
takes its whole process group along (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HOST = "127.0.0.1"
ACCESS_KEY = "LKIABENCHMARKBENCH01"
SECRET_KEY = "lambdabox-benchmark-secret-key-not-for-production"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lambdabox-bench"
BENCH_DIR = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def nodelay_connection(port: int, timeout: float = 30.0) -> http.client.HTTPConnection:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1:port with Nagle's algorithm off."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


class ManagedProcess:
    """A child process in its own session, with its output in a log file."""

    def __init__(
        self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path, cwd: Path | None = None
    ) -> None:
        self.name = name
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                argv,
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_http(self, port: int, path: str, ready: str | None, timeout: float = 30.0) -> float:
        """Poll GET path until it answers 200 (and, if given, JSON status == ready). Returns seconds."""
        started = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    body = response.read()
                finally:
                    conn.close()
                if response.status == 200 and (ready is None or json.loads(body).get("status") == ready):
                    return time.perf_counter() - started
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, grace: float = 8.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        # Whatever is left in the group (the main process or stragglers it started) goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)


def start_lambdabox(work_dir: Path) -> tuple[ManagedProcess, int, float]:
    """`lambdabox up` on a free port with a fresh data dir; returns the process, port, start-up seconds."""
    port = free_port()
    launcher = Path(sys.executable).parent / "lambdabox"
    argv = [str(launcher)] if launcher.exists() else [sys.executable, "-m", "lambdabox"]
    argv += ["up", "--host", HOST, "--port", str(port), "--data-dir", str(work_dir / "data")]
    env = dict(os.environ)
    env.update(LAMBDABOX_ROOT_ACCESS_KEY_ID=ACCESS_KEY, LAMBDABOX_ROOT_SECRET_ACCESS_KEY=SECRET_KEY)
    process = ManagedProcess("lambdabox", argv, env, work_dir / "lambdabox.log")
    try:
        seconds = process.wait_http(port, "/_lambdabox/health", "ready")
    except BaseException:
        process.stop()
        raise
    return process, port, seconds


def start_baseline(work_dir: Path) -> tuple[ManagedProcess, int]:
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "baseline_server.py"), "--port", str(port)]
    process = ManagedProcess("baseline server", argv, os.environ, work_dir / "baseline.log")
    try:
        process.wait_http(port, "/", None)
    except BaseException:
        process.stop()
        raise
    return process, port


def signed_headers(
    port: int, path: str, body: bytes, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Headers of a SigV4-signed POST (service lambda, us-east-1, the root keys); valid for 15 minutes."""
    headers = {"Host": f"{HOST}:{port}", "Content-Type": "application/json", **(extra or {})}
    request = AWSRequest("POST", f"http://{HOST}:{port}{path}", data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "lambda", REGION).add_auth(request)
    return dict(request.headers.items())


def lambda_client(port: int) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=f"http://{HOST}:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60, tcp_keepalive=True),
    )


def python_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("app.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


def wait_state(client: Any, name: str, key: str, want: str, timeout: float = 30.0) -> None:
    """Poll GetFunctionConfiguration every 5 ms until `key` is `want` (the SDK waiters poll once a second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        config = client.get_function_configuration(FunctionName=name)
        if config.get(key) == want:
            return
        if config.get(key) == "Failed":
            raise RuntimeError(f"{name}: {key} is Failed: {config.get('StateReason')}")
        time.sleep(0.005)
    raise RuntimeError(f"{name}: {key} did not become {want} within {timeout:.0f}s")


def ensure_role(endpoint: str) -> None:
    """The benchmark's execution role, trusted by Lambda (the platform checks that Lambda can assume it)."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument=json.dumps(trust))
    iam.close()


# The runtime of this interpreter's version: functions then run on the interpreter the plain-process
# baselines use (each python3.x runtime runs on Python 3.x when the machine has it).
RUNTIME = os.environ.get("BENCH_RUNTIME") or f"python{sys.version_info.major}.{sys.version_info.minor}"


def deploy(client: Any, name: str, source: str, memory_mb: int = 1769) -> None:
    ensure_role(client.meta.endpoint_url)
    client.create_function(
        FunctionName=name,
        Runtime=RUNTIME,
        Handler="app.handler",
        Role=ROLE,
        Code={"ZipFile": python_zip(source)},
        Timeout=30,
        # One full vCPU (1,769 MB): the benchmarks measure the platform, not the CPU quota that holds a
        # 128 MB function to 7% of a CPU once its init is done (as on AWS).
        MemorySize=memory_mb,
    )
    wait_state(client, name, "State", "Active")


@dataclass(frozen=True)
class Health:
    environments: int


def health(port: int) -> Health:
    conn = http.client.HTTPConnection(HOST, port, timeout=5.0)
    try:
        conn.request("GET", "/_lambdabox/health")
        document = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    return Health(environments=int(document.get("environments", 0)))


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    queue = [pid]
    while queue:
        current = queue.pop()
        with contextlib.suppress(OSError, ValueError):
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                found.extend(int(c) for c in children)
                queue.extend(int(c) for c in children)
    return found


def cpu_split(pid: int) -> dict[int, float]:
    """CPU seconds used so far by `pid` and by each of its live descendants."""
    return {p: _cpu_seconds(p) for p in [pid, *_descendants(pid)]}


def cpu_per_request_us(
    pid: int, before: dict[int, float], after: dict[int, float], requests: int
) -> dict[str, float]:
    """CPU microseconds per request: the server process itself and its children (execution environments)."""
    if requests <= 0:
        return {}
    own = after.get(pid, 0.0) - before.get(pid, 0.0)
    children = sum(v - before.get(p, 0.0) for p, v in after.items() if p != pid)
    return {"server": round(own / requests * 1e6, 1), "children": round(children / requests * 1e6, 1)}
