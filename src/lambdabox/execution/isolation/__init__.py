"""Kernel-enforced isolation of execution environments, without containers.

A function sees only its own processes (PID namespace), its own code read-only at /var/task and its own
/tmp (mount namespace, read-only root), runs as an unprivileged user with no_new_privs under a seccomp
filter, and is held to its memory, CPU and process limits and frozen while idle by cgroups.

    probe.py       what this machine allows, found by trying it in a throwaway child
    namespaces.py  the file-system view an environment gets (planned here, applied by jail.py)
    seccomp.py     the syscall filter, compiled once to BPF
    cgroups.py     limits, accounting, freezer (cgroup v1 or v2), cleanup
    jail.py        the child side: what a new environment's process does to itself before the runtime
                   runs (stdlib only; the Python zygote loads it by path)

`Isolation` ties them together for the sandboxes: `confine()` gives each new environment a `Confinement`
(its cgroup and the plan its process applies to itself). Missing mechanisms are reported, not fatal.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lambdabox.execution.isolation import cgroups, jail, namespaces, probe, seccomp

log = logging.getLogger("lambdabox.isolation")
SANDBOX_UID = 993  # AWS's sbx_user1051
SANDBOX_GID = 990
CGROUP_STOCK = 2  # environments' cgroups made ahead of time (their directories; limits come with use)
RESTOCK_DELAY_S = 0.05  # ... once the platform has been quiet that long, not during a cold start
MECHANISMS = (
    "pidNamespace",
    "mountNamespace",
    "readOnlyRoot",
    "privateTmp",
    "user",
    "noNewPrivs",
    "seccomp",
    "cgroupMemory",
    "cgroupCpu",
    "cgroupPids",
    "cgroupFreezer",
)


class Confinement:
    """One environment's share of isolation: what its process applies to itself, and its cgroup."""

    def __init__(
        self, layout: dict[str, Any], plan: dict[str, Any], cgroup: cgroups.EnvCgroup | None
    ) -> None:
        self.layout = layout
        self.plan = plan
        self.cgroup = cgroup
        self.frozen = False

    def _process_files(self) -> list[str]:
        """Its cgroups' `cgroup.procs` (v1 plans name `tasks`, which moves one thread, not a process)."""
        return [
            procs[: -len("tasks")] + "cgroup.procs" if procs.endswith("/tasks") else procs
            for procs in self.plan.get("cgroups", ())
        ]

    def adopt(self, pid: int) -> None:
        """Move a process that is already running (a SnapStart restore) into this environment's cgroups."""
        for procs in self._process_files():
            with open(procs, "w") as handle:
                handle.write(str(pid))

    def pids(self) -> list[int] | None:
        """The processes in this environment's cgroup (None without one)."""
        for procs in self._process_files()[:1]:
            try:
                with open(procs) as handle:
                    return [int(pid) for pid in handle.read().split()]
            except OSError:
                return None
        return None

    def restore_plan(self) -> dict[str, Any] | None:
        """What a restored copy of a SnapStart template does to itself (jail.restore); None: nothing."""
        layout = self.layout
        if not (layout.get("mount_namespace") and layout.get("pid_namespace")):
            return None
        return {"tmp": layout["tmp"], "tmp_mb": self.plan["tmp_mb"], "seccomp": layout.get("seccomp")}

    def end_init(self) -> None:
        """Init is over: from now on the CPU quota applies."""
        if self.cgroup is not None:
            self.cgroup.limit_cpu()

    def freeze(self) -> bool:
        if self.cgroup is None or self.frozen:
            return False
        self.cgroup.freeze()
        self.frozen = True
        return True

    def thaw(self) -> None:
        if self.cgroup is not None and self.frozen:
            self.cgroup.thaw()
            self.frozen = False

    def peak_memory_mb(self) -> int | None:
        peak = self.cgroup.peak_memory_bytes() if self.cgroup is not None else None
        return None if peak is None else max(1, math.ceil(peak / cgroups.MIB))

    def oom_killed(self) -> bool:
        return self.cgroup is not None and self.cgroup.oom_kills() > 0

    def release(self) -> bool:
        """Remove the cgroup (killing whatever is left in it); False while tasks are still exiting."""
        self.frozen = False
        return self.cgroup is None or self.cgroup.remove()


