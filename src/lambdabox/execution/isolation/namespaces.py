"""What an execution environment sees of the file system, planned by the platform (jail.py applies it).

/               the host's, read-only and nosuid (mount_setattr, recursively)
/proc           a new procfs of the environment's PID namespace: only its own processes
/var/task       the function's code, read-only (LAMBDA_TASK_ROOT, the working directory)
/tmp, /var/tmp  one private tmpfs, sized by EphemeralStorage (writing past it fails with ENOSPC)
/dev/shm        a private tmpfs
the data dir    an empty read-only tmpfs: no database, no other function's code, no credentials;
                the runtime's site-packages (which lives there) is bound back read-only
unreadable directories on the way to what the runtime needs (e.g. /root holding a pyenv
interpreter): covered the same way, with only the needed paths bound back
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TASK_ROOT = "/var/task"
TMP = "/tmp"
TMP_ALIASES = ("/var/tmp",)
CGROUP_ROOT = "/sys/fs/cgroup"


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def hidden_ancestor(path: str) -> str | None:
    """The outermost directory on the way to `path` that other users cannot traverse, if any."""
    parts = Path(path).parts
    for index in range(2, len(parts)):
        ancestor = os.path.join(*parts[:index])
        try:
            mode = os.stat(ancestor).st_mode
        except OSError:
            return None
        if not mode & stat.S_IXOTH:
            return ancestor
    return None


def plan_view(data_dir: Path, needed: Iterable[Path]) -> tuple[list[str], list[str]]:
    """(covers, exposes): cover the data dir and every untraversable directory on the way to a needed
    path; expose the needed paths that lie under a cover."""
    covers = {os.path.realpath(data_dir)}
    wanted = sorted({os.path.realpath(path) for path in needed if os.path.exists(path)})
    for path in wanted:
        hidden = hidden_ancestor(path)
        if hidden is not None:
            covers.add(hidden)
    outermost = sorted(covers, key=len)
    covers_list = [c for i, c in enumerate(outermost) if not any(_under(c, o) for o in outermost[:i])]
    exposes: list[str] = []
    for path in wanted:
        if any(_under(path, cover) for cover in covers_list) and not any(_under(path, e) for e in exposes):
            exposes.append(path)
    return covers_list, exposes


def layout(
    *,
    data_dir: Path,
    code_dir: Path,
    needed: Iterable[Path],
    mount_namespace: bool,
    pid_namespace: bool,
    readonly_root: bool,
    user: tuple[int, int] | None,
    no_new_privs: bool,
    seccomp: str | None,
    cgroups: bool,
) -> dict[str, Any]:
    """The platform-wide part of every environment's confinement, as jail.py takes it."""
    covers, exposes = plan_view(data_dir, needed) if mount_namespace else ([], [])
    return {
        "mount_namespace": mount_namespace,
        "pid_namespace": pid_namespace,
        "readonly_root": readonly_root,
        "writable": [CGROUP_ROOT] if cgroups else [],
        "task_root": TASK_ROOT,
        "code_dir": os.path.realpath(code_dir),
        "tmp": TMP,
        "tmp_aliases": list(TMP_ALIASES),
        "cover": covers,
        "expose": exposes,
        "uid": user[0] if user else None,
        "gid": user[1] if user else None,
        "no_new_privs": no_new_privs,
        "seccomp": seccomp,
    }
