"""Control groups of execution environments (cgroup v1 or v2): limits, accounting, freezing, cleanup.

Each platform gets one parent cgroup per hierarchy, `lambdabox-<pid namespace>-<pid>`, nested under the
platform's own cgroup (from /proc/self/cgroup), and each environment a child of it. Limits:
memory = MemorySize (no swap), CPU weight and quota in proportion to memory (1,769 MB = one vCPU; the
quota is applied once init is done, as AWS lets init run unthrottled), pids = 1024. The environment's
process joins its cgroups itself, before any runtime code runs (jail.enter). Parents left behind by a
platform that died are removed at the next start. The directories of the next few environments' cgroups
are made ahead of time (`stock`), off the cold path; their limits are written when they are taken.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lambdabox.execution.isolation import jail

MIB = 1024 * 1024
MB_PER_VCPU = 1769
CPU_PERIOD_US = 100_000
PIDS_MAX = 1024
V1_CONTROLLERS = ("memory", "cpu", "pids", "freezer")
V2_CONTROLLERS = ("memory", "cpu", "pids")


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    pids: int = PIDS_MAX

    @property
    def vcpus(self) -> float:
        return self.memory_mb / MB_PER_VCPU

    @property
    def cpu_quota_us(self) -> int:
        return max(1000, round(CPU_PERIOD_US * self.vcpus))


class EnvCgroup(Protocol):
    """One environment's cgroup(s)."""

    # The files the environment's process writes "0" to, to join, while it is still single-threaded:
    # v1 `tasks` (moving one thread skips the global threadgroup lock, whose RCU grace period costs
    # 5-20 ms through cgroup.procs), v2 `cgroup.procs`.
    procs: tuple[str, ...]

    def set_limits(self, limits: Limits) -> None: ...  # write them (a reserved cgroup has none yet)
    def limit_cpu(self) -> None: ...
    def freeze(self) -> None: ...
    def thaw(self) -> None: ...
    def peak_memory_bytes(self) -> int | None: ...
    def oom_kills(self) -> int: ...
    def remove(self) -> bool: ...


class Cgroups(Protocol):
    """A platform's parent cgroup(s) in one hierarchy."""

    version: str
    controllers: frozenset[str]  # of memory, cpu, pids, freezer

    def create(self, name: str, limits: Limits) -> EnvCgroup: ...
    def reserve(self, name: str) -> EnvCgroup: ...  # a cgroup without limits yet (see set_limits)
    def stock(self, count: int) -> None: ...  # make `count` cgroups' directories ahead of time
    def parents(self) -> list[str]: ...
    def remove(self) -> None: ...


# -- discovery ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hierarchies:
    v1: Mapping[str, Path]  # controller -> the platform's own cgroup directory in that hierarchy
    v2: Path | None  # the platform's own cgroup directory in the unified hierarchy


def discover(proc_cgroup: str, mountinfo: str) -> Hierarchies:
    """Where this process's cgroups are, from /proc/self/cgroup and /proc/self/mountinfo."""
    own: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            own[""] = path
        for controller in controllers.split(","):
            if controller:
                own[controller] = path
    v1: dict[str, Path] = {}
    v2: Path | None = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        root, mount_point = fields[3], fields[4]
        fstype, _, options = line.split(" - ", 1)[1].split(" ", 2)
        if fstype == "cgroup2" and "" in own and v2 is None:
            v2 = _join(mount_point, root, own[""])
        elif fstype == "cgroup":
            for controller in options.split(","):
                if controller in V1_CONTROLLERS and controller in own and controller not in v1:
                    v1[controller] = _join(mount_point, root, own[controller])
    return Hierarchies(v1, v2)


def _join(mount_point: str, root: str, path: str) -> Path:
    """A cgroup path as /proc/self/cgroup names it, on a mount of the hierarchy whose root is `root`."""
    relative = os.path.relpath(path, root) if path.startswith(root) else path.lstrip("/")
    return Path(mount_point) / ("" if relative == "." else relative)


def parent_name() -> str:
    return f"lambdabox-{os.stat('/proc/self/ns/pid').st_ino}-{os.getpid()}"


def open_cgroups(hierarchies: Hierarchies, name: str) -> tuple[Cgroups | None, str]:
    """The platform's parent cgroups in the best usable hierarchy, or None and why not."""
    reasons = []
    if hierarchies.v2 is not None:
        try:
            return CgroupsV2.open(hierarchies.v2, name), ""
        except OSError as exc:
            reasons.append(f"cgroup v2: {exc}")
    if hierarchies.v1:
        try:
            return CgroupsV1.open(hierarchies.v1, name), ""
        except OSError as exc:
            reasons.append(f"cgroup v1: {exc}")
    return None, "; ".join(reasons) or "no cgroup hierarchy is mounted"


