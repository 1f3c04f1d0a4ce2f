"""The Python fork server: one long-lived process that has already imported the bootstrap, boto3 and
botocore and loaded the common service models. A new execution environment is a fork of it.

Launch: ``python -S -u zygote.py FD`` where FD is one end of an AF_UNIX SOCK_SEQPACKET socketpair.
Messages are JSON; a spawn request carries the environment's output pipe as an SCM_RIGHTS fd:

    platform -> zygote  {"op": "spawn", "id": N, "env": {...}, "cwd": "...", ["argv": [...]], ["jail": {...}]}
                        + [output fd]
    zygote -> platform  {"op": "ready"} | {"op": "spawned", "id": N, "pid": P}
                        | {"op": "failed", "id": N, "error": "..."} | {"op": "exit", "pid": P, "code": C}

Only process creation goes through this channel; invocations flow through the Runtime API as always.
With "argv" (a custom runtime) the forked child execs it instead of running the bundled Python runtime:
it still gets a warm, already isolated spare and a fork of this small process instead of the platform's.

Isolation (when the platform passes LAMBDABOX_JAIL = {"module", "layout", "cgroups"}): each spare is
forked as PID 1 of a new PID namespace, which forks the environment's process and stays behind as its
init (reaping orphans, reporting the runtime's exit status through a pipe). The spare's process enters a
new mount namespace ahead of time (jail.prepare); once given an environment it joins its cgroups, mounts
its /tmp and code, drops to the sandbox user and loads the seccomp filter (jail.enter), and only then
specializes. If the platform dies, this process thaws and kills every environment before it exits: frozen
processes cannot die on their own.
"""

from __future__ import annotations

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
_status_fds: dict[int, int] = {}  # PID 1 of an environment's namespace -> pipe with the runtime's status


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
    import bootstrap  # type: ignore[import-not-found]  # noqa: F401  (the runtime and its modules)
    import lambdabox_snapstart  # type: ignore[import-not-found]  # noqa: F401  (SnapStart, imported on demand
    import snapshot_restore_py  # type: ignore[import-untyped]  # noqa: F401  once the runtime dir is out of view)

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


def _purge_shadowed(task_root: str) -> None:
    """If the function ships its own boto3 (or another preloaded package), import that one instead."""
    roots = [task_root, "/opt/python"]
    shadowed = {
        name
        for name in PRELOADED
        for root in roots
        for entry in (name, name + ".py")
        if os.path.exists(os.path.join(root, entry))
    }
    if not shadowed:
        return
    for module in list(sys.modules):
        if module.split(".", 1)[0] in shadowed:
            del sys.modules[module]


def _default_signals() -> None:
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


def _fork_environment() -> int:
    """fork() the process of a new environment (0 in it, its pid here). With a PID namespace the child
    forked here is PID 1 of a new namespace: it forks the environment's process, which returns 0 from
    this call, and stays behind as the namespace's init, reporting the runtime's exit status."""
    if _jail is None or not _layout.get("pid_namespace"):
        return os.fork()
    read_fd, write_fd = os.pipe()
    pid = int(_jail.fork_in_new_pid_namespace())
    if pid == 0:
        try:
            os.close(read_fd)
            os.setsid()
            _die_with_parent()
            _default_signals()
            _jail.start_init(write_fd)  # returns only in the environment's process
        except BaseException:
            os._exit(1)
        return 0
    os.close(write_fd)
    _status_fds[pid] = read_fd
    return pid


def _become_environment_process(control: socket.socket, wake_fd: int) -> None:
    """Right after fork: our own session, die with the zygote, default signal handling."""
    if _jail is None or not _layout.get("pid_namespace"):
        os.setsid()  # (in a PID namespace, PID 1 made the session and the environment's process is in it)
    _die_with_parent()
    _default_signals()
    os.close(wake_fd)
    control.close()
    for fd in _status_fds.values():
        os.close(fd)
    _status_fds.clear()


def _prepare() -> dict[str, int]:
    """The environment-independent part of isolation, done by spares ahead of time."""
    return _jail.prepare(_layout) if _jail is not None else {}


def _specialize(request: dict[str, Any], fds: list[int], prepared: dict[str, int]) -> None:
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
        _jail.enter(_layout, prepared, request["jail"])
    if request.get("argv"):
        _exec(request["argv"], env, cwd)
    os.environ.clear()
    os.environ.update(env)
    _unshare_credential_chain(env)
    sys.argv = [os.path.join(RUNTIME_DIR, "bootstrap.py")]
    os.chdir(cwd)
    import random

    random.seed()  # every environment gets its own random state
    _purge_shadowed(env.get("LAMBDA_TASK_ROOT", cwd))
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
    """Touch what a handler's first boto3 client touches, so its copy-on-write faults happen now,
    before the spare is given an environment, not during that environment's cold start."""
    try:
        import boto3
    except ImportError:
        return
    session = boto3.DEFAULT_SESSION
    if session is not None:
        session.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


