"""The pieces of isolation on their own: cgroup discovery and files, the file-system plan, the seccomp
filter, the child-side steps that need root (skipped without it), and settings."""

from __future__ import annotations

import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdabox.config import load_settings
from lambdabox.execution.isolation import Isolation, cgroups, jail, namespaces, probe, seccomp

ROOT = os.geteuid() == 0 and os.path.exists("/proc/self/ns/pid")
needs_root = pytest.mark.skipif(not ROOT, reason="namespaces need root on Linux")

HYBRID_CGROUP = """12:pids:/
6:freezer:/
4:memory:/process_api/abc
1:cpu,cpuacct:/user.slice
0::/
"""
HYBRID_MOUNTS = """31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_discover_hybrid_hierarchies() -> None:
    found = cgroups.discover(HYBRID_CGROUP, HYBRID_MOUNTS)
    assert found.v1 == {
        "cpu": Path("/sys/fs/cgroup/cpu,cpuacct/user.slice"),
        "memory": Path("/sys/fs/cgroup/memory/process_api/abc"),
        "freezer": Path("/sys/fs/cgroup/freezer"),
        "pids": Path("/sys/fs/cgroup/pids"),
    }
    assert found.v2 == Path("/sys/fs/cgroup/unified")


def test_discover_unified_hierarchy_in_a_container() -> None:
    mounts = "30 25 0:26 /docker/abc /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
    found = cgroups.discover("0::/docker/abc/lambdabox.service\n", mounts)
    assert found.v1 == {}
    assert found.v2 == Path("/sys/fs/cgroup/lambdabox.service")


def test_limits_follow_memory() -> None:
    assert cgroups.Limits(1769).cpu_quota_us == cgroups.CPU_PERIOD_US  # one vCPU
    assert cgroups.Limits(128).cpu_quota_us == 7236
    assert cgroups.Limits(10240).cpu_quota_us == 578858
    assert cgroups.Limits(1).cpu_quota_us == 1000  # the kernel's minimum
    assert cgroups.Limits(128).pids == 1024


def test_v1_cgroup_files(tmp_path: Path) -> None:
    own = {name: tmp_path / name for name in ("memory", "cpu", "pids", "freezer")}
    for directory in own.values():
        directory.mkdir()
    groups = cgroups.CgroupsV1.open(own, "lambdabox-1-2")
    assert groups.controllers == frozenset(own)
    group = groups.create("env-1", cgroups.Limits(256))
    memory = tmp_path / "memory" / "lambdabox-1-2" / "env-1"
    cpu = tmp_path / "cpu" / "lambdabox-1-2" / "env-1"
    assert (memory / "memory.limit_in_bytes").read_text() == str(256 * 1024 * 1024)
    assert (cpu / "cpu.shares").read_text() == "148"
    assert not (cpu / "cpu.cfs_quota_us").exists()  # not before init is done
    group.limit_cpu()
    assert (cpu / "cpu.cfs_quota_us").read_text() == "14471"
    assert (tmp_path / "pids" / "lambdabox-1-2" / "env-1" / "pids.max").read_text() == "1024"
    assert set(group.procs) == {str(own[c] / "lambdabox-1-2" / "env-1" / "tasks") for c in own}
    state = tmp_path / "freezer" / "lambdabox-1-2" / "env-1" / "freezer.state"
    state.write_text("THAWED")  # the kernel's file; the cgroup keeps it open
    group.freeze()
    assert state.read_text() == "FROZEN"
    group.thaw()
    assert state.read_text() == "THAWED"
    (memory / "memory.max_usage_in_bytes").write_text("52428800\n")
    assert group.peak_memory_bytes() == 52428800
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    assert group.oom_kills() == 1
    assert group.remove() is False  # (plain directories with files in them cannot be removed)
    assert state.read_text() == "THAWED"


def test_v2_cgroup_files(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    groups = cgroups.CgroupsV2.open(tmp_path, "lambdabox-1-2")
    assert groups.controllers == frozenset({"memory", "cpu", "pids", "freezer"})
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    group = groups.create("env-1", cgroups.Limits(3538))
    directory = tmp_path / "lambdabox-1-2" / "env-1"
    assert (directory / "memory.max").read_text() == str(3538 * 1024 * 1024)
    assert (directory / "cpu.weight").read_text() == "200"
    group.limit_cpu()
    assert (directory / "cpu.max").read_text() == "200000 100000"  # two vCPUs
    assert group.procs == (str(directory / "cgroup.procs"),)
    (directory / "cgroup.freeze").write_text("0")
    group.freeze()
    assert (directory / "cgroup.freeze").read_text() == "1"
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_kills() == 1
    (directory / "memory.peak").write_text("1048576\n")
    assert group.peak_memory_bytes() == 1048576
    group.remove()
    assert (directory / "cgroup.freeze").read_text() == "0"


def test_cgroups_made_ahead_of_time_get_their_limits_when_taken(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    groups = cgroups.CgroupsV2.open(tmp_path, "lambdabox-1-2")
    groups.stock(2)
    stocked = sorted(p for p in (tmp_path / "lambdabox-1-2").iterdir() if p.is_dir())
    assert len(stocked) == 2 and not [p for p in stocked if (p / "memory.max").exists()]
    first = groups.create("env-1", cgroups.Limits(128))
    second = groups.create("env-2", cgroups.Limits(256))
    used = {Path(first.procs[0]).parent, Path(second.procs[0]).parent}
    assert used == set(stocked)
    assert {(p / "memory.max").read_text() for p in used} == {str(128 * 1024 * 1024), str(256 * 1024 * 1024)}
    groups.create("env-3", cgroups.Limits(128))  # the stock is empty: made on demand
    assert (tmp_path / "lambdabox-1-2" / "env-3" / "memory.max").exists()


def test_v2_without_memory_controller_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("hugetlb\n")
    with pytest.raises(PermissionError, match="memory controller"):
        cgroups.CgroupsV2.open(tmp_path, "lambdabox-1-2")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A scratch directory every user can reach (pytest's own tmp_path lies under a 0700 directory)."""
    for base in ("/var/tmp", "/tmp"):
        if os.path.isdir(base) and namespaces.hidden_ancestor(os.path.join(base, "x", "y")) is None:
            with tempfile.TemporaryDirectory(dir=base) as scratch:
                os.chmod(scratch, 0o755)
                yield Path(scratch)
            return
    pytest.skip("no world-traversable scratch directory")


