"""Shared fixtures: a real Lambdabox server process on a free port, real boto3 clients."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

ACCESS_KEY = "LKIATESTTESTTESTTEST"
SECRET_KEY = "test-secret-key-for-lambdabox-tests-only"
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/lambda-test"
# The execution role every shared fixture's function runs as: trusted by Lambda, allowed everything
# (tests of narrower roles create their own, see tests/functional/test_iam_enforcement.py).
LAMBDA_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
BROAD_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PortTaken(Exception):
    """The server could not bind its port: something else took it first."""


@dataclass
class Server:
    data_dir: Path
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    clients: list[Any] = field(default_factory=list)
    started: bool = False  # it has run once: restarts keep their port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LAMBDABOX_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
            LAMBDABOX_ROOT_SECRET_ACCESS_KEY=SECRET_KEY,
            LAMBDABOX_ASYNC_RETRY_DELAYS="0.5,0.5",
        )
        env.update(self.extra_env)
        return env

    def client_env(self) -> dict[str, str]:
        """What `eval "$(lambdabox credentials)"` exports, for CLI subprocesses."""
        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
        )
        env.pop("AWS_PROFILE", None)
        return env

    def start(self) -> Server:
        for attempt in range(3):
            try:
                return self._start()
            except PortTaken:
                # Another process bound the free port between free_port() and the server's bind (an
                # execution environment's Runtime API port, a parallel run): a first start moves on.
                if self.started or attempt == 2:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _start(self) -> Server:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "lambdabox",
                    "up",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready()
        self.started = True
        self.ensure_role(ROLE.rsplit("/", 1)[1], BROAD_POLICY)
        return self

    def ensure_role(self, name: str, policy: str, trust: str = LAMBDA_TRUST) -> str:
        """An execution role `name` trusted by Lambda with the inline policy `policy`; returns its ARN."""
        iam = self.client("iam")
        try:
            arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="policy", PolicyDocument=policy)
        return arn

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with urllib3.PoolManager() as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    if "address already in use" in self.log():
                        self.process = None
                        raise PortTaken(self.port)
                    raise AssertionError(self.log())
                try:
                    response = http.request(
                        "GET", f"{self.endpoint}/_lambdabox/health", timeout=1.0, retries=False
                    )
                    if response.status == 200 and response.json()["status"] == "ready":
                        return
                except urllib3.exceptions.HTTPError:
                    pass
                time.sleep(0.05)
        raise AssertionError(f"server did not become ready:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        finally:
            self.process = None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()

    def client(self, service: str = "lambda", **config: Any) -> Any:
        """A boto3 client for this server, closed when the fixture that started the server ends."""
        client = boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(
                retries=config.pop("retries", {"max_attempts": 1, "mode": "standard"}),
                read_timeout=120,
                **config,
            ),
        )
        if service == "lambda":
            client.meta.events.register("after-call.lambda.Invoke", _buffer_payload)
        self.clients.append(client)
        return client


def _buffer_payload(parsed: dict[str, Any], **_: Any) -> None:
    """Read Invoke's streaming payload at once, so every connection goes back to the pool even when a
    test never reads the body (an unread body would pin, then leak, its socket)."""
    body = parsed.get("Payload")
    if isinstance(body, StreamingBody):
        data = body.read()
        parsed["Payload"] = StreamingBody(io.BytesIO(data), len(data))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = Server(tmp_path_factory.mktemp("lambdabox") / "data").start()
    yield instance
    instance.close_clients()
    if instance.process is not None:
        instance.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(**extra_env: str) -> Server:
        instance = Server(tmp_path / f"data-{len(started)}", extra_env=extra_env).start()
        started.append(instance)
        return instance

    yield make
    for instance in started:
        instance.close_clients()
        if instance.process is not None:
            instance.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def lambda_client(server: Server) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="session")
def s3(server: Server) -> Any:
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    """An empty bucket of the test's own (modules needing more define their own `bucket`)."""
    name = unique("bucket")
    s3.create_bucket(Bucket=name)
    return name


