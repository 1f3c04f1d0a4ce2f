"""Per-function pools of execution environments: reuse warm ones, start more on demand, reap idle ones.

The pool knows nothing about what runs inside an environment; it starts, reuses and retires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lambdabox.core.concurrency import throttled
from lambdabox.core.models import FunctionVersion, InvocationRequest, InvocationResult
from lambdabox.core.provisioned import Allocation, Target
from lambdabox.execution.admission import Admission
from lambdabox.execution.environment import EnvironmentSpec, EnvState, ExecutionEnvironment
from lambdabox.execution.sandbox import Sandbox
from lambdabox.execution.snapshots import Snapshots
from lambdabox.observability.logs import LogSink

SpecFactory = Callable[[FunctionVersion], EnvironmentSpec]
Key = tuple[str, str, str]  # function name, version, revision
STOP_WAIT = 2.0  # longest wait for an environment stopped to make room to be gone
PROVISION_WAIT = 60.0  # how long provisioned concurrency waits for room on the host before it fails
NO_ROOM = (
    "The host has no room for more execution environments (LAMBDABOX_MEMORY_RESERVE_MB, "
    "LAMBDABOX_MAX_ENVIRONMENTS)."
)


def _key(version: FunctionVersion) -> Key:
    return (version.name, version.version, version.revision_id)


@dataclass
class _Provisioned:
    """The environments kept initialized for one provisioned-concurrency target."""

    version: FunctionVersion
    count: int
    envs: set[ExecutionEnvironment] = field(default_factory=set)
    ready: set[ExecutionEnvironment] = field(default_factory=set)
    failure: str | None = None
    waiting_since: float | None = None  # loop time it started waiting for room on the host
    retry: asyncio.TimerHandle | None = None  # the next attempt to find room


def _credentials_last(env: ExecutionEnvironment, now: float) -> bool:
    """Will the environment's role credentials outlive an invocation started now (and a minute more)?"""
    expire = env.spec.credentials_expire
    return expire is None or expire - now > env.spec.version.timeout + 60


