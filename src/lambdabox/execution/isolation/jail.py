"""The child side of isolation: what a new execution environment's process does to itself, as root, before
any runtime code runs.

    fork_in_new_pid_namespace / start_init   its own PID namespace, with a small init as PID 1 that reaps
                                             orphans and reports the runtime's exit status
    prepare(layout)                          its own mount namespace: read-only root, fresh /proc, private
                                             /dev/shm, the platform's data dir and unreadable homes covered
    preload_seccomp(layout)                  (spares) the seccomp filter but its ban on mount, ahead of time
    enter(layout, prepared, plan)            its cgroups, a private /tmp sized by EphemeralStorage, the
                                             function's code read-only at the task root, then an
                                             unprivileged uid/gid, no_new_privs and the seccomp filter

`layout` is the same for every environment of a platform, `plan` is one environment's (both plain JSON
values built by the platform: isolation/namespaces.py). The Python zygote runs `prepare` in its pre-forked
spares, off the cold path, and `enter` once a spare is given an environment; ProcessSandbox runs all of it
in the child between fork and exec (`confine`).

Standard library only: the zygote (an interpreter started with -S, without the platform's packages) loads
this file by path.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable
from typing import Any, NoReturn

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_libc.syscall.restype = ctypes.c_long

OPT = "/opt"  # where an environment sees its layers
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (added in Linux 5.12)
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _check(result: int, what: str) -> None:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def set_tree_readonly(path: str, readonly: bool = True) -> None:
    """Make every mount at and under `path` (in this mount namespace) read-only and nosuid, or writable."""
    attr = _MountAttr(
        _MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID if readonly else 0,
        0 if readonly else _MOUNT_ATTR_RDONLY,
        0,
        0,
    )
    result = _libc.syscall(
        _SYS_MOUNT_SETATTR, _AT_FDCWD, path.encode(), _AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"mount_setattr {path}")


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl({option})")


def die_with_parent() -> None:
    """SIGKILL when the parent dies, even by `kill -9` (cleared by fork and by a change of uid)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def load_seccomp(program: bytes) -> None:
    """Install a classic-BPF seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp filter")


# -- PID namespace -----------------------------------------------------------------------------------------
# (the process that opened it, a descriptor of its PID namespace): a process forked otherwise than below
# inherits the pair with a number it may have closed or reused since, and opens its own.
_own_pid_namespace: tuple[int, int] | None = None


def fork_in_new_pid_namespace() -> int:
    """fork(), the child being PID 1 of a new PID namespace. The caller's own PID namespace for later
    children is restored right away, so a fork server can keep forking ordinary children."""
    return _fork_in_pid_namespace(lambda: unshare(CLONE_NEWPID))


def fork_into_pid_namespace(namespace_fd: int) -> int:
    """fork(), the child joining the PID namespace `namespace_fd` (one whose init is already running,
    see `new_namespace_init`) instead of ours. The caller's own namespace for later children is restored
    right away. The child's parent stays the caller, outside that namespace (inside it, its ppid is 0)."""
    return _fork_in_pid_namespace(lambda: _check(_libc.setns(namespace_fd, CLONE_NEWPID), "setns(pid)"))


def _fork_in_pid_namespace(switch: Callable[[], object]) -> int:
    """fork() with the PID namespace for children switched by `switch`, then switched back here."""
    global _own_pid_namespace
    me = os.getpid()
    if _own_pid_namespace is None or _own_pid_namespace[0] != me:
        _own_pid_namespace = (me, os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC))
    own = _own_pid_namespace[1]
    switch()
    try:
        pid = os.fork()
    except BaseException:
        _check(_libc.setns(own, CLONE_NEWPID), "setns(pid)")
        raise
    if pid == 0:
        os.close(own)
        _own_pid_namespace = None
    else:
        _check(_libc.setns(own, CLONE_NEWPID), "setns(pid)")
    return pid


def new_namespace_init() -> tuple[int, int]:
    """A new PID namespace whose init (PID 1) is a fork of the caller that only waits: it ignores SIGCHLD,
    so the kernel reaps whatever is orphaned into the namespace, and it ends when killed (SIGKILL from
    outside), upon which the kernel kills the rest of the namespace. Returns (its pid, an O_RDONLY
    descriptor of the namespace for `fork_into_pid_namespace`). Meant to be called by a small process:
    the fork copies its caller's page tables."""
    pid = fork_in_new_pid_namespace()
    if pid == 0:
        try:
            close_all_but(-1)  # (no session of its own: a session costs the kernel a scheduler group)
            die_with_parent()
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
            while True:
                signal.pause()
        finally:
            os._exit(1)
    try:
        return pid, os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise


def start_init(status_fd: int) -> None:
    """Called by PID 1 of a fresh namespace: fork the runtime's process (PID 2), which returns from this
    call; PID 1 stays behind as the namespace's init and never returns."""
    runtime = os.fork()
    if runtime == 0:
        os.close(status_fd)
        return
    close_all_but(status_fd)
    run_init(runtime, status_fd)