def test_view_covers_the_data_dir_and_unreadable_homes(open_dir: Path) -> None:
    tmp_path = open_dir
    home = tmp_path / "home"
    interpreter = home / ".pyenv" / "versions" / "3.11"
    interpreter.mkdir(parents=True)
    home.chmod(0o700)
    data = tmp_path / "data"
    site = data / "runtime" / "site-packages"
    site.mkdir(parents=True)
    public = tmp_path / "venv"
    public.mkdir()
    try:
        assert namespaces.hidden_ancestor(str(interpreter)) == str(home)
        covers, exposes = namespaces.plan_view(data, [interpreter, site, public, interpreter / "lib"])
    finally:
        home.chmod(0o755)
    assert sorted(covers) == sorted([str(data), str(home)])
    assert exposes == sorted([str(interpreter), str(site)])  # `public` needs no help; `lib` is inside


def test_layout_is_plain_json() -> None:
    plan = namespaces.layout(
        data_dir=Path("/nonexistent-data"),
        code_dir=Path("/nonexistent-data/code"),
        needed=[],
        mount_namespace=True,
        pid_namespace=True,
        readonly_root=True,
        user=(993, 990),
        no_new_privs=True,
        seccomp="AAAA",
        cgroups=True,
    )
    assert plan["task_root"] == "/var/task"
    assert plan["tmp"] == "/tmp" and plan["tmp_aliases"] == ["/var/tmp"]
    assert plan["cover"] == ["/nonexistent-data"] and plan["expose"] == []
    assert plan["writable"] == ["/sys/fs/cgroup"]
    assert (plan["uid"], plan["gid"]) == (993, 990)


def test_seccomp_filter_compiles_to_bpf() -> None:
    try:
        program = seccomp.build_filter()
    except seccomp.SeccompUnavailable as exc:
        pytest.skip(str(exc))
    assert program and len(program) % 8 == 0  # struct sock_filter is 8 bytes


@needs_root
def test_seccomp_filter_in_two_parts_blocks_what_the_whole_does_and_mounts_in_between() -> None:
    try:
        before, after = seccomp.build_filter(part="before_mounts"), seccomp.build_filter(part="mounts")
    except seccomp.SeccompUnavailable as exc:
        pytest.skip(str(exc))
    import ctypes
    import errno

    libc = ctypes.CDLL(None, use_errno=True)

    def errno_of(result: int) -> int:
        return 0 if result == 0 else ctypes.get_errno()

    target = tempfile.mkdtemp()

    def body() -> bool:
        jail.unshare(jail.CLONE_NEWNS)
        jail.mount(None, "/", None, jail.MS_REC | jail.MS_PRIVATE)
        jail.load_seccomp(before)  # as a spare does, as root
        mounted = errno_of(libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, None))
        unshared = errno_of(libc.unshare(jail.CLONE_NEWNS))
        clone3 = errno_of(libc.syscall(435, None, 0))
        jail.prctl(jail.PR_SET_NO_NEW_PRIVS, 1)
        jail.load_seccomp(after)
        mounted_after = errno_of(libc.mount(b"tmpfs", target.encode(), b"tmpfs", 0, None))
        return (mounted, unshared, clone3, mounted_after) == (0, errno.EPERM, errno.ENOSYS, errno.EPERM)

    try:
        assert _in_child(body) == 0
    finally:
        os.rmdir(target)


def test_isolation_off_confines_nothing() -> None:
    isolation = Isolation.disabled()
    assert isolation.confine(128, 512, Path("/code"), Path("/code")) is None
    assert isolation.zygote_config() is None
    assert isolation.task_root(Path("/data/code/x")) == Path("/data/code/x")
    assert isolation.private_tmp() is None
    status = isolation.status()
    assert status["enabled"] is False and status["seccomp"] == "disabled"


