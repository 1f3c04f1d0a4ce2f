"""SnapStart: one initialized *template* per published version; new environments are forks of it.

A template is an execution environment started with `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start` and one
more descriptor: its end of a channel to this module. The runtime runs Init and the before-snapshot hooks,
calls `GET /runtime/restore/next` (the environment's `restore_next`: the snapshot is ready), then serves
restores on the channel (runtimes/python/lambdabox_snapstart.py). To restore, the platform sends the new
environment's variables, its output pipe and one end of a *link*; the fork announces itself on the link
with SCM_CREDENTIALS, so its pid arrives translated into our PID namespace; we move it into the new
environment's cgroups, answer "go", and it isolates itself (jail.restore) and runs the after-restore hooks
and the runtime loop against its own Runtime API. The template reports each fork's exit on the channel.
Templates never take invocations, are never frozen and get no CPU quota (forking is their only work).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import replace

from lambdabox.core.models import FunctionVersion
from lambdabox.errors import AwsError
from lambdabox.execution.environment import EnvironmentSpec, ExecutionEnvironment
from lambdabox.execution.isolation import Isolation
from lambdabox.execution.sandbox import LaunchSpec, Sandbox, SandboxProcess, confine, release_later
from lambdabox.execution.zygote import FdSender, ForkedProcess, fd_ready
from lambdabox.observability.logs import LogSink

log = logging.getLogger("lambdabox.snapstart")
SpecFactory = Callable[[FunctionVersion], EnvironmentSpec]
Key = tuple[str, str, str]  # function name, version, revision
HELLO_TIMEOUT_S = 10.0
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def _key(version: FunctionVersion) -> Key:
    return (version.name, version.version, version.revision_id)


def init_limit_s(version: FunctionVersion) -> float:
    """How long a snapshot's Init may run (AWS: up to 15 minutes with SnapStart; at least 130 s here)."""
    return max(130.0, float(version.timeout))


class Template:
    """One initialized environment that forks restored copies of itself (a Sandbox for them)."""

    def __init__(
        self, env: ExecutionEnvironment, channel: socket.socket, isolation: Isolation | None
    ) -> None:
        self.env = env
        self._channel = channel
        self._sender = FdSender(channel)
        self._isolation = isolation
        self._ids = itertools.count(1)
        self._copies: dict[int, ForkedProcess] = {}
        channel.setblocking(False)
        asyncio.get_running_loop().add_reader(channel.fileno(), self._on_message)

    @property
    def alive(self) -> bool:
        return self.env.alive and self._channel.fileno() >= 0

    async def start(self, spec: LaunchSpec) -> SandboxProcess:
        """Restore one environment (the Sandbox protocol)."""
        if not self.alive:
            raise OSError("the SnapStart template is gone")
        confinement = confine(self._isolation, spec)
        read_fd, write_fd = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            request_id = next(self._ids)
            message: dict[str, object] = {"op": "restore", "id": request_id, "env": spec.env}
            plan = confinement.restore_plan() if confinement is not None else None
            if plan is not None:
                message["jail"] = plan
            try:
                await self._sender.send(json.dumps(message).encode(), [write_fd, theirs.fileno()])
            finally:
                os.close(write_fd)
                theirs.close()
            pid = await asyncio.wait_for(_hello(ours), HELLO_TIMEOUT_S)
            if confinement is not None:
                confinement.adopt(pid)
            ours.send(b"go")
        except BaseException:
            os.close(read_fd)
            if confinement is not None:
                release_later(confinement)
            raise
        finally:
            ours.close()
        os.set_blocking(read_fd, False)
        copy = ForkedProcess(pid, read_fd, confinement)
        self._copies[request_id] = copy
        return copy

    def _on_message(self) -> None:
        try:
            data = self._channel.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        message = json.loads(data)
        if message.get("op") == "exit":
            copy = self._copies.pop(int(message["id"]), None)
            if copy is not None:
                copy.exited(int(message["code"]))

    def close(self) -> None:
        """Retire the template; its copies die with it (parent-death signal), reported here."""
        if self._channel.fileno() >= 0:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._channel.fileno())
            self._channel.close()
        self.env.kill()
        copies, self._copies = self._copies, {}
        for copy in copies.values():
            copy.kill()
            copy.exited(-9)