def run_init(main: int, status_fd: int) -> NoReturn:
    """PID 1: reap whatever is orphaned into the namespace; when `main` exits, write its wait status to
    `status_fd` and exit, upon which the kernel kills whatever is left in the namespace."""
    try:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                os._exit(0)
            if pid == main:
                with contextlib.suppress(OSError):
                    os.write(status_fd, b"%d\n" % status)
                os._exit(0)
    finally:
        os._exit(1)


def read_status(status_fd: int) -> int | None:
    """The runtime's wait status as PID 1 reported it, or None (PID 1 itself was killed)."""
    try:
        data = os.read(status_fd, 64)
    except OSError:
        return None
    finally:
        os.close(status_fd)
    try:
        return int(data)
    except ValueError:
        return None


def exit_like(status: int) -> NoReturn:
    """End this process the way the wait `status` says another one ended (by the same signal, or code)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def close_all_but(keep: int) -> None:
    """Close every descriptor from 3 up but `keep` (-1: keep none)."""
    if keep < 3:
        os.closerange(3, 1 << 20)
        return
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)


def _pid_namespace_from_child() -> None:
    """Between fork and exec (ProcessSandbox): returns only in a grandchild that is PID 2 of a new PID
    namespace. This child waits and then ends exactly as the runtime did; PID 1 between them reaps."""
    read_fd, write_fd = os.pipe()
    unshare(CLONE_NEWPID)
    init = os.fork()
    if init == 0:
        try:
            os.close(read_fd)
            die_with_parent()
            start_init(write_fd)
        except BaseException:
            os._exit(1)
        return  # the runtime's process
    try:
        os.close(write_fd)
        close_all_but(read_fd)
        _, status = os.waitpid(init, 0)
        reported = read_status(read_fd)
        exit_like(reported if reported is not None else status)
    finally:
        os._exit(1)


# -- mount namespace ---------------------------------------------------------------------------------------
def _under(path: str, roots: list[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def prepare(layout: dict[str, Any]) -> dict[str, int]:
    """The part of an environment's view that is the same for every function: a new mount namespace with a
    read-only root, a fresh /proc (of the PID namespace, when there is one), a private /dev/shm, and the
    data dir and unreadable homes covered. Returns O_PATH descriptors of what `enter` binds later."""
    if not layout.get("mount_namespace"):
        return {}
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    sources = [layout["code_dir"], *layout["expose"]]
    fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in sources if os.path.exists(path)}
    if layout.get("readonly_root"):
        set_tree_readonly("/")
        for tree in layout.get("writable", ()):
            if os.path.isdir(tree):
                set_tree_readonly(tree, readonly=False)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    private = [layout["tmp"], *layout.get("tmp_aliases", ())]
    _cover_and_expose(
        [c for c in layout["cover"] if not _under(c, private)],
        [e for e in layout["expose"] if not _under(e, private)],
        fds,
    )
    return fds


def preload_seccomp(layout: dict[str, Any]) -> bool:
    """Load all of the seccomp filter but its ban on mount now, while waiting for an environment (as
    root: no no_new_privs needed yet); `enter` then stacks the ban on mount, which costs a tenth of
    loading the whole filter. False when there is no filter to load. Not for SnapStart templates, whose
    filter still allows namespaces."""
    program = layout.get("seccomp_before_mounts")
    if not program or not layout.get("seccomp_mounts"):
        return False
    load_seccomp(base64.b64decode(program))
    return True


def join_cgroups(procs_files: list[str]) -> None:
    """Move this process into cgroups: "0" written to each one's `tasks` (v1) or `cgroup.procs` (v2)."""
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1
    for procs in procs_files:
        if threads > 1 and procs.endswith("/tasks"):  # `tasks` moves one thread; move them all
            procs = procs[: -len("tasks")] + "cgroup.procs"
        with open(procs, "w") as handle:
            handle.write("0")


def enter(
    layout: dict[str, Any],
    fds: dict[str, int],
    plan: dict[str, Any],
    seccomp_preloaded: bool = False,
    joined: frozenset[str] = frozenset(),
) -> None:
    """Become one environment: join its cgroups, mount its /tmp and its code, drop every privilege.
    `seccomp_preloaded`: `preload_seccomp` was called, only the ban on mount is left to load; `joined`:
    the cgroups (their files of `plan`) this process is in already (a spare joins them while it waits)."""
    join_cgroups([procs for procs in plan.get("cgroups", ()) if procs not in joined])
    if layout.get("mount_namespace"):
        tmp = layout["tmp"]
        mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(plan['tmp_mb'])}m,mode=1777")
        for alias in layout.get("tmp_aliases", ()):
            if os.path.isdir(alias):
                mount(tmp, alias, None, MS_BIND)
        private = [tmp, *layout.get("tmp_aliases", ())]
        _cover_and_expose([], [e for e in layout["expose"] if _under(e, private)], fds)
        _bind_task_root(layout, fds, plan["task_root"])
        if plan.get("opt") and os.path.isdir(OPT):  # its layers (an empty directory for none)
            _bind_task_root(layout, fds, plan["opt"], OPT)
        for fd in fds.values():
            os.close(fd)
    os.chdir(plan["cwd"])
    uid, gid = layout.get("uid"), layout.get("gid")
    if uid is not None and gid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        prctl(PR_SET_DUMPABLE, 1)  # a change of uid made /proc/self root's; give it back to the process
    with contextlib.suppress(OSError):
        die_with_parent()  # the change of uid cleared it
    if layout.get("no_new_privs"):
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    # A SnapStart template keeps the right to make namespaces (its restored copies isolate themselves
    # with them, then stack the full filter): it gets the filter without those calls blocked.
    if plan.get("template"):
        if seccomp_preloaded:
            raise OSError("a SnapStart template cannot start from a spare whose seccomp filter is loaded")
        program = layout.get("seccomp_template")
    else:
        program = layout.get("seccomp_mounts") if seccomp_preloaded else layout.get("seccomp")
    if program:
        load_seccomp(base64.b64decode(program))


