"""Execution environments forked from a warm Python zygote instead of started as fresh interpreters.

A fresh `python` that imports boto3 and builds an S3 client costs ~385 ms here; a fork of a process that
already did so costs a few. The zygote (runtimes/python/zygote.py) forks on request; this side owns the
channel, hands each child its output pipe, and turns the zygote's exit reports into process exits.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

from lambdabox.execution.isolation import Confinement, Isolation
from lambdabox.execution.isolation.cgroups import EnvCgroup
from lambdabox.execution.sandbox import (
    ConfinedProcess,
    LaunchSpec,
    SandboxProcess,
    confine,
    die_with_parent,
    release_later,
)

log = logging.getLogger("lambdabox.zygote")
ZYGOTE_SCRIPT = Path(__file__).resolve().parents[1] / "runtimes" / "python" / "zygote.py"


class FdSender:
    """Sends messages with descriptors on one non-blocking socket. When its buffer is full (a burst of
    cold starts queues more requests than it holds), senders wait for it to drain, taking turns: the
    event loop keeps one writer callback per descriptor."""

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel
        self._turn = asyncio.Lock()

    async def send(self, message: bytes, fds: list[int]) -> None:
        if not self._turn.locked():
            try:
                socket.send_fds(self._channel, [message], fds)
                return
            except BlockingIOError:
                pass
        async with self._turn:
            await self._send_when_writable(message, fds)

    async def _send_when_writable(self, message: bytes, fds: list[int]) -> None:
        while True:
            try:
                socket.send_fds(self._channel, [message], fds)
                return
            except BlockingIOError:
                await fd_ready(self._channel.fileno(), write=True)


async def fd_ready(fd: int, *, write: bool = False) -> None:
    """Wait until `fd` is readable (or writable) on the running event loop."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    (loop.add_writer if write else loop.add_reader)(fd, wake)
    try:
        await ready
    finally:
        (loop.remove_writer if write else loop.remove_reader)(fd)


class ForkedProcess(ConfinedProcess):
    """A process forked by another process of ours (the zygote, a SnapStart template), which reports its
    exit status to us (`exited`)."""

    def __init__(self, pid: int, output_fd: int, confinement: Confinement | None) -> None:
        super().__init__(pid, confinement)
        self.output_fd = output_fd

    def exited(self, code: int) -> None:
        if self.returncode is None:
            self._exited(code)


def _release(cgroup: EnvCgroup | None) -> None:
    """Remove a cgroup reserved for a spare that will not be used."""
    if cgroup is not None:
        release_later(Confinement({}, {}, cgroup))


