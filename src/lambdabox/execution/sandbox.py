"""Sandboxes start an environment's process and enforce what the process itself cannot be trusted with.

`ProcessSandbox` starts a process: its own session (process group), stdout+stderr into one pipe the
platform reads, exit noticed through a pidfd. With isolation (execution/isolation/), the child confines
itself between fork and exec (PID and mount namespaces, cgroups, unprivileged user, seccomp), and the
process object applies what the platform enforces from outside: freezing, memory accounting, OOM
detection, removal of the cgroup when the environment is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lambdabox.execution.isolation import Confinement, Isolation, jail
from lambdabox.execution.isolation.cgroups import EnvCgroup

if TYPE_CHECKING:
    from lambdabox.execution.zygote import Zygotes

log = logging.getLogger("lambdabox.sandbox")


@dataclass(frozen=True)
class LaunchSpec:
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path  # the working directory as the environment sees it (its task root)
    memory_mb: int
    forkable: bool = False  # the bundled Python runtime: may be forked from a warm zygote
    task_root: Path | None = None  # the function's code on the host (None: same as cwd)
    ephemeral_mb: int = 512  # size of the environment's private /tmp, when it has one
    opt_dir: Path | None = None  # its layers merged, on the host: read-only at /opt with a mount namespace
    # SnapStart: the template's end of its channel to the platform (forked environments only); the
    # runtime finds it in _LAMBDABOX_SNAPSHOT_FD and serves restores through it after Init.
    snapshot_channel: int | None = None


class SandboxProcess(Protocol):
    pid: int
    output_fd: int  # non-blocking read end of the process's stdout+stderr

    def kill(self) -> None: ...
    def pids(self) -> list[int] | None: ...  # its processes, when it is isolated (None: not checked)
    def max_memory_mb(self) -> int: ...
    def on_exit(self, callback: Callable[[int], None]) -> None: ...
    def end_init(self) -> None: ...  # init is done: steady-state limits (the CPU quota) apply
    def freeze(self) -> bool: ...  # stop every process of the environment; False when it cannot
    def thaw(self) -> None: ...
    def oom_killed(self) -> bool: ...  # did the kernel kill it for exceeding its memory limit?


class Sandbox(Protocol):
    async def start(self, spec: LaunchSpec) -> SandboxProcess: ...


class ConfinedProcess:
    """What both kinds of environment process share: limits, freezing and accounting through the
    environment's cgroup when it has one (a /proc walk for memory otherwise), cleanup after exit."""

    pid: int

    def __init__(self, pid: int, confinement: Confinement | None) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._confinement = confinement
        self._callbacks: list[Callable[[int], None]] = []
        self._memory = MemoryProbe(pid)

    def on_exit(self, callback: Callable[[int], None]) -> None:
        if self.returncode is not None:
            callback(self.returncode)
        else:
            self._callbacks.append(callback)

    def _exited(self, code: int) -> None:
        self.returncode = code
        self._kill_group()  # whatever the runtime left behind in its group
        for callback in self._callbacks:
            callback(code)
        if self._confinement is not None:
            release_later(self._confinement)

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self._confinement is not None:
            with contextlib.suppress(OSError):
                self._confinement.thaw()  # a frozen process cannot even die

    def kill(self) -> None:
        if self.returncode is None:
            self._kill_group()

    def pids(self) -> list[int] | None:
        """Every process of the environment (its cgroup's, else its process tree); None unconfined."""
        if self._confinement is None:
            return None
        found = self._confinement.pids()
        return found if found is not None else _tree(self.pid)

    def max_memory_mb(self) -> int:
        if self._confinement is not None:
            peak = self._confinement.peak_memory_mb()
            if peak is not None:
                return peak
        return self._memory.peak_mb()

    def end_init(self) -> None:
        if self._confinement is not None and self.returncode is None:
            try:
                self._confinement.end_init()
            except OSError as exc:  # its cgroup is gone: so is the environment
                log.warning("could not apply the CPU quota of pid %d: %s", self.pid, exc)

    def freeze(self) -> bool:
        return self._confinement is not None and self.returncode is None and self._confinement.freeze()

    def thaw(self) -> None:
        if self._confinement is not None and self.returncode is None:
            try:
                self._confinement.thaw()
            except OSError as exc:
                log.warning("could not thaw pid %d: %s", self.pid, exc)

    def oom_killed(self) -> bool:
        return (
            self._confinement is not None
            and self.returncode == -signal.SIGKILL
            and self._confinement.oom_killed()
        )


def release_later(confinement: Confinement, attempt: int = 0) -> None:
    """Remove an environment's cgroup once its last task is gone (they take a moment to exit)."""
    try:
        if confinement.release() or attempt >= 12:
            return
    except OSError as exc:
        log.warning("could not remove an environment's cgroup: %s", exc)
        return
    asyncio.get_running_loop().call_later(0.01 * 2**attempt, release_later, confinement, attempt + 1)


