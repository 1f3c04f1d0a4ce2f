"""Admission control: is there room on this host for one more execution environment?

Two limits, both checked before an environment is started (never after, when the host is already short):
- memory: the kernel's estimate of memory available without swapping (`MemAvailable`) must stay above a
  reserve after the new environment's expected footprint;
- an optional cap on the number of environments (`LAMBDABOX_MAX_ENVIRONMENTS`), for planning density.
When there is no room, the pool first stops idle environments (least recently used first, never
provisioned ones), then waits briefly for one to free up, and only then throttles the invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MEMINFO = Path("/proc/meminfo")
# What a new environment forked from a warm zygote adds before its handler allocates anything (its
# copy-on-write share is a few MB; this leaves headroom for the handler's first allocations).
NEW_ENVIRONMENT_MB = 32


def host_memory_mb(field: str, meminfo: Path = MEMINFO) -> int | None:
    """One field of /proc/meminfo in MB (None where there is no such file, e.g. macOS)."""
    try:
        with open(meminfo, "rb") as handle:
            prefix = field.encode() + b":"
            for line in handle:
                if line.startswith(prefix):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def default_reserve_mb(meminfo: Path = MEMINFO) -> int:
    """Memory kept free for the platform and the rest of the host: 5 % of RAM, at least 256 MB."""
    total = host_memory_mb("MemTotal", meminfo)
    return max(256, (total or 0) // 20)


@dataclass(frozen=True)
class Admission:
    reserve_mb: int
    max_environments: int | None = None
    meminfo: Path = MEMINFO

    def has_room(self, environments: int) -> bool:
        if self.max_environments is not None and environments >= self.max_environments:
            return False
        available = host_memory_mb("MemAvailable", self.meminfo)
        return available is None or available - NEW_ENVIRONMENT_MB >= self.reserve_mb

    def status(self) -> dict[str, int | None]:
        return {
            "memoryAvailableMb": host_memory_mb("MemAvailable", self.meminfo),
            "memoryReserveMb": self.reserve_mb,
            "maxEnvironments": self.max_environments,
        }