def test_settings_switch() -> None:
    assert load_settings({}).isolation is True
    assert load_settings({"LAMBDABOX_ISOLATION": "off"}).isolation is False
    assert load_settings({"LAMBDABOX_FREEZE_DELAY": "0.05"}).freeze_delay == 0.05
    with pytest.raises(ValueError, match="LAMBDABOX_ISOLATION"):
        load_settings({"LAMBDABOX_ISOLATION": "maybe"})


def _in_child(body: object) -> int:
    """Run `body()` in a forked child; its exit code (0 when it returned True)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if body() else 2  # type: ignore[operator]
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


@needs_root
def test_pid_namespace_fork_restores_the_callers_namespace() -> None:
    def body() -> bool:
        first = jail.fork_in_new_pid_namespace()
        if first == 0:
            os._exit(0 if os.getpid() == 1 else 3)
        first_code = os.waitstatus_to_exitcode(os.waitpid(first, 0)[1])
        second = os.fork()  # an ordinary child again
        if second == 0:
            os._exit(0 if os.getpid() != 1 else 4)
        return first_code == 0 and os.waitstatus_to_exitcode(os.waitpid(second, 0)[1]) == 0

    assert _in_child(body) == 0


@needs_root
def test_init_reports_how_the_runtime_ended() -> None:
    def body() -> bool:
        read_fd, write_fd = os.pipe()
        init = jail.fork_in_new_pid_namespace()
        if init == 0:
            os.close(read_fd)
            jail.start_init(write_fd)  # returns in the runtime's process (PID 2)
            os.kill(os.getpid(), signal.SIGKILL)
        os.close(write_fd)
        _, status = os.waitpid(init, 0)
        reported = jail.read_status(read_fd)
        return os.waitstatus_to_exitcode(status) == 0 and reported is not None and os.WTERMSIG(reported) == 9

    assert _in_child(body) == 0


@needs_root
def _zombie_children(parent: int) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[:2]
        except (OSError, ValueError):  # gone meanwhile
            continue
        if state == "Z" and ppid == str(parent):
            found.append(pid)
    return found


def test_a_process_joins_a_namespace_whose_small_init_reaps_orphans_and_takes_it_down() -> None:
    def body() -> bool:
        init, namespace = jail.new_namespace_init()
        read_fd, write_fd = os.pipe()
        runtime = jail.fork_into_pid_namespace(namespace)
        if runtime == 0:  # PID 2 beside the init; an orphan of its own goes to the init, which reaps it
            orphan_parent = os.fork()
            if orphan_parent == 0:
                if os.fork() == 0:
                    os._exit(0)
                os._exit(0)
            os.waitpid(orphan_parent, 0)
            os.write(write_fd, b"%d %d\n" % (os.getpid(), os.getppid()))
            signal.pause()
        os.close(namespace)
        seen = os.read(read_fd, 64).split()
        after = os.fork()  # the caller's own children are in its own namespace again
        if after == 0:
            os._exit(0 if os.getpid() > 2 else 5)
        ordinary = os.waitstatus_to_exitcode(os.waitpid(after, 0)[1]) == 0
        # Looked for while the init lives (it reaps as they exit, so none ever shows); once it is killed,
        # the namespace's teardown may briefly show dying children under it.
        zombies = _zombie_children(init)
        os.kill(init, signal.SIGKILL)  # the namespace ends with its init: the runtime is killed
        _, status = os.waitpid(runtime, 0)
        return (
            seen == [b"2", b"0"]
            and ordinary
            and os.WIFSIGNALED(status)
            and os.WTERMSIG(status) == signal.SIGKILL
            and not zombies
        )

    assert _in_child(body) == 0


@needs_root
def test_probe_finds_what_works_here() -> None:
    try:
        program: bytes | None = seccomp.build_filter()
    except seccomp.SeccompUnavailable:
        program = None
    found = probe.probe(993, 990, program)
    assert {"mountNamespace", "pidNamespace", "user", "noNewPrivs"} <= found.working, found.reasons


def test_probe_without_root_reports_why() -> None:
    if ROOT:
        pytest.skip("running as root")
    found = probe.probe(993, 990, None, "no libseccomp")
    assert "pidNamespace" not in found.working
    assert found.reasons["pidNamespace"].startswith("needs root")
    assert found.reasons["seccomp"] == "no libseccomp"


def test_task_root_files_are_world_readable_for_the_sandbox_user(tmp_path: Path) -> None:
    """The code store makes task roots read-only but readable by others: the sandbox user reads them."""
    from lambdabox.storage.code import FileCodeStore
    from tests.conftest import python_zip

    store = FileCodeStore(tmp_path)
    root = store.task_root(store.put_zip(python_zip("x = 1\n")))
    assert stat.S_IMODE(root.stat().st_mode) & 0o005 == 0o005
    assert stat.S_IMODE((root / "app.py").stat().st_mode) & 0o004
