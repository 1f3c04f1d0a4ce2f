"""Isolation of execution environments, through a real server and real functions.

What a function can see and touch (PID and mount namespaces, unprivileged user, seccomp) and the limits it
is held to (memory, processes, /tmp size, freezing while idle). Each test is skipped, with the reason the
server gives, when the mechanism it checks is not available on the machine (or isolation is off).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, create_function, isolated_by, isolation_of, make_zip, raw_request

SHELL_BOOTSTRAP = """#!/bin/sh
set -eu
next="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
while true; do
  headers="$(mktemp)"
  curl -sS -LD "$headers" "$next/next" > /dev/null
  id=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$headers" | tr -d '[:space:]' | cut -d: -f2)
  procs=$(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')
  curl -sS "$next/$id/response" -d "{\\"uid\\": $(id -u), \\"procs\\": \\"$procs\\", \\"pwd\\": \\"$(pwd)\\"}" > /dev/null
done
"""


def payload_of(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def require(server: Server, *mechanisms: str) -> None:
    status = isolation_of(server)
    for mechanism in mechanisms:
        if not isolated_by(status, mechanism):
            reason = status.get("unavailable", {}).get(mechanism, "LAMBDABOX_ISOLATION=off")
            pytest.skip(f"{mechanism} is not available here: {reason}")


def run(lambda_client: Any, name: str, event: Any = None, **kwargs: Any) -> Any:
    response = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    assert "FunctionError" not in response, payload_of(response)
    return payload_of(response)


PROBE = """
import errno, os

def attempt(action):
    try:
        result = action()
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    return "ok" if result is None else result

def handler(event, context):
    return {name: attempt(lambda path=path: os.listdir(path) if kind == "list" else open(path).read(100))
            for name, (kind, path) in event.items()}
"""


def test_function_cannot_read_the_data_dir_or_other_functions_code(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    require(server, "mountNamespace")
    other_zip = make_zip({"app.py": "def handler(event, context):\n    return 1\n", "secret.txt": "s3cr3t"})
    deploy(zip_file=other_zip)
    other_code = server.data_dir / "code" / hashlib.sha256(other_zip).hexdigest()
    assert (other_code / "secret.txt").read_text() == "s3cr3t"  # it is there, on the host
    name = deploy(PROBE)
    seen = run(
        lambda_client,
        name,
        {
            "data_dir": ["list", str(server.data_dir)],
            "database": ["read", str(server.data_dir / "lambdabox.db")],
            "code_store": ["list", str(server.data_dir / "code")],
            "other_code": ["read", str(other_code / "secret.txt")],
            "own_code": ["read", "/var/task/app.py"],
        },
    )
    assert seen["data_dir"] in ([], "ENOENT", "EACCES")
    assert seen["database"] in ("ENOENT", "EACCES")
    assert seen["code_store"] in ("ENOENT", "EACCES")
    assert seen["other_code"] in ("ENOENT", "EACCES")
    assert seen["own_code"].startswith("\nimport errno")


def test_function_sees_only_its_own_processes_and_cannot_signal_the_server(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    require(server, "pidNamespace")
    source = """
import os, signal, subprocess

def handler(event, context):
    child = subprocess.Popen(["sleep", "5"])
    processes = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    child.kill()
    child.wait()
    try:
        os.kill(event["server"], signal.SIGKILL)
        signalled = "ok"
    except OSError as exc:
        signalled = type(exc).__name__
    return {"pid": os.getpid(), "processes": processes, "child": child.pid, "signalled": signalled}
"""
    name = deploy(source)
    assert server.process is not None
    seen = run(lambda_client, name, {"server": server.process.pid})
    assert seen["signalled"] in ("ProcessLookupError", "PermissionError")
    assert server.process.poll() is None
    assert seen["processes"] == sorted({1, seen["pid"], seen["child"]})  # init, the runtime, its child
    assert max(seen["processes"]) < 100


def test_function_runs_unprivileged_under_seccomp_and_cannot_write_its_code(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    require(server, "user", "mountNamespace", "seccomp")
    source = """
import ctypes, errno, os

libc = ctypes.CDLL(None, use_errno=True)

def call(result):
    return "ok" if result == 0 else errno.errorcode[ctypes.get_errno()]

def handler(event, context):
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    try:
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "planted.py"), "w")
        write = "ok"
    except OSError as exc:
        write = errno.errorcode[exc.errno]
    return {
        "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
        "no_new_privs": status["NoNewPrivs"].strip(),
        "seccomp": status["Seccomp"].strip(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "cwd": os.getcwd(),
        "write_code": write,
        "unshare_user": call(libc.unshare(0x10000000)),
        "ptrace_traceme": call(libc.ptrace(0, 0, None, None)),
        "mount": call(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
    }
"""
    name = deploy(source)
    seen = run(lambda_client, name)
    assert 0 not in seen["ids"]
    assert seen["no_new_privs"] == "1"
    assert seen["seccomp"] == "2"  # a filter
    assert seen["task_root"] == seen["cwd"] == "/var/task"
    assert seen["write_code"] in ("EROFS", "EACCES")
    assert seen["unshare_user"] == "EPERM"  # allowed to any unprivileged user, but not under the filter
    assert seen["ptrace_traceme"] == "EPERM"
    assert seen["mount"] == "EPERM"


def test_custom_runtimes_are_confined_too(server: Server, lambda_client: Any, deploy: Any) -> None:
    require(server, "pidNamespace", "mountNamespace", "user")
    code = make_zip({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": 0o755})
    name = deploy(zip_file=code, runtime="provided.al2023", handler="function.handler")
    seen = run(lambda_client, name)
    assert seen["uid"] != 0
    assert seen["pwd"] == "/var/task"
    assert all(int(pid) < 100 for pid in seen["procs"].split())


def test_out_of_memory_kills_the_environment_only(server: Server, lambda_client: Any, deploy: Any) -> None:
    require(server, "cgroupMemory")
    source = """
def handler(event, context):
    if event.get("allocate_mb"):
        hog = b"x" * (event["allocate_mb"] * 1024 * 1024)
        return len(hog)
    return "fine"
"""
    name = deploy(source, MemorySize=128, Timeout=30)
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"allocate_mb": 400}', LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    error = payload_of(response)
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in error["errorMessage"]
    report = next(
        line
        for line in base64.b64decode(response["LogResult"]).decode().splitlines()
        if line.startswith("REPORT")
    )
    assert "Status: error\tError Type: Runtime.OutOfMemory" in report
    used = int(report.split("Max Memory Used: ")[1].split()[0])
    assert 100 <= used <= 130
    assert run(lambda_client, name) == "fine"  # a new environment
    assert server.process is not None and server.process.poll() is None
    assert raw_request("GET", f"{server.endpoint}/_lambdabox/health").json()["status"] == "ready"


def test_fork_bomb_stops_at_the_pids_limit(server: Server, lambda_client: Any, deploy: Any) -> None:
    require(server, "cgroupPids")
    source = """
import os

def handler(event, context):
    read_end, write_end = os.pipe()
    children, error = [], None
    while len(children) < event["cap"]:
        try:
            pid = os.fork()
        except OSError as exc:
            error = exc.strerror
            break
        if pid == 0:
            os.close(write_end)
            os.read(read_end, 1)  # wait until the parent lets go
            os._exit(0)
        children.append(pid)
    os.close(write_end)
    for pid in children:
        os.waitpid(pid, 0)
    os.close(read_end)
    return {"forked": len(children), "error": error}
"""
    name = deploy(source, MemorySize=2048, Timeout=120)
    seen = run(lambda_client, name, {"cap": 3000})
    assert seen["error"] == "Resource temporarily unavailable"
    assert 900 <= seen["forked"] < 1024
    assert run(lambda_client, name, {"cap": 10}) == {"forked": 10, "error": None}


def test_tmp_is_private_and_sized_by_ephemeral_storage(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    require(server, "privateTmp")
    source = """
import errno, os

def handler(event, context):
    stats = os.statvfs("/tmp")
    size = stats.f_blocks * stats.f_frsize
    written, error = 0, None
    if event.get("fill"):
        block = b"\\0" * (16 * 1024 * 1024)
        with open("/tmp/fill", "wb") as handle:
            try:
                while written < 2 * size:
                    written += handle.write(block)
                    handle.flush()
            except OSError as exc:
                error = errno.errorcode[exc.errno]
        os.remove("/tmp/fill")
    return {"size_mb": size // 2**20, "written_mb": written // 2**20, "error": error,
            "mine": sorted(os.listdir("/tmp")), "same_as_var_tmp": os.stat("/tmp").st_dev == os.stat("/var/tmp").st_dev}
"""
    small = deploy(source)
    seen = run(lambda_client, small)
    assert seen["size_mb"] == 512  # the default EphemeralStorage
    assert seen["same_as_var_tmp"]
    big = deploy(source, MemorySize=1024, EphemeralStorage={"Size": 600}, Timeout=60)
    seen = run(lambda_client, big, {"fill": True})
    assert seen["size_mb"] == 600
    assert seen["error"] == "ENOSPC"
    assert 560 <= seen["written_mb"] <= 600


def test_an_idle_environment_is_frozen_and_thawed_for_the_next_invoke(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    require(server, "cgroupFreezer")
    source = """
import threading, time

ticks = 0

def tick():
    global ticks
    while True:
        ticks += 1
        time.sleep(0.005)

threading.Thread(target=tick, daemon=True).start()

def handler(event, context):
    before = ticks
    time.sleep(event.get("work", 0))
    return [before, ticks]
"""
    name = deploy(source)
    _, first = run(lambda_client, name)
    time.sleep(1.0)  # ~200 ticks if the thread ran on
    second, after_work = run(lambda_client, name, {"work": 0.5})
    assert second - first < 40  # only the moments before the freeze and after the thaw
    assert after_work - second > 40  # thawed: it runs again while the environment is busy


def test_health_and_doctor_report_each_mechanism(server: Server) -> None:
    status = isolation_of(server)
    mechanisms = {
        "pidNamespace",
        "mountNamespace",
        "readOnlyRoot",
        "privateTmp",
        "user",
        "noNewPrivs",
        "seccomp",
        "cgroupMemory",
        "cgroupCpu",
        "cgroupPids",
        "cgroupFreezer",
    }
    assert mechanisms <= set(status)
    doctor = subprocess.run(
        [sys.executable, "-m", "lambdabox", "doctor", "--json"], capture_output=True, text=True, timeout=60
    )
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    assert mechanisms <= set(report["isolation"])
    if status["enabled"]:  # this machine's server and doctor see the same machine
        assert {k: report["isolation"][k] for k in mechanisms} == {k: status[k] for k in mechanisms}
    text = subprocess.run(
        [sys.executable, "-m", "lambdabox", "doctor"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "pidNamespace" in text and "cgroupMemory" in text


def _cgroup_dirs(server_pid: int) -> list[Path]:
    return [
        path
        for path in Path("/sys/fs/cgroup").glob("**/lambdabox-*")
        if path.is_dir() and path.name.endswith(f"-{server_pid}")
    ]


def test_cgroups_are_removed_with_their_environments(server_factory: Any) -> None:
    server: Server = server_factory()
    require(server, "cgroupPids")
    client = server.client()
    source = "def handler(event, context):\n    return open('/proc/self/cgroup').read()\n"
    create_function(client, source, name="counted")
    own = payload_of(client.invoke(FunctionName="counted"))  # "<n>:<controllers>:<path>" lines
    assert server.process is not None
    pid = server.process.pid
    parents = _cgroup_dirs(pid)
    assert parents
    # The environment's own cgroups (spares wait in theirs, made for the environments they will become).
    names = {line.rsplit("/", 1)[-1] for line in own.splitlines() if f"-{pid}/" in line}
    assert len(names) == 1
    used = [parent / name for parent in parents for name in names]
    assert used and all(c.is_dir() for c in used)
    client.delete_function(FunctionName="counted")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(c.exists() for c in used):
        time.sleep(0.1)
    assert not [c for c in used if c.exists()]
    server.close_clients()
    server.stop()
    assert not _cgroup_dirs(pid)


def test_frozen_environments_die_with_a_killed_platform(server_factory: Any) -> None:
    """Frozen processes cannot even die until thawed: the zygote thaws and kills them when the platform
    is killed with -9, and nothing is left behind (processes or cgroups)."""
    server: Server = server_factory()
    require(server, "cgroupFreezer", "pidNamespace")
    client = server.client()
    source = "import os\n\ndef handler(event, context):\n    return os.readlink('/proc/self/ns/pid')\n"
    create_function(client, source, name="frozen")
    environment = _processes_in(payload_of(client.invoke(FunctionName="frozen")))
    assert len(environment) == 2  # its init and the runtime
    time.sleep(0.5)  # idle: frozen by now
    assert server.process is not None
    pid = server.process.pid
    server.close_clients()
    server.stop(9)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (_still_there(environment) or _cgroup_dirs(pid)):
        time.sleep(0.1)
    assert not _left(environment), (_left(environment), server.log()[-3000:])
    assert not _cgroup_dirs(pid)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _in_root_pid_namespace(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    return len(next(line for line in status.splitlines() if line.startswith("NSpid:")).split()) == 2


def test_cold_starts_survive_the_death_of_the_init_forker(server_factory: Any) -> None:
    """PID namespaces are made ahead by the zygote's init forker; when it dies (with the namespaces it
    made ahead), the next cold starts still get a namespace of their own from its replacement."""
    server: Server = server_factory()
    require(server, "pidNamespace")
    client = server.client()
    source = "import os\n\ndef handler(event, context):\n    return [os.getpid(), os.readlink('/proc/self/ns/pid')]\n"
    # The platform's own interpreter's runtime: its zygote is the only one (another version has its own).
    create = functools.partial(create_function, client, source, runtime=f"python3.{sys.version_info.minor}")
    create(name="before")
    assert payload_of(client.invoke(FunctionName="before"))[0] == 2
    assert server.process is not None
    [zygote] = [
        pid
        for pid in _children(server.process.pid)
        if b"zygote.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    # The init forker is the zygote's one child in the platform's PID namespace (spares and environments
    # live in namespaces of their own); its children are the inits of the namespaces made ahead.
    [forker] = [pid for pid in _children(zygote) if _in_root_pid_namespace(pid)]
    made_ahead = _children(forker)
    assert made_ahead
    os.kill(forker, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in [forker, *made_ahead]):
        time.sleep(0.05)
    namespaces = set()
    for index in range(4):  # past the spares, on to namespaces made by the new init forker
        name = f"after{index}"
        create(name=name)
        try:
            pid, namespace = payload_of(client.invoke(FunctionName=name))
        except Exception as exc:  # with what the platform logged about it
            raise AssertionError(server.log()[-6000:]) from exc
        assert pid == 2
        namespaces.add(namespace)
    assert len(namespaces) == 4
    assert "zygote fork failed" not in server.log()  # forked by the zygote, not started as plain processes


def _processes_in(namespace: str) -> set[tuple[int, str]]:
    """(pid, start time) of the processes in a PID namespace (namespace numbers are soon reused)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == namespace:
                    found.add((int(entry.name), (entry / "stat").read_text().rsplit(")", 1)[1].split()[19]))
            except OSError:
                continue
    return found


def _left(processes: set[tuple[int, str]]) -> list[str]:
    """Those of `processes` still alive, as `pid state ppid` (a zombie is dead: only its parent, maybe
    the machine's init after reparenting, has yet to reap it)."""
    left = []
    for pid, started in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == started and fields[0] not in ("Z", "X"):
            left.append(f"{pid} {fields[0]} {fields[1]}")
    return left


def _still_there(processes: set[tuple[int, str]]) -> bool:
    return bool(_left(processes))


PLAIN_BOOTSTRAP = """#!/bin/sh
echo "$(id -u) $(pwd) $(df -m /tmp | tail -1 | awk '{print $2}') $(ls /proc | grep -cE '^[0-9]+$')"
[ "$1" = kill ] && kill -9 $$
exit 7
"""


@pytest.mark.parametrize(("how", "code"), [("exit", 7), ("kill", -signal.SIGKILL)])
def test_plain_process_sandbox_confines_too(tmp_path: Path, how: str, code: int) -> None:
    """The fallback launch path (a plain process, when the zygote cannot fork) confines its child between
    fork and exec, and reports how the runtime ended through the PID namespace's init."""
    from lambdabox.execution.isolation import Isolation
    from lambdabox.execution.sandbox import LaunchSpec, ProcessSandbox

    if os.geteuid() != 0:
        pytest.skip("namespaces need root")
    data = tmp_path / "data"
    task_root = data / "code" / "k"
    task_root.mkdir(parents=True)
    (task_root / "bootstrap").write_text(PLAIN_BOOTSTRAP)
    (task_root / "bootstrap").chmod(0o755)
    isolation = Isolation.create(enabled=True, data_dir=data, code_dir=data / "code", needed=[])
    status = isolation.status()
    if "off" in (status["pidNamespace"], status["mountNamespace"], status["user"]):
        isolation.close()
        pytest.skip(f"not available here: {status.get('unavailable')}")
    spec = LaunchSpec(
        ("/var/task/bootstrap", how),
        {"PATH": "/usr/bin:/bin"},
        Path("/var/task"),
        128,
        task_root=task_root,
        ephemeral_mb=64,
    )

    async def run() -> tuple[int, bytes]:
        process = await ProcessSandbox(isolation).start(spec)
        exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        process.on_exit(exited.set_result)
        returncode = await asyncio.wait_for(exited, 10)
        output = os.read(process.output_fd, 4096)
        os.close(process.output_fd)
        await asyncio.sleep(0.1)  # the cgroup is removed once its tasks are gone
        return returncode, output

    try:
        returncode, output = asyncio.run(run())
    finally:
        isolation.close()
    uid, cwd, tmp_mb, processes = output.decode().split()
    assert (uid, cwd, tmp_mb) == ("993", "/var/task", "64")
    assert int(processes) <= 5  # init, the shell and the shell's own helpers
    assert returncode == code


def test_isolation_can_be_switched_off(server_factory: Any) -> None:
    server: Server = server_factory(LAMBDABOX_ISOLATION="off")
    status = isolation_of(server)
    assert status["enabled"] is False
    assert status["pidNamespace"] == status["cgroupMemory"] == "disabled"
    client = server.client()
    create_function(
        client, "import os\n\ndef handler(event, context):\n    return os.getcwd()\n", name="plain"
    )
    assert payload_of(client.invoke(FunctionName="plain")).startswith(str(server.data_dir))


def test_a_function_cannot_use_another_environments_runtime_api(
    server: Server, lambda_client: Any, deploy: Any
) -> None:
    """Runtime API ports are on the shared loopback: only the environment's own processes are admitted."""
    require(server, "cgroupPids")
    victim = deploy(
        "import os\ndef handler(event, context):\n    return os.environ['AWS_LAMBDA_RUNTIME_API']\n"
    )
    address = run(lambda_client, victim)
    thief = deploy(
        """
import http.client
def handler(event, context):
    host, port = event["address"].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        return f"answered {connection.getresponse().status}"
    except TimeoutError:
        return "waited for an event"
    except (ConnectionError, http.client.HTTPException) as error:
        return f"refused: {type(error).__name__}"
"""
    )
    assert run(lambda_client, thief, {"address": address}).startswith("refused")
    assert run(lambda_client, victim) == address  # the victim still serves its own invocations