class Isolation:
    def __init__(
        self,
        layout: dict[str, Any] | None,
        groups: cgroups.Cgroups | None,
        status: dict[str, Any],
    ) -> None:
        self._layout = layout
        self._cgroups = groups
        self._status = status
        self._names = itertools.count(1)
        self._restock: asyncio.TimerHandle | None = None

    @classmethod
    def disabled(cls) -> Isolation:
        return cls(None, None, {"enabled": False, **dict.fromkeys(MECHANISMS, "disabled")})

    @classmethod
    def create(cls, *, enabled: bool, data_dir: Path, code_dir: Path, needed: Iterable[Path]) -> Isolation:
        """Probe the machine and set up what works; warn once about the rest."""
        if not enabled:
            return cls.disabled()
        program: bytes | None = None
        seccomp_reason = ""
        try:
            program = seccomp.build_filter()
        except seccomp.SeccompUnavailable as exc:
            seccomp_reason = str(exc)
        caps = probe.probe(SANDBOX_UID, SANDBOX_GID, program, seccomp_reason)
        reasons = dict(caps.reasons)
        mounts = caps.has("mountNamespace")
        if mounts:
            try:
                os.makedirs(namespaces.TASK_ROOT, exist_ok=True)  # the mount point of every task root
            except OSError as exc:
                mounts = False
                reasons["mountNamespace"] = f"cannot create {namespaces.TASK_ROOT}: {exc.strerror}"
        groups, why = cls._open_cgroups()
        if groups is not None:
            try:
                groups.stock(CGROUP_STOCK)
            except OSError as exc:  # made on demand instead
                log.warning("could not make cgroups ahead of time: %s", exc)
        user = caps.has("user")
        layout = namespaces.layout(
            data_dir=data_dir,
            code_dir=code_dir,
            needed=needed,
            mount_namespace=mounts,
            pid_namespace=caps.has("pidNamespace"),
            readonly_root=mounts and caps.has("readOnlyRoot"),
            user=(SANDBOX_UID, SANDBOX_GID) if user else None,
            no_new_privs=caps.has("noNewPrivs"),
            seccomp=base64.b64encode(program).decode() if program and caps.has("seccomp") else None,
            cgroups=groups is not None,
        )
        if layout["seccomp"] is not None:
            for key, program in (
                ("seccomp_template", seccomp.build_filter(template=True)),
                ("seccomp_before_mounts", seccomp.build_filter(part="before_mounts")),  # spares (jail.py)
                ("seccomp_mounts", seccomp.build_filter(part="mounts")),
            ):
                layout[key] = base64.b64encode(program).decode()
        controllers = groups.controllers if groups is not None else frozenset()
        version = groups.version if groups is not None else "off"

        def cgroup(controller: str) -> str:
            return version if controller in controllers else "off"

        on = {True: "on", False: "off"}
        status: dict[str, Any] = {
            "enabled": True,
            "pidNamespace": on[layout["pid_namespace"]],
            "mountNamespace": on[mounts],
            "readOnlyRoot": on[layout["readonly_root"]],
            "privateTmp": on[mounts],
            "user": f"{SANDBOX_UID}:{SANDBOX_GID}" if user else "off",
            "noNewPrivs": on[layout["no_new_privs"]],
            "seccomp": on[layout["seccomp"] is not None],
            "cgroupMemory": cgroup("memory"),
            "cgroupCpu": cgroup("cpu"),
            "cgroupPids": cgroup("pids"),
            "cgroupFreezer": cgroup("freezer"),
        }
        for controller in ("memory", "cpu", "pids", "freezer"):
            if controller not in controllers:
                reasons[f"cgroup{controller.title()}"] = (
                    why or f"the {controller} controller is not available"
                )
        if not mounts:
            reasons["privateTmp"] = "needs a mount namespace"
        missing = {k: v for k, v in reasons.items() if status.get(k) == "off"}
        if missing:
            status["unavailable"] = missing
            by_reason: dict[str, list[str]] = {}
            for name, reason in sorted(missing.items()):
                by_reason.setdefault(reason, []).append(name)
            log.warning(
                "isolation: running without %s. `lambdabox doctor` tells more.",
                "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items()),
            )
        return cls(layout, groups, status)

    @staticmethod
    def _open_cgroups() -> tuple[cgroups.Cgroups | None, str]:
        try:
            with open("/proc/self/cgroup") as own, open("/proc/self/mountinfo") as mounts:
                hierarchies = cgroups.discover(own.read(), mounts.read())
        except OSError as exc:
            return None, f"cannot read /proc/self/cgroup: {exc.strerror}"
        homes = [*hierarchies.v1.values(), *([hierarchies.v2] if hierarchies.v2 else [])]
        for stale in cgroups.remove_stale(homes):
            log.info("removed the cgroup %s left behind by a platform that is gone", stale)
        return cgroups.open_cgroups(hierarchies, cgroups.parent_name())

    # -- what the rest of the platform asks ------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return dict(self._status)

    @property
    def mount_namespace(self) -> bool:
        return self._layout is not None and bool(self._layout["mount_namespace"])

    def task_root(self, host_task_root: Path) -> Path:
        """Where an environment sees its function's code."""
        return Path(namespaces.TASK_ROOT) if self.mount_namespace else host_task_root

    def private_tmp(self) -> Path | None:
        """The environment's own /tmp, when it has one (else the platform makes it a directory)."""
        return Path(namespaces.TMP) if self.mount_namespace else None

    def zygote_config(self) -> dict[str, Any] | None:
        """What the Python zygote needs to confine the environments it forks."""
        if self._layout is None:
            return None
        return {"module": jail.__file__, "layout": self._layout, "cgroups": self.cgroup_parents()}

    def cgroup_parents(self) -> list[str]:
        return self._cgroups.parents() if self._cgroups is not None else []

    def reserve_cgroup(self) -> cgroups.EnvCgroup | None:
        """A cgroup for an environment not known yet (a spare joins it while it waits): `confine` writes
        its limits. None without cgroups."""
        if self._layout is None or self._cgroups is None:
            return None
        group = self._cgroups.reserve(f"env-{os.getpid()}-{next(self._names)}")
        self._restock_later()
        return group

    def confine(
        self,
        memory_mb: int,
        ephemeral_mb: int,
        task_root: Path,
        cwd: Path,
        template: bool = False,
        opt_dir: Path | None = None,
        cgroup: cgroups.EnvCgroup | None = None,
    ) -> Confinement | None:
        """Create one new environment's cgroup (or give `cgroup`, from `reserve_cgroup`, its limits) and
        its plan; None when isolation is off."""
        if self._layout is None:
            return None
        if cgroup is not None:
            cgroup.set_limits(cgroups.Limits(memory_mb))
        elif self._cgroups is not None:
            name = f"env-{os.getpid()}-{next(self._names)}"
            cgroup = self._cgroups.create(name, cgroups.Limits(memory_mb))
            self._restock_later()
        plan = {
            "cgroups": list(cgroup.procs) if cgroup is not None else [],
            "tmp_mb": ephemeral_mb,
            "task_root": str(task_root),
            "cwd": str(cwd),
            "template": template,  # a SnapStart template: jail.enter loads the template seccomp filter
            "opt": str(opt_dir) if opt_dir is not None else None,  # its layers, bound read-only at /opt
        }
        return Confinement(self._layout, plan, cgroup)

    def _restock_later(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the platform's event loop (tools, tests): made on demand
            return
        if self._restock is not None:
            self._restock.cancel()
        self._restock = loop.call_later(RESTOCK_DELAY_S, self._refill_stock)

    def _refill_stock(self) -> None:
        self._restock = None
        if self._cgroups is not None:
            try:
                self._cgroups.stock(CGROUP_STOCK)
            except OSError as exc:  # made on demand instead
                log.warning("could not make cgroups ahead of time: %s", exc)

    def close(self) -> None:
        if self._restock is not None:
            self._restock.cancel()
            self._restock = None
        if self._cgroups is not None:
            with contextlib.suppress(OSError):
                self._cgroups.remove()
