"""Who is on the other end of a loopback TCP connection? Every environment's Runtime API listens on a
loopback port that any local process could connect to; the environment admits only connections whose
client socket belongs to one of its own processes (found through /proc/net/tcp and /proc/<pid>/fd)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

_LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


def client_socket_inode(client_port: int, server_port: int, table: str = "/proc/net/tcp") -> int | None:
    """The inode of the client's socket of the connection 127.0.0.1:client_port -> 127.0.0.1:server_port."""
    local = f"{_LOOPBACK}:{client_port:04X}"
    remote = f"{_LOOPBACK}:{server_port:04X}"
    try:
        with open(table) as handle:
            next(handle, None)  # the header line
            for line in handle:
                fields = line.split()
                if len(fields) > 9 and fields[1] == local and fields[2] == remote:
                    return int(fields[9])
    except OSError:
        return None
    return None


def owns_socket(pids: Iterable[int], inode: int) -> bool:
    """Does one of these processes hold the socket with this inode?"""
    target = f"socket:[{inode}]"
    for pid in pids:
        directory = f"/proc/{pid}/fd"
        with contextlib.suppress(OSError):
            for fd in os.listdir(directory):
                with contextlib.suppress(OSError):
                    if os.readlink(f"{directory}/{fd}") == target:
                        return True
    return False
