"""Per-function pools of execution environments: reuse warm ones, start more on demand, reap idle ones.

The pool knows nothing about what runs inside an environment; it starts, reuses and retires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Callable

from lambdabox.core.models import FunctionVersion, InvocationRequest, InvocationResult
from lambdabox.execution.environment import EnvironmentSpec, EnvState, ExecutionEnvironment
from lambdabox.execution.sandbox import Sandbox
from lambdabox.observability.logs import LogSink

SpecFactory = Callable[[FunctionVersion], EnvironmentSpec]
Key = tuple[str, str, str]  # function name, version, revision


def _key(version: FunctionVersion) -> Key:
    return (version.name, version.version, version.revision_id)


class EnvironmentPool:
    def __init__(
        self,
        spec_factory: SpecFactory,
        sandbox: Sandbox,
        sink: LogSink,
        idle_timeout: float,
        freeze_delay: float | None = None,
    ) -> None:
        self._spec_factory = spec_factory
        self._sandbox = sandbox
        self._sink = sink
        self._idle_timeout = idle_timeout
        self._freeze_delay = freeze_delay  # seconds an idle environment runs on before it is frozen
        self._idle: dict[Key, list[ExecutionEnvironment]] = defaultdict(list)
        self._all: set[ExecutionEnvironment] = set()
        # The revision each (function, version) runs now; environments of older revisions are not reused.
        self._current: dict[tuple[str, str], str] = {}
        self._reaper: asyncio.Task[None] | None = None
        self.cold_starts: dict[str, int] = defaultdict(int)

    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever())

    async def run(self, version: FunctionVersion, request: InvocationRequest) -> InvocationResult:
        """Run one invocation on a warm environment of `version`, or on a new one."""
        self._current[(version.name, version.version)] = version.revision_id
        env = self._take_idle(version)
        if env is None:
            env = ExecutionEnvironment(
                self._spec_factory(version), self._sandbox, self._sink, self._forget, self._freeze_delay
            )
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

    def _take_idle(self, version: FunctionVersion) -> ExecutionEnvironment | None:
        stack = self._idle.get(_key(version))
        while stack:
            env = stack.pop()
            if env.alive:
                return env
        return None

    def _forget(self, env: ExecutionEnvironment) -> None:
        self._all.discard(env)
        stack = self._idle.get(_key(env.version))
        if stack and env in stack:
            stack.remove(env)

    def retire(self, function_name: str) -> None:
        """Stop idle environments of `function_name` (its code or configuration changed, or it is gone)."""
        for current in [k for k in self._current if k[0] == function_name]:
            del self._current[current]
        for key in [k for k in self._idle if k[0] == function_name]:
            for env in self._idle.pop(key):
                env.kill()

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
            for env in [e for e in stack if e.last_used < cutoff and e.state in idle]:
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