def remove_stale(directories: list[Path]) -> list[str]:
    """Remove parents of platforms (in this PID namespace) that are gone; the ones removed."""
    namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    removed = []
    for directory in directories:
        with contextlib.suppress(OSError):
            for entry in directory.iterdir():
                parts = entry.name.split("-")
                if len(parts) != 3 or parts[0] != "lambdabox" or parts[1] != namespace:
                    continue
                if not parts[2].isdigit() or _alive(int(parts[2])) or not entry.is_dir():
                    continue
                jail.thaw_and_kill([str(entry)])
                removed.append(str(entry))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, value: str) -> None:
    """One write(2) of `value` to a control file (no buffered text file around it: a few are written
    for every new environment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)  # as open(path, "w")
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def _keyed(text: str | None, key: str) -> int | None:
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


class _Switch:
    """A control file written again and again (the freezer): kept open, a write costs half as much."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def set(self, value: str) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CLOEXEC)
        os.pwrite(self._fd, value.encode(), 0)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Gauge:
    """A counter file read again and again (peak memory, after every invocation): kept open and read with
    `pread` at offset 0, which makes the kernel format it afresh."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def read(self) -> int | None:
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
            text = os.pread(self._fd, 64, 0).strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _kill_and_remove(directories: list[Path]) -> bool:
    gone = True
    for directory in directories:
        for pid in (_read(directory / "cgroup.procs") or "").split():
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        try:
            directory.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            gone = False
    return gone


# -- cgroup v1: one hierarchy per controller ---------------------------------------------------------------
class CgroupsV1:
    version = "v1"

    def __init__(self, parents: dict[str, Path]) -> None:
        self._parents = parents
        self.controllers = frozenset(parents)
        self._stock: list[dict[str, Path]] = []  # directories made ahead of time, no limits written yet
        self._stocked = itertools.count(1)

    @classmethod
    def open(cls, own: Mapping[str, Path], name: str) -> CgroupsV1:
        parents: dict[str, Path] = {}
        for controller in V1_CONTROLLERS:
            if controller not in own:
                continue
            parent = own[controller] / name
            try:
                parent.mkdir(exist_ok=True)
            except OSError:
                continue
            parents[controller] = parent
        if not parents:
            raise PermissionError(f"cannot create cgroups under {', '.join(str(p) for p in own.values())}")
        return cls(parents)

    def parents(self) -> list[str]:
        return [str(parent) for parent in self._parents.values()]

    def _make(self, name: str) -> dict[str, Path]:
        dirs = {controller: parent / name for controller, parent in self._parents.items()}
        for directory in dirs.values():
            directory.mkdir()
        return dirs

    def stock(self, count: int) -> None:
        while len(self._stock) < count:
            self._stock.append(self._make(f"env-{os.getpid()}-s{next(self._stocked)}"))

    def reserve(self, name: str) -> V1Cgroup:
        return V1Cgroup(self._stock.pop() if self._stock else self._make(name))

    def create(self, name: str, limits: Limits) -> V1Cgroup:
        group = self.reserve(name)
        group.set_limits(limits)
        return group

    def remove(self) -> None:
        jail.thaw_and_kill(self.parents())


class _Limited:
    """What both versions' environment cgroups share: limits written on demand, the cgroup gone if not."""

    _limits: Limits

    def set_limits(self, limits: Limits) -> None:
        self._limits = limits
        try:
            self.apply()
        except OSError:
            self.remove()
            raise

    def apply(self) -> None:
        raise NotImplementedError

    def remove(self) -> bool:
        raise NotImplementedError


class V1Cgroup(_Limited):
    def __init__(self, dirs: dict[str, Path], limits: Limits | None = None) -> None:
        self._dirs = dirs
        self._limits = limits or Limits(MB_PER_VCPU)
        self.procs: tuple[str, ...] = tuple(str(directory / "tasks") for directory in dirs.values())
        self._freezer = _Switch(dirs["freezer"] / "freezer.state") if "freezer" in dirs else None
        memory = dirs.get("memory")
        self._peak = _Gauge(memory / "memory.max_usage_in_bytes") if memory is not None else None

    def apply(self) -> None:
        limits = self._limits
        if "memory" in self._dirs:
            memory = self._dirs["memory"]
            _write(memory / "memory.limit_in_bytes", str(limits.memory_mb * MIB))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # swap accounting: no swap either
                _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_mb * MIB))
        if "cpu" in self._dirs:
            _write(self._dirs["cpu"] / "cpu.shares", str(max(2, round(1024 * limits.vcpus))))
        if "pids" in self._dirs:
            _write(self._dirs["pids"] / "pids.max", str(limits.pids))

    def limit_cpu(self) -> None:
        if "cpu" in self._dirs:
            _write(self._dirs["cpu"] / "cpu.cfs_quota_us", str(self._limits.cpu_quota_us))

    def freeze(self) -> None:
        if self._freezer is not None:
            self._freezer.set("FROZEN")

    def thaw(self) -> None:
        if self._freezer is not None:
            self._freezer.set("THAWED")

    def peak_memory_bytes(self) -> int | None:
        return self._peak.read() if self._peak is not None else None

    def oom_kills(self) -> int:
        if "memory" not in self._dirs:
            return 0
        memory = self._dirs["memory"]
        kills = _keyed(_read(memory / "memory.oom_control"), "oom_kill")
        if kills is not None:
            return kills
        failures = (_read(memory / "memory.failcnt") or "0").strip()  # kernels before 4.13
        return 1 if failures.isdigit() and int(failures) > 0 else 0

    def remove(self) -> bool:
        with contextlib.suppress(OSError):
            self.thaw()  # frozen tasks cannot die
        if self._freezer is not None:
            self._freezer.close()
        if self._peak is not None:
            self._peak.close()
        return _kill_and_remove(list(self._dirs.values()))


