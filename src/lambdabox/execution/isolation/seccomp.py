"""The seccomp filter of every execution environment, compiled once by the platform.

Everything is allowed except what a function never needs and what could reach outside its environment:
mounting, namespaces, tracing other processes, kernel modules, kexec, reboot, swap, eBPF, perf, the
kernel keyring, io_uring (a separate syscall surface), clock and host changes. Blocked calls fail with
EPERM; clone() with a namespace flag too; clone3() fails with ENOSYS so the C library falls back to the
inspectable clone(). Other ABIs (i386, x32 on x86-64) kill the process.

The filter is built with libseccomp (through pyseccomp) on the platform side and exported as classic BPF;
the child only hands the bytes to the kernel (jail.load_seccomp). Loading costs ~0.6 ms all the same (the
kernel runs a new filter once for every syscall number to fill its cache), so a spare environment loads
the filter's `before_mounts` part ahead of time and, once its own /tmp and code are mounted, stacks the
`mounts` part (the ban on mount, a filter of a few instructions): the two stacked are the whole filter.
"""

from __future__ import annotations

import errno
import tempfile

BLOCKED = (
    # file systems and namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "open_by_handle_at",
    "name_to_handle_at",
    "quotactl",
    "quotactl_fd",
    # other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # the kernel and the machine
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "acct",
    "syslog",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "lookup_dcookie",
    "uselib",
    "vhangup",
    # the kernel keyring
    "keyctl",
    "add_key",
    "request_key",
    # io_uring
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
)
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


class SeccompUnavailable(Exception):
    """libseccomp (or its Python binding) is not there; the reason is the message."""


# What a SnapStart template may still do: its restored copies make their own user, mount and PID
# namespaces (which an unprivileged process may) before stacking the full filter on this one.
TEMPLATE_ALLOWED = frozenset({"unshare", "mount"})
# What an environment's process still calls after loading the `before_mounts` part (jail.enter).
AFTER_MOUNTS = frozenset({"mount"})


def build_filter(template: bool = False, part: str = "whole") -> bytes:
    """The filter as classic BPF for this machine's architecture (`template`: for SnapStart templates;
    `part`: "whole", or "before_mounts" and "mounts", which stacked in that order make the whole)."""
    try:
        import pyseccomp as sc
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: libseccomp.so not found
        raise SeccompUnavailable(f"pyseccomp/libseccomp not usable: {exc}") from None
    deny = sc.ERRNO(errno.EPERM)
    program = sc.SyscallFilter(sc.ALLOW)
    program.set_attr(sc.Attr.ACT_BADARCH, sc.KILL_PROCESS)
    for name in BLOCKED:
        if template and name in TEMPLATE_ALLOWED:
            continue
        if (part == "before_mounts" and name in AFTER_MOUNTS) or (
            part == "mounts" and name not in AFTER_MOUNTS
        ):
            continue
        if sc.resolve_syscall(sc.Arch.NATIVE, name) < 0:  # not on this architecture
            continue
        program.add_rule(deny, name)
    if part != "mounts":
        for flag in NAMESPACE_FLAGS:
            program.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        if sc.resolve_syscall(sc.Arch.NATIVE, "clone3") >= 0:
            program.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as handle:
        program.export_bpf(handle)
        handle.seek(0)
        return handle.read()
