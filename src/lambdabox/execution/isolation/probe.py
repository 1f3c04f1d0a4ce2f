"""What this machine lets the platform use, found by trying it in a throwaway child process.

Nothing is assumed from the kernel version or the distribution: a forked child tries each step the way
an environment will take it (mount namespace, read-only root, PID namespace with its own /proc, an
unprivileged uid, no_new_privs, the seccomp filter) and reports what worked and, for what did not, why.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from lambdabox.execution.isolation import jail

MECHANISMS = ("mountNamespace", "readOnlyRoot", "pidNamespace", "user", "noNewPrivs", "seccomp")


@dataclass(frozen=True)
class Capabilities:
    working: frozenset[str]  # of MECHANISMS
    reasons: dict[str, str] = field(default_factory=dict)  # mechanism -> why it is not available

    def has(self, mechanism: str) -> bool:
        return mechanism in self.working


def probe(uid: int, gid: int, seccomp_program: bytes | None, seccomp_reason: str = "") -> Capabilities:
    reasons: dict[str, str] = {}
    if not sys.platform.startswith("linux"):
        return Capabilities(frozenset(), dict.fromkeys(MECHANISMS, f"not Linux ({sys.platform})"))
    if os.geteuid() != 0:
        reasons = dict.fromkeys(MECHANISMS[:4], "needs root (CAP_SYS_ADMIN)")
        results = _in_child(_probe_unprivileged, seccomp_program)
    else:
        results = _in_child(lambda program: _probe_root(uid, gid, program), seccomp_program)
    working = set()
    for mechanism in MECHANISMS:
        outcome = results.get(mechanism)
        if outcome == "ok":
            working.add(mechanism)
        elif mechanism not in reasons:
            reasons[mechanism] = outcome or "not tried"
    if seccomp_program is None:
        reasons["seccomp"] = seccomp_reason or "no filter"
        working.discard("seccomp")
    return Capabilities(frozenset(working), reasons)


def _in_child(steps: Any, seccomp_program: bytes | None) -> dict[str, str]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            results: dict[str, str] = {}
            try:
                steps_results = steps(seccomp_program)
                results.update(steps_results)
            except BaseException as exc:
                results["error"] = str(exc)
            os.write(write_fd, json.dumps(results).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    try:
        outcome: dict[str, str] = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        outcome = {}
    return outcome


def _attempt(results: dict[str, str], mechanism: str, step: Any) -> bool:
    try:
        step()
    except OSError as exc:
        results[mechanism] = exc.strerror or str(exc)
        return False
    results[mechanism] = "ok"
    return True


def _probe_root(uid: int, gid: int, seccomp_program: bytes | None) -> dict[str, str]:
    results: dict[str, str] = {}

    def mount_namespace() -> None:
        jail.unshare(jail.CLONE_NEWNS)
        jail.mount(None, "/", None, jail.MS_REC | jail.MS_PRIVATE)
        jail.mount("tmpfs", "/tmp", "tmpfs", jail.MS_NOSUID | jail.MS_NODEV, "size=1m")

    mounts = _attempt(results, "mountNamespace", mount_namespace)
    if mounts:
        _attempt(results, "readOnlyRoot", lambda: jail.set_tree_readonly("/"))
    else:
        results["readOnlyRoot"] = "needs a mount namespace"
    _attempt(results, "pidNamespace", lambda: _pid_namespace(mounts))

    def drop() -> None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)

    _attempt(results, "user", drop)
    _sandboxed(results, seccomp_program)
    return results


def _probe_unprivileged(seccomp_program: bytes | None) -> dict[str, str]:
    results: dict[str, str] = {}
    _sandboxed(results, seccomp_program)
    return results


def _sandboxed(results: dict[str, str], seccomp_program: bytes | None) -> None:
    if not _attempt(results, "noNewPrivs", lambda: jail.prctl(jail.PR_SET_NO_NEW_PRIVS, 1)):
        results["seccomp"] = "needs no_new_privs"
        return
    if seccomp_program is None:
        return

    def seccomp() -> None:
        jail.load_seccomp(seccomp_program)
        try:
            jail.unshare(jail.CLONE_NEWNS)
        except PermissionError:
            return
        raise OSError(0, "the filter did not block unshare()")

    _attempt(results, "seccomp", seccomp)


def _pid_namespace(with_proc: bool) -> None:
    """PID 1 of a new namespace, with a /proc of its own when there is a mount namespace to mount it in."""
    jail.unshare(jail.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if with_proc:
                jail.mount("proc", "/proc", "proc", jail.MS_NOSUID | jail.MS_NODEV | jail.MS_NOEXEC)
            code = 0 if os.getpid() == 1 and (not with_proc or os.listdir("/proc").count("1")) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(0, f"the first child was not PID 1 with its own /proc (status {status})")
