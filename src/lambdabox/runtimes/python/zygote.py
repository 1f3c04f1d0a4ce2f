"""The Python fork server: one long-lived process that has already imported the bootstrap, boto3 and
botocore and loaded the common service models. A new execution environment is a fork of it.

Launch: ``python -S -u zygote.py FD`` where FD is one end of an AF_UNIX SOCK_SEQPACKET socketpair.
Messages are JSON; a spawn request carries the environment's output pipe as an SCM_RIGHTS fd:

    platform -> zygote  {"op": "spawn", "id": N, "env": {...}, "cwd": "...", ["argv": [...]], ["jail": {...}]}
                        + [output fd] | {"op": "took", "pid": P}
    zygote -> platform  {"op": "ready"} | {"op": "spawned", "id": N, "pid": P}
                        | {"op": "failed", "id": N, "error": "..."} | {"op": "exit", "pid": P, "code": C}
                        | {"op": "spare", "pid": P} + [the spare's channel]
    platform -> spare   {"op": "cgroups", "procs": [...]} (joined while it waits), then a spawn request

A spare (pre-forked, prepared, warmed) is offered to the platform with its own channel; the platform
sends a spawn request straight to it ("took" tells this process to fork a replacement) and sends it here
only when it has no spare at hand. Only process creation goes through these channels; invocations flow
through the Runtime API as always. With "argv" (a custom runtime) the forked child execs it instead of
running the bundled Python runtime: it still gets a warm, already isolated spare and a fork of this
small process instead of the platform's.

Isolation (when the platform passes LAMBDABOX_JAIL = {"module", "layout", "cgroups"}): each environment's
process is forked into a new PID namespace as its PID 2; PID 1 is a small init forked by InitForker (a
fork of this process from before the preload) that only lets the kernel reap orphans, and is killed when
the environment's process exits, which ends the namespace. The spare's process enters a new mount
namespace ahead of time (jail.prepare); once given an environment it joins its cgroups, mounts its /tmp
and code, drops to the sandbox user and loads the seccomp filter (jail.enter), and only then
specializes. If the platform dies, this process thaws and kills every environment before it exits: frozen
processes cannot die on their own.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import gc
import importlib.util
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
# Services whose models are loaded ahead of time (the ones Lambda functions use most).
WARM_SERVICES = ("s3", "dynamodb", "sqs", "sns", "lambda", "sts", "secretsmanager", "ssm", "events", "logs")
# Distributions preloaded here; a function that bundles its own copy gets its own copy.
PRELOADED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "six",
    "snapshot_restore_py",
)
_PR_SET_PDEATHSIG = 1
REFILL_DELAY_S = 0.05
_jail: Any = None  # isolation/jail.py, loaded by path (this interpreter does not see the platform)
_layout: dict[str, Any] = {}
_cgroup_parents: list[str] = []
_inits: dict[int, int] = {}  # an environment's process -> PID 1 of its namespace (killed when it exits)
_init_forker: InitForker | None = None
_zygote_pid = 0  # this process's (a fork inherits the signal handlers until it resets them)


def _die_with_parent(sig: int = signal.SIGKILL) -> None:
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def _load_jail() -> None:
    global _jail, _layout, _cgroup_parents
    config = os.environ.get("LAMBDABOX_JAIL")
    if not config:
        return
    settings = json.loads(config)
    spec = importlib.util.spec_from_file_location("_lambdabox_jail", settings["module"])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    _jail, _layout, _cgroup_parents = module, settings["layout"], settings["cgroups"]


def preload() -> None:
    """Import the runtime and boto3, warm one shared botocore loader, then freeze the heap."""
    import site

    sys.path.insert(0, RUNTIME_DIR)
    for site_dir in os.environ.get("LAMBDABOX_RUNTIME_SITE_PACKAGES", "").split(os.pathsep):
        if site_dir and os.path.isdir(site_dir):
            site.addsitedir(site_dir)
    import bootstrap  # type: ignore[import-not-found]  # (the runtime and its modules)
    import lambdabox_marshaller  # type: ignore[import-not-found]
    import lambdabox_snapstart  # type: ignore[import-not-found]  # noqa: F401  (SnapStart, imported on demand
    import snapshot_restore_py  # type: ignore[import-untyped]  # noqa: F401  once the runtime dir is out of view)

    bootstrap.remember_realpaths()
    for ensure_ascii in (True, False):  # what the runtime builds at start compiles its patterns into
        lambdabox_marshaller.Marshaller(ensure_ascii)  # re's cache, here once instead of in every child
    try:
        import boto3
        import botocore.loaders
        import botocore.session
    except ImportError:  # a platform without boto3 still gets fast forks of the runtime
        gc.freeze()
        return
    shared_loader = botocore.loaders.create_loader()
    original_create_loader = botocore.loaders.create_loader

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        # Every session shares the warm loader unless it asks for its own data path.
        if search_path_string is None:
            return shared_loader
        return original_create_loader(search_path_string)

    botocore.loaders.create_loader = create_loader
    botocore.session.create_loader = create_loader
    _share_endpoint_providers()
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    for service in WARM_SERVICES:
        # Explicit credentials and region: nothing environment-specific is resolved or cached here.
        session.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    # The credential provider chain costs ~3 ms to build; built here, every environment's first client
    # only runs it (the environment provider reads the live os.environ: the function's role credentials).
    # Built without a profile or credential/config file set (see _unshare_credential_chain).
    session._session.get_component("credential_provider")
    gc.collect()
    gc.freeze()


# Variables that change how the credential chain is built: with one of them, an environment builds its own.
_CHAIN_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")


_MADV_COLLAPSE = 25  # Linux 6.1+
_HUGE_PAGE = 2 << 20


def collapse_heap() -> int:
    """Back this process's anonymous memory (the preloaded heap) with transparent huge pages, where the
    kernel can (MADV_COLLAPSE; a no-op before Linux 6.1). fork() then copies one entry per 2 MB of them
    instead of 512, which halves the cost of a fork here; a child that writes to such a page gets a
    private copy of that 4 KB page only, as before. The mappings are not marked for huge pages (no
    MADV_HUGEPAGE), so nothing else changes: new memory and children's memory stay in small pages.
    Returns the bytes collapsed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    collapsed = 0
    try:
        with open("/proc/self/maps") as maps:
            regions = [line.split() for line in maps]
    except OSError:
        return 0
    for fields in regions:
        if fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue  # only private anonymous memory (and the brk heap)
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start = (low + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1)
        end = high & ~(_HUGE_PAGE - 1)
        if end - start >= _HUGE_PAGE and libc.madvise(start, end - start, _MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed


def _unshare_credential_chain(env: dict[str, str]) -> None:
    if not any(name in env for name in _CHAIN_VARIABLES):
        return
    session = getattr(sys.modules.get("boto3"), "DEFAULT_SESSION", None)
    if session is not None:
        session._session._register_credential_provider()  # lazily rebuilt from this environment


def _share_endpoint_providers() -> None:
    """Building an endpoint-rules provider parses the whole rule set (~1 ms for S3) on every client;
    the rule sets come from the shared loader, so one provider per rule set serves every client."""
    import botocore.regions

    provider_class = botocore.regions.EndpointProvider
    providers: dict[tuple[int, int, int], Any] = {}

    def shared_provider(ruleset_data: Any, partition_data: Any, **options: Any) -> Any:
        key = (id(ruleset_data), id(partition_data), id(options.get("excluded_params")))
        provider = providers.get(key)
        if provider is None:
            provider = provider_class(ruleset_data=ruleset_data, partition_data=partition_data, **options)
            providers[key] = provider
        return provider

    botocore.regions.EndpointProvider = shared_provider


def _purge_shadowed(task_root: str, opt: str) -> None:
    """If the function or a layer ships its own boto3 (or another preloaded package), import that one."""
    shadowed: set[str] = set()
    for root in (task_root, os.path.join(opt, "python")):
        try:
            listed: set[str] | None = set(os.listdir(root))  # one call instead of a stat per name
        except FileNotFoundError:
            continue
        except OSError:  # cannot list it (but maybe traverse it): look each name up
            listed = None
        shadowed.update(
            name
            for name in PRELOADED
            for entry in (name, name + ".py")
            if (listed is None or entry in listed) and os.path.exists(os.path.join(root, entry))
        )
    if not shadowed:
        return
    for module in list(sys.modules):
        if module.split(".", 1)[0] in shadowed:
            del sys.modules[module]


def _default_signals() -> None:
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


class InitForker:
    """A small process, forked before the preload, that makes each environment's PID namespace: its init
    (PID 1) is a fork of this small process, not of the zygote, whose page tables (tens of MB mapped) cost
    ~1 ms of CPU per fork to copy. The environment's process, forked here, then joins that namespace.

    Namespaces are made ahead (`AHEAD` of them asked for or ready): a spawn takes one that is ready and
    asks for its replacement, so the init forker works while the zygote forks instead of the zygote
    waiting for it (a round trip of ~2.5 ms under a burst: half of the zygote's time per environment)."""

    AHEAD = 4

    def __init__(self) -> None:
        self._channel = self._start()
        self._ready: collections.deque[tuple[int, int] | str] = collections.deque()  # (pid, fd) or error
        self._asked = 0  # requests sent, not answered yet

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            ours.close()
            _run_child(functools.partial(self._serve, theirs))
        theirs.close()
        return ours

    @staticmethod
    def _serve(channel: socket.socket) -> None:
        _jail.close_all_but(channel.fileno())  # (the zygote's channel to the platform, among others)
        _die_with_parent()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the inits once they are killed
        while channel.recv(16):
            try:
                pid, namespace = _jail.new_namespace_init()
            except OSError as exc:
                channel.send(f"!{exc}".encode())
                continue
            socket.send_fds(channel, [str(pid).encode()], [namespace])
            os.close(namespace)

    def new_namespace(self) -> tuple[int, int]:
        """A new PID namespace with its init running: (the init's pid, a descriptor of the namespace)."""
        try:
            self._collect(wait=False)
            if not self._ready:
                if not self._asked:
                    self._ask()
                self._collect(wait=True)
            made = self._ready.popleft()
            while self._asked + len(self._ready) < self.AHEAD:
                self._ask()
        except OSError:  # it died: a new one (a fork of this larger process now) takes over
            self.restart()
            self._ask()
            self._collect(wait=True)
            made = self._ready.popleft()
        if isinstance(made, str):
            raise OSError(made)
        return made

    def _ask(self) -> None:
        self._channel.send(b"n")
        self._asked += 1

    def _collect(self, wait: bool) -> None:
        """Take the answers that arrived (with `wait`: at least one)."""
        flags = 0 if wait else socket.MSG_DONTWAIT
        while self._asked:
            try:
                message, fds, _, _ = socket.recv_fds(self._channel, 1024, 1, flags)
            except BlockingIOError:
                return
            if not message:
                raise OSError("the init forker is gone")
            self._asked -= 1
            if message.startswith(b"!") or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                self._ready.append(message[1:].decode() or "the init forker failed")
            else:
                self._ready.append((int(message), fds[0]))
            flags = socket.MSG_DONTWAIT

    def restart(self) -> None:
        """A new init forker (a fork of this larger process now); the namespaces made ahead are dropped."""
        self.close()
        self._channel = self._start()

    def close(self) -> None:
        """Closes the channel; the namespaces made ahead are given up (their inits die with this one)."""
        self._channel.close()
        for made in self._ready:
            if not isinstance(made, str):
                os.close(made[1])
        self._ready.clear()
        self._asked = 0


def _fork_environment() -> int:
    """fork() the process of a new environment (0 in it, its pid here). With a PID namespace the child
    joins a new namespace, as PID 2, beside a small init (PID 1, see InitForker) that is killed when it
    exits."""
    if _jail is None or not _layout.get("pid_namespace"):
        return os.fork()
    if _init_forker is None:
        raise OSError("no init forker")
    for attempt in (1, 2):
        init, namespace = _init_forker.new_namespace()
        try:
            pid = int(_jail.fork_into_pid_namespace(namespace))
        except BaseException as exc:
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, signal.SIGKILL)
            if attempt == 2 or not isinstance(exc, OSError):
                raise
            # A namespace made ahead whose init is gone (the init forker died with it): start afresh.
            _init_forker.restart()
            continue
        finally:
            os.close(namespace)
        if pid != 0:
            _inits[pid] = init
        return pid
    raise AssertionError("unreachable")


