"""SnapStart in the Python runtime: snapshot after Init, restore by fork.

A published version with SnapStart runs its Init once, in a *template* environment. When Init is done,
the runtime runs the before-snapshot hooks and calls ``GET /runtime/restore/next``; from then on the
template process is the snapshot: it waits on the channel the platform gave it (fd in
``_LAMBDABOX_SNAPSHOT_FD``) and forks one copy per environment the platform asks for. The copy reports
itself over its own link with SCM_CREDENTIALS (so the platform sees its pid in its own PID namespace),
waits until the platform has put it into the environment's cgroups, isolates itself (jail.restore),
takes the environment's variables (its own Runtime API endpoint, log stream, credentials), reseeds its
random numbers, runs the after-restore hooks and serves invocations like any environment. The template
reports each copy's exit status on the channel.

    platform -> template  {"op": "restore", "id": N, "env": {...}, ["jail": {...}]} + [output fd, link fd]
    template -> platform  {"op": "exit", "id": N, "code": C}
    copy -> platform      (link) "restored" with SCM_CREDENTIALS;  platform -> copy (link) "go"
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import lambdabox_runtime_client

CHANNEL_ENV = "_LAMBDABOX_SNAPSHOT_FD"
BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"


def _hooks() -> Any:
    import snapshot_restore_py  # type: ignore[import-untyped]  # the function's copy, else the runtime's

    return snapshot_restore_py


def run_before_snapshot() -> None:
    hooks = _hooks().get_before_snapshot()
    while hooks:
        func, args, kwargs = hooks.pop()  # reverse order of registration
        func(*args, **kwargs)


def run_after_restore() -> None:
    for func, args, kwargs in _hooks().get_after_restore():
        func(*args, **kwargs)


def serve_restores(channel_fd: int) -> dict[str, Any]:
    """The template's loop: fork one copy per restore request. Returns only in a copy, with its
    request (the template exits when the platform closes the channel)."""
    channel = socket.socket(fileno=channel_fd)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    copies: dict[int, int] = {}  # pid -> request id
    while True:
        try:
            readable, _, _ = select.select([channel.fileno(), wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _report_exits(channel, copies)
        if channel.fileno() not in readable:
            continue
        message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 4)
        if not message:
            os._exit(0)  # the platform retired the snapshot (its copies die with it)
        request: dict[str, Any] = json.loads(message)
        if request.get("op") != "restore" or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            channel.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            _become_copy(request, fds[0], fds[1])
            return request
        for fd in fds:
            os.close(fd)
        copies[pid] = request["id"]


def _report_exits(channel: socket.socket, copies: dict[int, int]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        request_id = copies.pop(pid, None)
        if request_id is not None:
            code = os.waitstatus_to_exitcode(status)
            channel.send(json.dumps({"op": "exit", "id": request_id, "code": code}).encode())


def _become_copy(request: dict[str, Any], output_fd: int, link_fd: int) -> None:
    """In the fork: join the environment's cgroups (the platform moves us), isolate, take its identity."""
    import ctypes
    import random

    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the template
    link = socket.socket(fileno=link_fd)
    credentials = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
    link.sendmsg([b"restored"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, credentials)])
    if link.recv(16) != b"go":
        os._exit(1)
    link.close()
    os.setsid()  # its own process group: the platform kills the environment's group
    if request.get("jail"):
        jail = sys.modules.get("_lambdabox_jail")
        if jail is None:  # never run a copy less isolated than its template
            os._exit(70)
        jail.restore(request["jail"])
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.environ.update(request["env"])
    random.seed()  # a snapshot's random state must not be shared by its copies


def snapshot(
    client: lambdabox_runtime_client.RuntimeClient, report_error: Any
) -> lambdabox_runtime_client.RuntimeClient:
    """After Init of a SnapStart environment. Returns in each restored copy, with a client for its own
    Runtime API. `report_error(client, error_type, path)` logs the current exception and reports it."""
    channel = os.environ.pop(CHANNEL_ENV, None)
    try:
        run_before_snapshot()
        client.restore_next()
    except Exception:
        report_error(client, BEFORE_SNAPSHOT_ERROR, False)
        sys.exit(64)
    if channel is not None:  # this process is the snapshot: serve restores; return in a copy
        serve_restores(int(channel))
        client.close()
        client = type(client)(os.environ["AWS_LAMBDA_RUNTIME_API"])
        client.connect()  # accepted while the after-restore hooks run
    try:
        run_after_restore()
    except Exception:
        report_error(client, AFTER_RESTORE_ERROR, True)
        sys.exit(65)
    return client