# -- cgroup v2: one unified hierarchy ----------------------------------------------------------------------
class CgroupsV2:
    version = "v2"

    def __init__(self, parent: Path, controllers: frozenset[str]) -> None:
        self._parent = parent
        self.controllers = controllers
        self._stock: list[Path] = []  # directories made ahead of time, no limits written yet
        self._stocked = itertools.count(1)

    @classmethod
    def open(cls, own: Path, name: str) -> CgroupsV2:
        available = set((_read(own / "cgroup.controllers") or "").split())
        wanted = [c for c in V2_CONTROLLERS if c in available]
        if "memory" not in wanted:
            raise PermissionError(f"the memory controller is not available in {own}")
        enable = " ".join(f"+{c}" for c in wanted)
        try:
            _write(own / "cgroup.subtree_control", enable)
        except OSError:
            # "No internal processes": a cgroup that delegates controllers holds no process itself.
            # Move the platform into a leaf of its own cgroup, then try again.
            leaf = own / f"{name}-platform"
            leaf.mkdir(exist_ok=True)
            _write(leaf / "cgroup.procs", "0")
            try:
                _write(own / "cgroup.subtree_control", enable)
            except OSError as exc:
                raise PermissionError(
                    f"cannot delegate controllers from {own} ({exc.strerror}): run Lambdabox in a cgroup "
                    "of its own, e.g. `systemd-run --scope -p Delegate=yes lambdabox up`"
                ) from None
        parent = own / name
        parent.mkdir(exist_ok=True)
        _write(parent / "cgroup.subtree_control", enable)
        return cls(parent, frozenset([*wanted, "freezer"]))

    def parents(self) -> list[str]:
        return [str(self._parent)]

    def stock(self, count: int) -> None:
        while len(self._stock) < count:
            directory = self._parent / f"env-{os.getpid()}-s{next(self._stocked)}"
            directory.mkdir()
            self._stock.append(directory)

    def reserve(self, name: str) -> V2Cgroup:
        if self._stock:
            directory = self._stock.pop()
        else:
            directory = self._parent / name
            directory.mkdir()
        return V2Cgroup(directory, self.controllers)

    def create(self, name: str, limits: Limits) -> V2Cgroup:
        group = self.reserve(name)
        group.set_limits(limits)
        return group

    def remove(self) -> None:
        jail.thaw_and_kill(self.parents())


class V2Cgroup(_Limited):
    def __init__(self, directory: Path, controllers: frozenset[str], limits: Limits | None = None) -> None:
        self._dir = directory
        self._limits = limits or Limits(MB_PER_VCPU)
        self._controllers = controllers
        self.procs: tuple[str, ...] = (str(directory / "cgroup.procs"),)
        self._freezer = _Switch(directory / "cgroup.freeze")
        self._peaks = (_Gauge(directory / "memory.peak"), _Gauge(directory / "memory.current"))

    def apply(self) -> None:
        limits = self._limits
        if "memory" in self._controllers:
            _write(self._dir / "memory.max", str(limits.memory_mb * MIB))
            if (self._dir / "memory.swap.max").exists():
                _write(self._dir / "memory.swap.max", "0")
        if "cpu" in self._controllers:
            _write(self._dir / "cpu.weight", str(min(10000, max(1, round(100 * limits.vcpus)))))
        if "pids" in self._controllers:
            _write(self._dir / "pids.max", str(limits.pids))

    def limit_cpu(self) -> None:
        if "cpu" in self._controllers:
            _write(self._dir / "cpu.max", f"{self._limits.cpu_quota_us} {CPU_PERIOD_US}")

    def freeze(self) -> None:
        self._freezer.set("1")

    def thaw(self) -> None:
        self._freezer.set("0")

    def peak_memory_bytes(self) -> int | None:
        for gauge in self._peaks:
            value = gauge.read()
            if value is not None:
                return value
        return None

    def oom_kills(self) -> int:
        return _keyed(_read(self._dir / "memory.events"), "oom_kill") or 0

    def remove(self) -> bool:
        for name, value in (("cgroup.kill", "1"), ("cgroup.freeze", "0")):
            with contextlib.suppress(OSError):
                _write(self._dir / name, value)
        self._freezer.close()
        for gauge in self._peaks:
            gauge.close()
        return _kill_and_remove([self._dir])