def _become_environment_process(control: socket.socket, wake_fd: int) -> None:
    """Right after fork: our own session, die with the zygote, default signal handling."""
    os.setsid()
    _die_with_parent()
    _default_signals()
    os.close(wake_fd)
    control.close()
    if _init_forker is not None:
        _init_forker.close()
    _inits.clear()


def _prepare() -> dict[str, int]:
    """The environment-independent part of isolation, done by spares ahead of time."""
    return _jail.prepare(_layout) if _jail is not None else {}


def _specialize(
    request: dict[str, Any],
    fds: list[int],
    prepared: dict[str, int],
    seccomp_preloaded: bool = False,
    joined: frozenset[str] = frozenset(),
) -> None:
    """Turn this process into one execution environment and run the runtime in it (never returns).
    `fds`: the environment's output pipe, then (SnapStart templates) the channel restores come through."""
    env: dict[str, str] = dict(request["env"])
    cwd: str = request["cwd"]
    output_fd = fds[0]
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    if len(fds) > 1:
        env["_LAMBDABOX_SNAPSHOT_FD"] = str(fds[1])
    if _jail is not None:
        if request.get("jail") is None:
            raise RuntimeError("an isolated zygote was asked for an environment without its plan")
        _jail.enter(_layout, prepared, request["jail"], seccomp_preloaded, joined)
    if request.get("argv"):
        _exec(request["argv"], env, cwd)
    os.environ.clear()
    os.environ.update(env)
    _unshare_credential_chain(env)
    sys.argv = [os.path.join(RUNTIME_DIR, "bootstrap.py")]
    os.chdir(cwd)
    import random

    random.seed()  # every environment gets its own random state
    _purge_shadowed(env.get("LAMBDA_TASK_ROOT", cwd), env.get("LAMBDABOX_OPT_DIR") or "/opt")
    import bootstrap

    bootstrap.main()