def _cover_and_expose(covers: list[str], exposes: list[str], fds: dict[str, int]) -> None:
    """Hide each cover behind an empty tmpfs, bind each exposed path back (read-only) at its own path,
    then make the covers read-only."""
    mounted: list[str] = []
    for cover in sorted(covers, key=len):
        if os.path.isdir(cover) and not _under(cover, mounted):
            mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            mounted.append(cover)
    for path in sorted(exposes, key=len):
        fd = fds.get(path)
        if fd is None:
            continue
        os.makedirs(path, mode=0o755, exist_ok=True)
        _bind_readonly(f"/proc/self/fd/{fd}", path)
    for cover in mounted:
        mount(None, cover, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _bind_task_root(
    layout: dict[str, Any], fds: dict[str, int], task_root: str, target: str | None = None
) -> None:
    """Bind a tree of the code store (`task_root`: a function's code, or its layers) read-only at `target`
    (the layout's task root by default)."""
    code_dir = layout["code_dir"]
    relative = os.path.relpath(task_root, code_dir)
    if code_dir in fds and not relative.startswith(".."):
        source = f"/proc/self/fd/{fds[code_dir]}/{relative}"
    else:
        source = task_root
    _bind_readonly(source, target or layout["task_root"])


def _bind_readonly(source: str, target: str) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


# -- SnapStart: a restored copy of an initialized environment isolates itself -------------------------------
CLONE_NEWUSER = 0x10000000
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def restore(plan: dict[str, Any]) -> None:
    """In a fork of a SnapStart template (an initialized environment, running unprivileged under the
    template seccomp filter): become a separate environment without any privilege of the host. A user
    namespace of our own (mapping only our uid) gives the rights to make our own mount namespace, with
    a fresh /tmp (the template's files copied in), and our own PID namespace with its /proc; then every
    capability is dropped and the full seccomp filter stacked on the template's. Returns in the runtime's
    process (PID 2 of the new namespace); the calling process waits and ends as the runtime does."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    tmp = plan["tmp"]
    snapshot_tmp = os.open(tmp, os.O_PATH | os.O_DIRECTORY)
    mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(plan['tmp_mb'])}m,mode=1777")
    _copy_tree(f"/proc/self/fd/{snapshot_tmp}", tmp)
    os.close(snapshot_tmp)
    _pid_namespace_from_child()
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _drop_capabilities()
    if plan.get("seccomp"):
        load_seccomp(base64.b64decode(plan["seccomp"]))


def _copy_tree(source: str, target: str) -> None:
    import shutil

    for name in os.listdir(source):
        src, dst = os.path.join(source, name), os.path.join(target, name)
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)


def _drop_capabilities() -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


# -- both steps at once, between fork and exec ------------------------------------------------------------
def confine(layout: dict[str, Any], plan: dict[str, Any]) -> None:
    """ProcessSandbox's child, after fork and before exec: returns in the process that execs the runtime
    (in its own PID namespace when the layout has one; the forked-off helpers never return)."""
    if layout.get("pid_namespace"):
        _pid_namespace_from_child()
    enter(layout, prepare(layout), plan)


# -- cleanup when the platform is gone ---------------------------------------------------------------------
def thaw_and_kill(parents: list[str], grace: float = 0.5) -> None:
    """Thaw and kill every environment cgroup under `parents`, then remove them (best effort). Frozen tasks
    cannot even die, so whoever outlives the platform (the zygote) runs this when the platform is gone."""
    groups: list[str] = []
    for parent in parents:
        with contextlib.suppress(OSError):
            groups.extend(
                path
                for path in (os.path.join(parent, name) for name in os.listdir(parent))
                if os.path.isdir(path)
            )
    for group in groups:
        for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0"), ("cgroup.kill", "1")):
            with contextlib.suppress(OSError), open(os.path.join(group, name), "w") as handle:
                handle.write(value)
        with contextlib.suppress(OSError), open(os.path.join(group, "cgroup.procs")) as handle:
            for pid in handle.read().split():
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)
    deadline = time.monotonic() + grace
    for group in [*groups, *parents]:
        while True:
            try:
                os.rmdir(group)
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