class _Process(ConfinedProcess):
    def __init__(
        self, popen: subprocess.Popen[bytes], output_fd: int, confinement: Confinement | None
    ) -> None:
        super().__init__(popen.pid, confinement)
        self._popen = popen
        self.output_fd = output_fd
        self._pidfd = os.pidfd_open(self.pid)
        asyncio.get_running_loop().add_reader(self._pidfd, self._reap)

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        code = os.waitstatus_to_exitcode(status)
        self._popen.returncode = code
        self._exited(code)


class MemoryProbe:
    """Peak resident memory of a process and its descendants, in MB, for REPORT lines.

    Reading one /proc status file per invocation is cheap; finding descendants is not, so the process
    tree is walked again only every `rewalk` readings (cgroup accounting will replace this)."""

    def __init__(self, root: int, rewalk: int = 32) -> None:
        self._root = root
        self._rewalk = rewalk
        self._readings = 0
        self._pids = [root]

    def peak_mb(self) -> int:
        if self._readings % self._rewalk == 0:
            self._pids = _tree(self._root)
        self._readings += 1
        total_kb = 0
        for pid in self._pids:
            try:
                with open(f"/proc/{pid}/status", "rb") as handle:
                    for line in handle:
                        if line.startswith(b"VmHWM:"):
                            total_kb += int(line.split()[1])
                            break
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
        return max(1, round(total_kb / 1024))


def _tree(root: int) -> list[int]:
    pids = [root]
    index = 0
    while index < len(pids):
        pid = pids[index]
        index += 1
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    pids.extend(int(child) for child in handle.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the platform dies, even by `kill -9` (Linux)."""
    jail.die_with_parent()


def _confine_child(layout: dict[str, Any], plan: dict[str, Any]) -> None:
    """In the child, between fork and exec: no garbage collection over the platform's heap, default
    signal handling, die with the platform, then confine (jail.confine forks the PID namespace's init)."""
    gc.disable()
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    jail.die_with_parent()
    jail.confine(layout, plan)


class ProcessSandbox:
    """One OS process per environment, in its own session so the whole group can be killed."""

    def __init__(self, isolation: Isolation | None = None) -> None:
        self._isolation = isolation

    async def start(self, spec: LaunchSpec) -> SandboxProcess:
        confinement = confine(self._isolation, spec)
        preexec: Callable[[], None] = die_with_parent
        if confinement is not None:
            preexec = functools.partial(_confine_child, confinement.layout, confinement.plan)
        read_fd, write_fd = os.pipe()
        env, keep = spec.env, tuple[int, ...]()
        if spec.snapshot_channel is not None:  # a SnapStart template started without the zygote
            env, keep = (
                {**env, "_LAMBDABOX_SNAPSHOT_FD": str(spec.snapshot_channel)},
                (spec.snapshot_channel,),
            )
        try:
            popen = subprocess.Popen(
                spec.argv,
                env=env,
                pass_fds=keep,
                cwd=spec.cwd if confinement is None else None,  # the confined child changes directory
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
                preexec_fn=preexec,
            )
        except BaseException as exc:
            os.close(read_fd)
            if confinement is not None:
                release_later(confinement)
            if isinstance(exc, subprocess.SubprocessError):
                raise OSError(f"the environment could not be confined: {exc}") from exc
            raise
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        return _Process(popen, read_fd, confinement)


def confine(
    isolation: Isolation | None, spec: LaunchSpec, cgroup: EnvCgroup | None = None
) -> Confinement | None:
    """The environment's confinement (`cgroup`: one reserved for it ahead of time, see Isolation)."""
    if isolation is None:
        return None
    return isolation.confine(
        spec.memory_mb,
        spec.ephemeral_mb,
        spec.task_root or spec.cwd,
        spec.cwd,
        template=spec.snapshot_channel is not None,
        opt_dir=spec.opt_dir,
        cgroup=cgroup,
    )


class ForkingSandbox:
    """Starts environments from a warm zygote: the bundled Python runtime specializes in the forked child,
    a custom runtime's bootstrap is exec'd there. Either way the child comes from a small process, not
    the platform, and is already isolated as far as it can be before its function is known (its spares
    are prepared ahead of time). When the zygote cannot fork, a plain process (`fallback`) starts."""

    def __init__(self, zygotes: Zygotes, fallback: Sandbox) -> None:
        self._zygotes = zygotes
        self._fallback = fallback

    async def start(self, spec: LaunchSpec) -> SandboxProcess:
        try:
            return await self._zygotes.of(spec).spawn(spec)
        except OSError as exc:
            log.warning("zygote fork failed (%s); starting a plain process instead", exc)
        return await self._fallback.start(spec)