def _exec(argv: list[str], env: dict[str, str], cwd: str) -> NoReturn:
    """A custom runtime: exec its bootstrap with nothing of this process but stdout and stderr."""
    os.chdir(cwd)
    os.closerange(3, 1 << 20)
    try:
        os.execve(argv[0], argv, env)
    except OSError as exc:
        sys.stderr.write(f"cannot start {argv[0]}: {exc.strerror}\n")
    os._exit(127)


def _run_child(body: Callable[[], None]) -> NoReturn:
    try:
        body()
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def _warm_copy_on_write() -> None:
    """Touch what the runtime's start and a handler's first boto3 client touch, so their copy-on-write
    faults happen now, before the spare is given an environment, not during that environment's cold
    start: the runtime's start-up steps (rehearsed and undone), compiling a handler's source (a task
    root is read-only: no cached bytecode), and building an S3 client."""
    import bootstrap

    bootstrap.rehearse()
    compile("def handler(event, context):\n    return event\n", "<warm-up>", "exec")
    try:
        import boto3
    except ImportError:
        return
    session = boto3.DEFAULT_SESSION
    if session is not None:
        session.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


class Spares:
    """Pre-forked, pre-warmed children waiting to be given an environment (spec: the unspecialized
    app process pool of Android's zygote). Forking and copy-on-write faults leave the cold path.

    Each is offered to the platform as soon as it is forked, with its channel: the platform sends an
    environment's request straight to a spare, so a cold start does not wait for this process to wake
    up, and tells this process afterwards ("took") that it should fork a replacement."""

    def __init__(self, control: socket.socket, wake_fd: int, target: int) -> None:
        self._control = control
        self._wake_fd = wake_fd
        self._target = target
        self._offered: set[int] = set()

    def refill(self) -> None:
        while len(self._offered) < self._target:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                pid = _fork_environment()
            except OSError as exc:  # environments are still forked on demand (or started as processes)
                sys.stderr.write(f"zygote: cannot fork a spare: {exc}\n")
                ours.close()
                theirs.close()
                return
            if pid == 0:
                ours.close()
                _run_child(functools.partial(self._wait_for_environment, theirs))
            theirs.close()
            try:
                offer = json.dumps({"op": "spare", "pid": pid}).encode()
                socket.send_fds(self._control, [offer], [ours.fileno()])
            finally:
                ours.close()  # from now on only the platform holds it
            self._offered.add(pid)

    def _wait_for_environment(self, channel: socket.socket) -> None:
        _become_environment_process(self._control, self._wake_fd)
        prepared = _prepare()
        preloaded = _jail is not None and bool(_jail.preload_seccomp(_layout))
        _warm_copy_on_write()
        os.environ.clear()  # the zygote's start-up environment; the environment's own replaces it
        os.environ["_LAMBDABOX_WARM_UP"] = ""  # (and setting that touches what setting it will)
        del os.environ["_LAMBDABOX_WARM_UP"]
        joined: frozenset[str] = frozenset()
        while True:
            message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 4)
            if not message or fds:
                break
            request = json.loads(message)  # the cgroups of the environment this spare becomes: join now
            if request.get("op") == "cgroups" and _jail is not None:
                _jail.join_cgroups(request["procs"])
                joined = frozenset(request["procs"])
        if not message or not 1 <= len(fds) <= 2:
            os._exit(0)  # the platform is gone (or let it go)
        channel.close()
        _specialize(json.loads(message), fds, prepared, preloaded, joined)

    def forget(self, pid: int) -> None:
        """The platform took that spare, or it exited."""
        self._offered.discard(pid)