class Spares:
    """Pre-forked, pre-warmed children waiting to be given an environment (spec: the unspecialized
    app process pool of Android's zygote). Forking and copy-on-write faults leave the cold path."""

    def __init__(self, control: socket.socket, wake_fd: int, target: int) -> None:
        self._control = control
        self._wake_fd = wake_fd
        self._target = target
        self._ready: list[tuple[int, socket.socket]] = []

    def refill(self) -> None:
        while len(self._ready) < self._target:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            pid = _fork_environment()
            if pid == 0:
                ours.close()
                _run_child(functools.partial(self._wait_for_environment, theirs))
            theirs.close()
            self._ready.append((pid, ours))

    def _wait_for_environment(self, channel: socket.socket) -> None:
        _become_environment_process(self._control, self._wake_fd)
        for _, other in self._ready:
            other.close()
        prepared = _prepare()
        _warm_copy_on_write()
        message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 4)
        if not message or not 1 <= len(fds) <= 2:
            os._exit(0)
        channel.close()
        _specialize(json.loads(message), fds, prepared)

    def take(self, message: bytes, fds: list[int]) -> int | None:
        """Hand the request to a spare; its pid, or None when none is ready."""
        while self._ready:
            pid, channel = self._ready.pop(0)
            try:
                socket.send_fds(channel, [message], fds)
            except OSError:  # that spare died: try the next
                channel.close()
                continue
            channel.close()
            return pid
        return None

    def forget(self, pid: int) -> None:
        for index, (spare, channel) in enumerate(self._ready):
            if spare == pid:
                channel.close()
                del self._ready[index]
                return


def serve(control: socket.socket, spare_count: int) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    spares = Spares(control, wake_r, spare_count)
    spares.refill()
    control.send(json.dumps({"op": "ready", "pid": os.getpid()}).encode())
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
            if request.get("op") == "spawn":
                _spawn(control, request, message, fds, spares, wake_r)
                # Not right away: forking and warming a spare (a few ms of CPU) would compete with the
                # environment just handed out, during its cold start, and delay the next request.
                refill_at = time.monotonic() + REFILL_DELAY_S
        elif refill_at is not None and time.monotonic() >= refill_at:
            spares.refill()
            refill_at = None


def _spawn(
    control: socket.socket,
    request: dict[str, Any],
    message: bytes,
    fds: list[int],
    spares: Spares,
    wake_r: int,
) -> None:
    if not 1 <= len(fds) <= 2:
        for fd in fds:
            os.close(fd)
        control.send(
            json.dumps({"op": "failed", "id": request["id"], "error": "expected 1 or 2 fds"}).encode()
        )
        return
    pid = spares.take(message, fds)
    if pid is None:  # no spare ready: fork one for this environment right now
        pid = _fork_environment()
        if pid == 0:
            _run_child(functools.partial(_cold_child, control, wake_r, request, fds))
    for fd in fds:
        os.close(fd)
    control.send(json.dumps({"op": "spawned", "id": request["id"], "pid": pid}).encode())


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
        status_fd = _status_fds.pop(pid, None)
        if status_fd is not None:  # PID 1 of the environment's namespace: report how the runtime ended
            reported = _jail.read_status(status_fd)
            status = status if reported is None else reported
        control.send(
            json.dumps({"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)}).encode()
        )


def _platform_gone(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main() -> None:
    _load_jail()
    if _jail is not None:  # outlive the platform just long enough to thaw and kill its environments
        signal.signal(signal.SIGTERM, _platform_gone)
        _die_with_parent(signal.SIGTERM)
    else:
        _die_with_parent()
    control = socket.socket(fileno=int(sys.argv[1]))
    started = time.perf_counter()
    preload()
    sys.stderr.write(f"zygote ready in {(time.perf_counter() - started) * 1000:.0f} ms\n")
    try:
        serve(control, int(os.environ.get("LAMBDABOX_ZYGOTE_SPARES", "2")))
    except SystemExit:  # the platform died (our parent-death signal)
        _release_environments()
        raise
    _release_environments()  # the platform closed the channel: it stopped or died


def _release_environments() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the channel's end and the death signal both come
    if _jail is not None:
        _jail.thaw_and_kill(_cgroup_parents)


if __name__ == "__main__":
    main()
