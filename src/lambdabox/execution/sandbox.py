"""Sandboxes start an environment's process and enforce what the process itself cannot be trusted with.

`ProcessSandbox` is the portable baseline: its own session (process group), its own working and temp
directories, stdout+stderr into one pipe the platform reads, exit noticed through a pidfd.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lambdabox.execution.zygote import Zygote

log = logging.getLogger("lambdabox.sandbox")


@dataclass(frozen=True)
class LaunchSpec:
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path
    memory_mb: int
    forkable: bool = False  # the bundled Python runtime: may be forked from a warm zygote


class SandboxProcess(Protocol):
    pid: int
    output_fd: int  # non-blocking read end of the process's stdout+stderr

    def kill(self) -> None: ...
    def max_memory_mb(self) -> int: ...
    def on_exit(self, callback: Callable[[int], None]) -> None: ...


class Sandbox(Protocol):
    async def start(self, spec: LaunchSpec) -> SandboxProcess: ...


class _Process:
    def __init__(self, popen: subprocess.Popen[bytes], output_fd: int) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.output_fd = output_fd
        self.returncode: int | None = None
        self._callbacks: list[Callable[[int], None]] = []
        self._memory = MemoryProbe(self.pid)
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
        self.returncode = os.waitstatus_to_exitcode(status)
        self._popen.returncode = self.returncode
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # whatever the runtime left behind in its group
        for callback in self._callbacks:
            callback(self.returncode)

    def on_exit(self, callback: Callable[[int], None]) -> None:
        self._callbacks.append(callback)

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def max_memory_mb(self) -> int:
        return self._memory.peak_mb()


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


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the platform dies, even by `kill -9` (Linux)."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class ProcessSandbox:
    """One OS process per environment, in its own session so the whole group can be killed."""

    async def start(self, spec: LaunchSpec) -> SandboxProcess:
        read_fd, write_fd = os.pipe()
        try:
            popen = subprocess.Popen(
                spec.argv,
                env=spec.env,
                cwd=spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
                preexec_fn=die_with_parent,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        return _Process(popen, read_fd)


class ForkingSandbox:
    """Forks the bundled Python runtime from a warm zygote; everything else starts as a process."""

    def __init__(self, zygote: Zygote, fallback: Sandbox) -> None:
        self._zygote = zygote
        self._fallback = fallback

    async def start(self, spec: LaunchSpec) -> SandboxProcess:
        if spec.forkable:
            try:
                return await self._zygote.spawn(spec)
            except OSError as exc:
                log.warning("zygote fork failed (%s); starting a fresh interpreter instead", exc)
        return await self._fallback.start(spec)
