"""Optional (`--profile`): sample the Lambdabox server and its runtimes with py-spy under wrk load.

py-spy is not a project dependency; `.venv/bin/pip install py-spy` to use this. The profiled run is
separate from the measured ones (sampling costs CPU on a 2-core machine).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def py_spy_path() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """Start `py-spy record` (collapsed stacks, one line per stack) on `pid` and its children."""
    py_spy = py_spy_path()
    if py_spy is None:
        return None
    argv = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    argv += ["--rate", "250", "--subprocesses", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(process: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        return process.wait(timeout=timeout) == 0
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        return False


def _frame(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `func (file.py)`; a process frame stays as it is."""
    name, _, where = frame.partition(" (")
    if not where:
        return frame
    file = where.rstrip(")").rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})"


# Leaf frames where py-spy's idle detection misses that the thread is blocked, not running.
WAITING = frozenset({"SocketIO.readinto (socket.py)", "_worker (thread.py)"})


def summarize(raw: Path, top: int = 12) -> dict[str, Any]:
    """Per role (the server process, the runtime processes): share of samples, top functions by self time,
    and top Lambdabox functions by inclusive time. Shares are percentages of all samples that are not
    blocked waits (`waiting_pct` reports those: a runtime blocked on its socket, idle pool threads)."""
    own: dict[str, Counter[str]] = {"server": Counter(), "runtime": Counter()}
    inclusive: dict[str, Counter[str]] = {"server": Counter(), "runtime": Counter()}
    roles: Counter[str] = Counter()
    total = waiting = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        role = "runtime" if stack.count("process ") > 1 else "server"
        if frames and _frame(frames[-1]) in WAITING:
            waiting += count
            continue
        total += count
        roles[role] += count
        if frames:
            own[role][_frame(frames[-1])] += count
        for frame in {_frame(f) for f in frames if "lambdabox/" in f and "/cli/" not in f}:
            inclusive[role][frame] += count
    if total == 0:
        return {"samples": 0}

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100.0 * n / total, 1)) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "waiting_pct": round(100.0 * waiting / (total + waiting), 1),
        "roles_pct": share(roles),
        "self_pct": {role: share(counter) for role, counter in own.items()},
        "lambdabox_inclusive_pct": {role: share(counter) for role, counter in inclusive.items()},
    }