class EnvironmentPool:
    def __init__(
        self,
        spec_factory: SpecFactory,
        sandbox: Sandbox,
        sink: LogSink,
        idle_timeout: float,
        freeze_delay: float | None = None,
        admission: Admission | None = None,
        admission_wait: float = 0.5,
        snapshots: Snapshots | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._spec_factory = spec_factory
        self._clock = clock  # the platform clock, which role credentials expire by
        self._sandbox = sandbox
        self._sink = sink
        self._idle_timeout = idle_timeout
        self._freeze_delay = freeze_delay  # seconds an idle environment runs on before it is frozen
        self._admission = admission  # None: no limit but the host's own
        self._admission_wait = admission_wait  # seconds a cold start waits for room before it is throttled
        self._snapshots = snapshots  # SnapStart versions start environments from their template
        self._idle: dict[Key, list[ExecutionEnvironment]] = defaultdict(list)
        self._all: set[ExecutionEnvironment] = set()
        self._pending = 0  # environments admitted, not created yet
        # The revision each (function, version) runs now; environments of older revisions are not reused.
        self._current: dict[tuple[str, str], str] = {}
        self._reaper: asyncio.Task[None] | None = None
        self.cold_starts: dict[str, int] = defaultdict(int)
        self._provisioned: dict[Target, _Provisioned] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._reaper = self._loop.create_task(self._reap_forever())

    async def run(self, version: FunctionVersion, request: InvocationRequest) -> InvocationResult:
        """Run one invocation on a warm environment of `version`, or on a new one."""
        self._current[(version.name, version.version)] = version.revision_id
        env = self._take_idle(version)
        if env is None and self._admission is not None:
            env = await self._make_room(version)
        if env is None:
            self._pending += 1  # counted by admission while it waits (SnapStart: for its template)
            try:
                env = await self._new_environment(version)
            finally:
                self._pending -= 1
            self._all.add(env)
            self.cold_starts[version.name] += 1
            try:
                await env.start()
            except BaseException:
                self._all.discard(env)
                raise
        try:
            return await env.invoke(request)
        finally:
            if env.alive:
                if self._current.get((version.name, version.version)) == version.revision_id:
                    self._idle[_key(version)].append(env)
                else:  # the function changed while this environment was busy
                    env.kill()

    async def _new_environment(self, version: FunctionVersion) -> ExecutionEnvironment:
        spec, sandbox = self._spec_factory(version), self._sandbox
        if version.snapshotted and self._snapshots is not None:  # SnapStart: restore, don't initialize
            template = await self._snapshots.template(version)
            spec, sandbox = replace(spec, initialization_type="snap-start"), template
        return ExecutionEnvironment(spec, sandbox, self._sink, self._forget, self._freeze_delay)

    def _take_idle(self, version: FunctionVersion) -> ExecutionEnvironment | None:
        stack = self._idle.get(_key(version))
        while stack:
            env = stack.pop()
            if env.alive and _credentials_last(env, self._clock()):
                return env
            if env.alive:  # its role credentials would expire during the invocation: retire it
                env.kill()
        return None

    # -- admission control -----------------------------------------------------------------------------
    async def _make_room(self, version: FunctionVersion) -> ExecutionEnvironment | None:
        """Wait until one more environment fits (stopping idle ones to make room), or until an idle
        environment of `version` frees up (returned); throttle when neither happens in time."""
        assert self._admission is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._admission_wait
        while not self._admission.has_room(self._counted()):
            victim = self._least_recently_used()
            if victim is not None:
                await self._stop(victim, deadline)
                continue
            if loop.time() >= deadline:
                raise throttled("ConcurrentInvocationLimitExceeded")
            await asyncio.sleep(0.005)
            env = self._take_idle(version)
            if env is not None:
                return env
        return None

    def _counted(self) -> int:
        """Environments that count against the host's room: those that exist and those on their way."""
        return len(self._all) + self._pending

    def _least_recently_used(self) -> ExecutionEnvironment | None:
        idle = (EnvState.IDLE, EnvState.FROZEN)
        candidates = [
            env
            for stack in self._idle.values()
            for env in stack
            if env.state in idle and not self._is_provisioned(env)
        ]
        return min(candidates, key=lambda env: env.last_used, default=None)

    async def _stop(self, env: ExecutionEnvironment, deadline: float) -> None:
        """Stop an idle environment to make room, and wait (a little) until it is gone."""
        self._kill_if_idle(env)
        loop = asyncio.get_running_loop()
        give_up = max(deadline, loop.time() + STOP_WAIT)  # room is coming: wait for it
        while env in self._all and loop.time() < give_up:
            await asyncio.sleep(0.002)

    def _unstack(self, env: ExecutionEnvironment) -> None:
        """No longer offer `env` for reuse."""
        stack = self._idle.get(_key(env.version))
        if stack and env in stack:
            stack.remove(env)

    def _forget(self, env: ExecutionEnvironment) -> None:
        self._all.discard(env)
        self._unstack(env)
        for group in self._provisioned.values():
            if env in group.envs:
                group.envs.discard(env)
                if env not in group.ready:  # it died in its Init phase: the configuration failed
                    group.failure = "FUNCTION_ERROR_INIT_FAILURE"
                group.ready.discard(env)
                self._fill(group)

    # -- provisioned concurrency (core/provisioned.Provisioner) ----------------------------------------
    def provision(self, target: Target, version: FunctionVersion | None, count: int) -> None:
        """Keep `count` initialized environments of `version` for `target` (0 or None: none)."""
        if self._loop is None:
            return  # not started: core/provisioned.sync provisions everything at start
        self._loop.call_soon_threadsafe(self._provision, target, version, count)

    def _provision(self, target: Target, version: FunctionVersion | None, count: int) -> None:
        group = self._provisioned.get(target)
        if group is not None and (version is None or count <= 0 or _key(group.version) != _key(version)):
            self._release(self._provisioned.pop(target))
            group = None
        if version is None or count <= 0:
            return
        if group is None:
            group = self._provisioned[target] = _Provisioned(version, count)
        else:
            group.count = count
            group.failure = None
            for env in list(group.envs)[: max(0, len(group.envs) - count)]:
                group.envs.discard(env)
                group.ready.discard(env)
                self._kill_if_idle(env)
        self._fill(group)

    def _release(self, group: _Provisioned) -> None:
        for env in group.envs:
            self._kill_if_idle(env)  # a busy one finishes its invocation, then lives on as on-demand

    def _kill_if_idle(self, env: ExecutionEnvironment) -> None:
        if env.state in (EnvState.IDLE, EnvState.FROZEN, EnvState.STARTING):
            self._unstack(env)
            env.kill()

    def _fill(self, group: _Provisioned) -> None:
        if group.failure is not None or self._loop is None or group not in self._provisioned.values():
            return
        while len(group.envs) < group.count:
            if not self._room_for_provisioned(group):
                return
            spec = replace(self._spec_factory(group.version), initialization_type="provisioned-concurrency")
            env = ExecutionEnvironment(spec, self._sandbox, self._sink, self._forget, self._freeze_delay)
            env.on_ready = functools.partial(self._provisioned_ready, group)
            group.envs.add(env)
            self._all.add(env)
            self._loop.create_task(self._start_provisioned(env))

    def _room_for_provisioned(self, group: _Provisioned) -> bool:
        """Provisioned environments are admitted like on-demand ones. Without room, an idle on-demand
        environment makes way; the group stays IN_PROGRESS and tries again shortly, and fails once it has
        waited PROVISION_WAIT seconds without room."""
        assert self._loop is not None
        if self._admission is None or self._admission.has_room(self._counted()):
            group.waiting_since = None
            return True
        now = self._loop.time()
        if group.waiting_since is None:
            group.waiting_since = now
        elif now - group.waiting_since > PROVISION_WAIT:
            group.failure = NO_ROOM
            return False
        victim = self._least_recently_used()
        if victim is not None:
            self._kill_if_idle(victim)  # gone once its process has exited: then there is room
        if group.retry is None:
            group.retry = self._loop.call_later(0.02 if victim is not None else 0.5, self._retry_fill, group)
        return False

    def _retry_fill(self, group: _Provisioned) -> None:
        group.retry = None
        self._fill(group)

    async def _start_provisioned(self, env: ExecutionEnvironment) -> None:
        try:
            await env.start()
        except Exception:  # could not start a process: counted as an Init failure
            env.kill()

    def _provisioned_ready(self, group: _Provisioned, env: ExecutionEnvironment) -> None:
        group.ready.add(env)
        if env in group.envs:
            self._idle[_key(env.version)].append(env)

    def allocation(self, target: Target) -> Allocation:
        group = self._provisioned.get(target)
        if group is None:
            return Allocation()
        return Allocation(len(group.ready), group.failure)

    def targets(self) -> set[Target]:
        return set(self._provisioned)

    def _is_provisioned(self, env: ExecutionEnvironment) -> bool:
        return any(env in group.envs for group in self._provisioned.values())

    def retire(self, function_name: str) -> None:
        """Stop idle environments of `function_name` (its code or configuration changed, or it is gone)."""
        for current in [k for k in self._current if k[0] == function_name]:
            del self._current[current]
        for key in [k for k in self._idle if k[0] == function_name]:
            keep: list[ExecutionEnvironment] = []
            for env in self._idle.pop(key):
                # Provisioned ones run published versions, which do not change: core/provisioned.sync decides.
                if self._is_provisioned(env):
                    keep.append(env)
                else:
                    env.kill()
            if keep:
                self._idle[key] = keep

    def environments(self, function_name: str | None = None) -> list[ExecutionEnvironment]:
        return [e for e in self._all if function_name is None or e.version.name == function_name]

    async def _reap_forever(self) -> None:
        interval = max(0.5, min(30.0, self._idle_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            self.reap_idle()

    def reap_idle(self) -> None:
        cutoff = time.monotonic() - self._idle_timeout
        for key, stack in list(self._idle.items()):
            idle = (EnvState.IDLE, EnvState.FROZEN)
            expired = [e for e in stack if e.last_used < cutoff and e.state in idle]
            for env in [e for e in expired if not self._is_provisioned(e)]:
                stack.remove(env)
                env.kill()
            if not stack:
                self._idle.pop(key, None)

    async def shutdown(self, grace: float = 2.0) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for env in list(self._all):
            env.kill()
        deadline = time.monotonic() + grace
        while self._all and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