def serve(control: socket.socket, spare_count: int) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    spares = Spares(control, wake_r, spare_count)
    control.send(json.dumps({"op": "ready", "pid": os.getpid()}).encode())
    spares.refill()
    refill_at: float | None = None  # spares are replaced once the zygote has been quiet a moment
    while True:
        timeout = None if refill_at is None else max(0.0, refill_at - time.monotonic())
        readable, _, _ = select.select([control.fileno(), wake_r], [], [], timeout)
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(control, spares)
        if control.fileno() in readable:
            message, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
            if not message:  # the platform closed the channel: stop
                return
            request = json.loads(message)
            if request.get("op") == "took":
                spares.forget(int(request["pid"]))
            elif request.get("op") == "spawn":  # no spare at hand: fork one for this environment now
                _spawn(control, request, fds, wake_r)
            # Not right away: forking and warming a spare (a few ms of CPU) would compete with the
            # environment just handed out, during its cold start, and delay the next request.
            refill_at = time.monotonic() + REFILL_DELAY_S
        elif refill_at is not None and time.monotonic() >= refill_at:
            spares.refill()
            refill_at = None


def _spawn(control: socket.socket, request: dict[str, Any], fds: list[int], wake_r: int) -> None:
    if not 1 <= len(fds) <= 2:
        for fd in fds:
            os.close(fd)
        control.send(
            json.dumps({"op": "failed", "id": request["id"], "error": "expected 1 or 2 fds"}).encode()
        )
        return
    try:
        pid = _fork_environment()
        if pid == 0:
            _run_child(functools.partial(_cold_child, control, wake_r, request, fds))
    except OSError as exc:  # the platform starts a plain process instead
        reply: dict[str, Any] = {"op": "failed", "id": request["id"], "error": str(exc)}
    else:
        reply = {"op": "spawned", "id": request["id"], "pid": pid}
    finally:
        for fd in fds:
            os.close(fd)
    control.send(json.dumps(reply).encode())