async def _hello(link: socket.socket) -> int:
    """The restored copy's pid, from the credentials it sent (translated into our PID namespace)."""
    await fd_ready(link.fileno())
    _, ancillary, _, _ = link.recvmsg(64, socket.CMSG_SPACE(_CREDENTIALS.size))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid, _, _ = _CREDENTIALS.unpack(data[: _CREDENTIALS.size])
            return int(pid)
    raise OSError("the restored environment did not identify itself")


class Snapshots:
    """The templates of every SnapStart version (core/functions.Snapshotter), made on publish and again
    on demand (after a restart, or when one died)."""

    def __init__(
        self, spec_factory: SpecFactory, sandbox: Sandbox, sink: LogSink, isolation: Isolation | None
    ) -> None:
        self._spec_factory = spec_factory
        self._sandbox = sandbox
        self._sink = sink
        self._isolation = isolation
        self._templates: dict[Key, Template] = {}
        self._creating: dict[Key, asyncio.Task[Template]] = {}

    # -- core/functions.Snapshotter --------------------------------------------------------------------
    def snapshot(self, version: FunctionVersion, done: Callable[[str | None], None]) -> None:
        async def create() -> None:
            try:
                await self.template(version)
            except AwsError as error:
                done(error.message)
            except Exception as error:  # could not even start: the version fails, the platform lives on
                log.exception("SnapStart snapshot of %s:%s failed", version.name, version.version)
                done(f"Lambda could not create a snapshot: {error}")
            else:
                done(None)

        asyncio.get_running_loop().create_task(create())

    # -- the pool's side ---------------------------------------------------------------------------------
    async def template(self, version: FunctionVersion) -> Template:
        """The ready template of `version`, made (Init run once) if there is none."""
        key = _key(version)
        template = self._templates.get(key)
        if template is not None and template.alive:
            return template
        task = self._creating.get(key)
        if task is None:
            task = self._creating[key] = asyncio.get_running_loop().create_task(self._create(version))
            task.add_done_callback(lambda _: self._creating.pop(key, None))
        return await asyncio.shield(task)

    async def _create(self, version: FunctionVersion) -> Template:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec = self._spec_factory(version)
        spec = replace(
            spec,
            initialization_type="snap-start",
            launch=replace(spec.launch, snapshot_channel=theirs.fileno()),
        )
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def dead(env: ExecutionEnvironment) -> None:
            if not ready.done():
                ready.set_exception(_init_failed(version, env.init_error))
            self._forget(env)

        env = ExecutionEnvironment(spec, self._sandbox, self._sink, dead)

        def initialized(_: ExecutionEnvironment) -> None:
            if not ready.done():
                ready.set_result(None)

        env.on_ready = initialized
        try:
            await env.start()
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # the runtime has its own copy now
        try:
            await asyncio.wait_for(asyncio.shield(ready), init_limit_s(version))
        except BaseException:
            env.kill()
            ours.close()
            raise
        template = Template(env, ours, self._isolation)
        self._templates[_key(version)] = template
        return template

    def _forget(self, env: ExecutionEnvironment) -> None:
        for key, template in list(self._templates.items()):
            if template.env is env:
                del self._templates[key]
                template.close()

    def retire(self, function_name: str, keep: Callable[[FunctionVersion], bool]) -> None:
        """Drop the templates of `function_name` whose version is gone (`keep` says which remain)."""
        for key, template in list(self._templates.items()):
            if key[0] == function_name and not keep(template.env.version):
                del self._templates[key]
                template.close()

    def versions(self) -> list[FunctionVersion]:
        """The versions whose templates exist."""
        return [template.env.version for template in self._templates.values()]

    def shutdown(self) -> None:
        templates, self._templates = self._templates, {}
        for template in templates.values():
            template.close()


def _init_failed(version: FunctionVersion, error_type: str | None) -> AwsError:
    return AwsError(
        "SnapStartException",
        f"Lambda was unable to create a snapshot of {version.name}:{version.version}: "
        f"the function's Init failed ({error_type or 'Runtime.ExitError'}).",
        400,
    )