class Zygote:
    """One fork server for one interpreter and runtime site-packages.

    With isolation, the zygote gets the platform-wide layout at start (LAMBDABOX_JAIL) and each spawn
    request carries one environment's plan; the forked child confines itself before the runtime runs."""

    def __init__(self, python: str, env: dict[str, str], isolation: Isolation | None = None) -> None:
        self._python = python
        self._env = dict(env)
        self._isolation = isolation
        config = isolation.zygote_config() if isolation is not None else None
        if config is not None:
            self._env["LAMBDABOX_JAIL"] = json.dumps(config)
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: socket.socket | None = None
        self._sender: FdSender | None = None
        self._ready: asyncio.Future[None] | None = None
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._children: dict[int, ForkedProcess] = {}
        # Warm spares: pid, channel, the cgroup reserved for (and joined by) the environment it becomes.
        self._spares: collections.deque[tuple[int, socket.socket, EnvCgroup | None]] = collections.deque()
        self._ids = itertools.count(1)

    @property
    def state(self) -> str:
        """`stopped` (not started yet, or gone: started again on demand), `starting` or `ready`."""
        if self._ready is None:
            return "stopped"
        ready = self._ready
        return "ready" if ready.done() and not ready.cancelled() and ready.exception() is None else "starting"

    async def start(self) -> None:
        if self._ready is not None:
            return await asyncio.shield(self._ready)
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._process = subprocess.Popen(
            [self._python, "-S", "-u", str(ZYGOTE_SCRIPT), str(theirs.fileno())],
            env=self._env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        theirs.close()
        ours.setblocking(False)
        self._channel = ours
        self._sender = FdSender(ours)
        loop.add_reader(ours.fileno(), self._on_message)
        await asyncio.shield(self._ready)

    def _on_message(self) -> None:
        assert self._channel is not None
        try:
            data, fds, _, _ = socket.recv_fds(self._channel, 65536, 1)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        if not data:
            for fd in fds:
                os.close(fd)
            self._lost()
            return
        message = json.loads(data)
        op = message["op"]
        if op == "spare" and len(fds) == 1:  # a warm spare's channel: spawn requests go straight to it
            self._add_spare(int(message["pid"]), socket.socket(fileno=fds[0]))
            return
        for fd in fds:
            os.close(fd)
        if op == "ready":
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
        elif op == "spawned":
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(int(message["pid"]))
        elif op == "failed":
            future = self._pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_exception(OSError(message["error"]))
        elif op == "exit":
            pid = int(message["pid"])
            child = self._children.pop(pid, None)
            if child is not None:
                child.exited(int(message["code"]))
            else:
                self._drop_spare(pid)

    def _add_spare(self, pid: int, channel: socket.socket) -> None:
        """Keep a spare's channel; give it the cgroup of the environment it will become, which it joins
        while it waits (joining four v1 cgroups costs ~0.5 ms of a cold start otherwise)."""
        channel.setblocking(False)
        cgroup: EnvCgroup | None = None
        try:
            cgroup = self._isolation.reserve_cgroup() if self._isolation is not None else None
            if cgroup is not None:
                channel.send(json.dumps({"op": "cgroups", "procs": list(cgroup.procs)}).encode())
        except OSError as exc:  # it joins its cgroups once it is given an environment
            log.warning("could not give a spare its cgroup ahead of time: %s", exc)
            _release(cgroup)
            cgroup = None
        self._spares.append((pid, channel, cgroup))

    def _drop_spare(self, pid: int) -> None:
        for spare in [spare for spare in self._spares if spare[0] == pid]:
            self._spares.remove(spare)
            spare[1].close()
            _release(spare[2])

    def _close_spares(self) -> None:
        while self._spares:
            _, channel, cgroup = self._spares.popleft()
            channel.close()
            _release(cgroup)

    def _lost(self) -> None:
        """The zygote died: its children die with it (PDEATHSIG); report them gone; restart on demand."""
        log.warning("the zygote of %s exited; it is restarted on the next cold start", self._python)
        if self._channel is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(OSError("the zygote failed to start"))
        self._ready = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(OSError("the zygote exited"))
        self._pending.clear()
        self._close_spares()
        children, self._children = self._children, {}
        for child in children.values():
            child.exited(-signal.SIGKILL)
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._process.wait()
            self._process = None

    async def spawn(self, spec: LaunchSpec) -> SandboxProcess:
        await self.start()
        assert self._channel is not None and self._sender is not None
        # A SnapStart template's seccomp filter still allows namespaces; a spare's is loaded.
        spare = self._spares.popleft() if self._spares and spec.snapshot_channel is None else None
        try:
            confinement = confine(self._isolation, spec, spare[2] if spare is not None else None)
        except BaseException:
            if spare is not None:
                spare[1].close()  # (its cgroup is gone with the failure)
            raise
        read_fd, write_fd = os.pipe()
        request_id = next(self._ids)
        message: dict[str, object] = {"op": "spawn", "id": request_id, "env": spec.env, "cwd": str(spec.cwd)}
        if not spec.forkable:  # a custom runtime: the forked child execs its bootstrap
            message["argv"] = list(spec.argv)
        if confinement is not None:
            message["jail"] = confinement.plan
        try:
            fds = [write_fd] if spec.snapshot_channel is None else [write_fd, spec.snapshot_channel]
            payload = json.dumps(message).encode()
            try:
                pid = self._hand_to_spare(spare, payload, fds) if spare is not None else None
                if pid is None:  # no spare at hand: the zygote forks one for this environment
                    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
                    self._pending[request_id] = future
                    await self._sender.send(payload, fds)
            finally:
                os.close(write_fd)
            taken = pid is not None
            if pid is None:
                pid = await future
        except BaseException:
            self._pending.pop(request_id, None)
            os.close(read_fd)
            if confinement is not None:
                release_later(confinement)
            raise
        os.set_blocking(read_fd, False)
        child = ForkedProcess(pid, read_fd, confinement)
        self._children[pid] = child
        if taken:  # the zygote forks a replacement (once it has been quiet a moment)
            with contextlib.suppress(OSError):
                await self._sender.send(json.dumps({"op": "took", "pid": pid}).encode(), [])
        return child

    @staticmethod
    def _hand_to_spare(
        spare: tuple[int, socket.socket, EnvCgroup | None], message: bytes, fds: list[int]
    ) -> int | None:
        """Send a spawn request straight to a warm spare; its pid, or None when it cannot take it (it is
        gone: its exit report follows; the zygote forks a new process, which joins the cgroup)."""
        pid, channel, _ = spare
        try:
            socket.send_fds(channel, [message], fds)
        except OSError:
            return None
        finally:
            channel.close()
        return pid

    def stop(self) -> None:
        self._close_spares()
        if self._channel is not None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
            self._channel = None
        for child in list(self._children.values()):
            child.kill()
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._process.wait()
            self._process = None
        self._ready = None


class Zygotes:
    """One zygote per interpreter (each Python runtime runs on its own version's, see
    runtimes/interpreters.py). The platform's own starts with the platform; another when it is prepared
    (a function of its runtime is being created, or exists at start), else at its first cold start.
    `env(executable)` is a zygote's environment."""

    def __init__(
        self, default: str, env: Callable[[str], dict[str, str]], isolation: Isolation | None = None
    ) -> None:
        self._default = default
        self._env = env
        self._isolation = isolation
        self._zygotes: dict[str, Zygote] = {}

    def of(self, spec: LaunchSpec) -> Zygote:
        """The zygote to fork `spec` from: its interpreter's (a custom runtime: the platform's)."""
        return self.for_interpreter(spec.argv[0] if spec.forkable and spec.argv else self._default)

    def for_interpreter(self, executable: str) -> Zygote:
        zygote = self._zygotes.get(executable)
        if zygote is None:
            zygote = self._zygotes[executable] = Zygote(executable, self._env(executable), self._isolation)
        return zygote

    async def start(self) -> None:
        await self.for_interpreter(self._default).start()

    def prepare(self, executable: str, done: Callable[[], None]) -> None:
        """Start `executable`'s zygote in the background (a function of its runtime is being created, or
        exists at start), then call `done`, also if it cannot start (cold starts then try again)."""
        task = asyncio.ensure_future(self.for_interpreter(executable).start())

        def finished(task: asyncio.Future[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log.warning("the zygote of %s did not start: %s", executable, task.exception())
            done()

        task.add_done_callback(finished)

    def status(self) -> dict[str, str]:
        """Each zygote's interpreter and state (/_lambdabox/health)."""
        return {executable: zygote.state for executable, zygote in self._zygotes.items()}

    def stop(self) -> None:
        for zygote in self._zygotes.values():
            zygote.stop()
