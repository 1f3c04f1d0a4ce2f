"""Who is on the other end of a loopback TCP connection? Every environment's Runtime API listens on a
loopback port that any local process could connect to; the environment admits only connections whose
client socket belongs to one of its own processes.

The client socket's inode comes from the kernel's socket diagnostics (netlink NETLINK_SOCK_DIAG, an exact
lookup by the connection's addresses: microseconds), or, where that is not available, from /proc/net/tcp
(milliseconds: the kernel formats every socket of the host). Its owner is found in /proc/<pid>/fd.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from collections.abc import Iterable

_LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NOCOOKIE = 0xFFFFFFFF
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_INODE_OFFSET = 16 + 68  # nlmsghdr, then struct inet_diag_msg's idiag_inode


def _diag_request(client_port: int, server_port: int) -> bytes:
    loopback = socket.inet_aton("127.0.0.1") + bytes(12)
    body = (
        struct.pack(
            "=BBBBI",
            socket.AF_INET,
            socket.IPPROTO_TCP,
            0,
            0,
            0xFFFFFFFF,  # any state
        )
        + struct.pack(">HH", client_port, server_port)
        + loopback
        + loopback
        + struct.pack("=III", 0, _NOCOOKIE, _NOCOOKIE)
    )
    return _HEADER.pack(_HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0) + body


def _inode_by_netlink(client_port: int, server_port: int) -> int | None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as diag:
        diag.sendto(_diag_request(client_port, server_port), (0, 0))
        reply = diag.recv(65536)
    if len(reply) < _HEADER.size:
        return None
    _, kind, _, _, _ = _HEADER.unpack_from(reply)
    if kind == _NLMSG_ERROR or len(reply) < _INODE_OFFSET + 4:
        return None
    (inode,) = struct.unpack_from("=I", reply, _INODE_OFFSET)
    return int(inode) or None


def _inode_by_proc(client_port: int, server_port: int, table: str = "/proc/net/tcp") -> int | None:
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


def client_socket_inode(client_port: int, server_port: int) -> int | None:
    """The inode of the client's socket of the connection 127.0.0.1:client_port -> 127.0.0.1:server_port."""
    try:
        return _inode_by_netlink(client_port, server_port)
    except OSError:  # no sock_diag here (or not for TCP): the slow way
        return _inode_by_proc(client_port, server_port)


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