def wait_for_logs(
    server: Server, function_name: str, done: Callable[[list[str]], bool], timeout: float = 20.0
) -> list[str]:
    """Poll the function's CloudWatch log group until `done(messages)`; return the messages.

    Tests observe what functions did through their logs (as a user would), not through files: functions
    may run in a private file system."""
    logs = server.client("logs")
    deadline = time.monotonic() + timeout
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{function_name}"
            )
            messages = [event["message"] for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            messages = []
        if done(messages):
            return messages
        time.sleep(0.1)
    raise AssertionError(f"log condition not met within {timeout} s; messages: {messages[-20:]}")


def peak_rss_kb(server: Server) -> int:
    """The server process's peak resident memory so far (VmHWM), in kB."""
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def write_random_file(path: Path, megabytes: int) -> str:
    """A file of distinct random MiB blocks (cheap to make); returns its MD5 (hex)."""
    digest = hashlib.md5()
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        for index in range(megabytes):
            chunk = index.to_bytes(4, "big") + block[4:]
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def raw_request(method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    """One request with its own connection pool, closed before returning (no leaked sockets)."""
    with urllib3.PoolManager() as http:
        return http.request(method, url, **kwargs)


@pytest.fixture
def http() -> Iterator[urllib3.PoolManager]:
    """A urllib3 pool for raw HTTP requests, closed after the test."""
    with urllib3.PoolManager() as pool:
        yield pool


def isolation_of(server: Server) -> dict[str, Any]:
    """The server's isolation mechanisms and their state (/_lambdabox/health)."""
    status: dict[str, Any] = raw_request("GET", f"{server.endpoint}/_lambdabox/health").json()["isolation"]
    return status


def isolated_by(status: dict[str, Any], mechanism: str) -> bool:
    return status.get(mechanism) not in (None, "off", "disabled")


def aws_error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    """A botocore error's (code, message, HTTP status)."""
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            data = content.encode() if isinstance(content, str) else content
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ric_files() -> dict[str, str | bytes]:
    """AWS's Python runtime interface client packaged into a function, as one would for AWS (the
    function cannot see the platform's own site-packages), with a `bootstrap` that starts it."""
    import awslambdaric

    site = Path(awslambdaric.__file__).resolve().parent.parent
    files: dict[str, str | bytes] = {}
    for pattern in (
        "awslambdaric/**/*.py",
        "simplejson/**/*",
        "runtime_client*.so",
        "snapshot_restore_py.py",
    ):
        for path in site.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts:
                files[str(path.relative_to(site))] = path.read_bytes()
    interpreter = os.path.realpath(sys.executable)
    files["bootstrap"] = f"#!/bin/sh\nexec {interpreter} -m awslambdaric app.handler\n"
    return files


def python_zip(source: str, module: str = "app") -> bytes:
    return make_zip({f"{module}.py": textwrap.dedent(source)})


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_function(
    client: Any,
    source: str | None = None,
    *,
    zip_file: bytes | None = None,
    handler: str = "app.handler",
    runtime: str = "python3.12",
    name: str | None = None,
    role: str = ROLE,
    **kwargs: Any,
) -> str:
    """Create a function from Python source (or a zip) with `client`, wait until it is Active, return its name."""
    function_name = name or unique()
    code = (
        zip_file
        if zip_file is not None
        else python_zip(source or "def handler(event, context):\n    return event\n")
    )
    client.create_function(
        FunctionName=function_name,
        Runtime=runtime,
        Handler=handler,
        Role=role,
        Code={"ZipFile": code},
        **kwargs,
    )
    client.get_waiter("function_active_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 1})
    return function_name


@pytest.fixture
def deploy(lambda_client: Any) -> Callable[..., str]:
    """`create_function` with the session server's client."""
    return functools.partial(create_function, lambda_client)