def _cold_child(control: socket.socket, wake_r: int, request: dict[str, Any], fds: list[int]) -> None:
    _become_environment_process(control, wake_r)
    _specialize(request, fds, _prepare())


def _reap(control: socket.socket, spares: Spares) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        spares.forget(pid)
        init = _inits.pop(pid, None)
        if init is not None:  # the namespace ends with its runtime: whatever it left behind dies with it
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, signal.SIGKILL)
        control.send(
            json.dumps({"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)}).encode()
        )


def _platform_gone(signum: int, frame: Any) -> None:
    """The platform is gone (this process's parent-death signal): release its environments here, in the
    handler, and end. Raising SystemExit instead could interrupt `main`'s own release, already under way
    when the platform's end closed the channel a moment before the signal came (a killed process's files
    close before its children are signalled), and leave frozen environments nobody thaws."""
    if os.getpid() != _zygote_pid:  # a child that has not reset its signal handling yet
        raise SystemExit(0)
    _release_environments()
    os._exit(0)


def main() -> None:
    global _init_forker, _zygote_pid
    _zygote_pid = os.getpid()
    _load_jail()
    if _jail is not None:  # outlive the platform just long enough to thaw and kill its environments
        signal.signal(signal.SIGTERM, _platform_gone)
        _die_with_parent(signal.SIGTERM)
    else:
        _die_with_parent()
    control = socket.socket(fileno=int(sys.argv[1]))
    if _jail is not None and _layout.get("pid_namespace"):
        _init_forker = InitForker()  # forked while this process is still small
    started = time.perf_counter()
    preload()
    collapsed = collapse_heap()
    sys.stderr.write(
        f"zygote ready in {(time.perf_counter() - started) * 1000:.0f} ms"
        f" ({collapsed >> 20} MB in huge pages)\n"
    )
    try:
        serve(control, int(os.environ.get("LAMBDABOX_ZYGOTE_SPARES", "2")))
    finally:  # the platform closed the channel or died (our parent-death signal, or a broken pipe)
        _release_environments()


def _release_environments() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the channel's end and the death signal both come
    if _jail is not None:
        _jail.thaw_and_kill(_cgroup_parents)


if __name__ == "__main__":
    main()
