"""The environment state machine's use of isolation, with a fake process: freezing an idle environment
after a short delay, thawing it before an invocation is handed over, the CPU quota after init, and an
out-of-memory kill reported as Runtime.OutOfMemory."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from lambdabox.core.models import CodeRef, FunctionVersion, InvocationRequest
from lambdabox.execution.environment import EnvironmentSpec, EnvState, ExecutionEnvironment
from lambdabox.execution.sandbox import LaunchSpec
from lambdabox.observability.logs import LogSink


class FakeProcess:
    def __init__(self) -> None:
        self.pid = 4242
        read_fd, self._write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        self.output_fd = read_fd
        self.calls: list[str] = []
        self.oom = False
        self._callbacks: list[Callable[[int], None]] = []

    def kill(self) -> None:
        self.calls.append("kill")

    def exit(self, code: int) -> None:
        os.close(self._write_fd)
        for callback in self._callbacks:
            callback(code)

    def max_memory_mb(self) -> int:
        return 7

    def on_exit(self, callback: Callable[[int], None]) -> None:
        self._callbacks.append(callback)

    def end_init(self) -> None:
        self.calls.append("end_init")

    def freeze(self) -> bool:
        self.calls.append("freeze")
        return True

    def thaw(self) -> None:
        self.calls.append("thaw")

    def oom_killed(self) -> bool:
        return self.oom


class FakeSandbox:
    def __init__(self, process: FakeProcess) -> None:
        self.process = process

    async def start(self, spec: LaunchSpec) -> FakeProcess:
        return self.process


class MemoryLogStore:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def ensure_stream(self, group: str, stream: str) -> None:
        pass

    def append(self, batches: Mapping[tuple[str, str], Sequence[tuple[int, str]]]) -> None:
        for events in batches.values():
            self.lines.extend(message for _, message in events)


def _environment(process: FakeProcess, store: MemoryLogStore) -> ExecutionEnvironment:
    version = FunctionVersion(
        name="fn",
        version="$LATEST",
        code=CodeRef("k", "s", 1, 1),
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::000000000000:role/r",
        timeout=5,
    )
    spec = EnvironmentSpec(version, LaunchSpec(("bootstrap",), {}, Path("/"), 128), "us-east-1")
    sink = LogSink(store)  # type: ignore[arg-type]
    return ExecutionEnvironment(spec, FakeSandbox(process), sink, lambda env: None, freeze_delay=0.02)


def _request(request_id: str) -> InvocationRequest:
    return InvocationRequest(request_id, b"{}", "arn:aws:lambda:us-east-1:000000000000:function:fn")


async def _round(env: ExecutionEnvironment, request_id: str) -> Any:
    """One invocation as the runtime sees it: poll /next, answer it."""
    runtime = asyncio.ensure_future(env.next_invocation())
    result = asyncio.ensure_future(env.invoke(_request(request_id)))
    handed = await runtime
    assert env.state is EnvState.BUSY
    env.post_response(handed.request_id, b'"ok"', None)
    return await result


def test_idle_environment_is_frozen_lazily_and_thawed_before_hand_over() -> None:
    async def scenario() -> None:
        process = FakeProcess()
        env = _environment(process, MemoryLogStore())
        await env.start()
        await _round(env, "r1")
        assert process.calls == ["end_init"]  # init is over: the CPU quota applies
        assert env.state is EnvState.IDLE
        runtime = asyncio.ensure_future(env.next_invocation())  # the runtime waits for the next one
        await asyncio.sleep(0.05)
        assert env.state is EnvState.FROZEN
        assert process.calls == ["end_init", "freeze"]
        result = asyncio.ensure_future(env.invoke(_request("r2")))
        handed = await runtime
        assert process.calls == ["end_init", "freeze", "thaw"]
        env.post_response(handed.request_id, b"1", None)
        await result
        # back-to-back invocations inside the delay: neither freeze nor thaw
        await _round(env, "r3")
        await _round(env, "r4")
        assert process.calls == ["end_init", "freeze", "thaw"]
        env.kill()
        process.exit(-signal.SIGKILL)
        assert env.state is EnvState.DEAD
        await asyncio.sleep(0.05)
        assert "freeze" not in process.calls[3:]  # a dead environment's timer is cancelled

    asyncio.run(scenario())


def test_out_of_memory_kill_is_reported_as_such() -> None:
    async def scenario() -> None:
        process = FakeProcess()
        store = MemoryLogStore()
        env = _environment(process, store)
        await env.start()
        runtime = asyncio.ensure_future(env.next_invocation())
        result = asyncio.ensure_future(env.invoke(_request("r1")))
        await runtime
        process.oom = True
        process.exit(-signal.SIGKILL)
        answer = await result
        env._sink.flush()
        assert answer.error_type == "Runtime.OutOfMemory"
        assert orjson.loads(answer.payload) == {
            "errorType": "Runtime.OutOfMemory",
            "errorMessage": "RequestId: r1 Error: Runtime exited with error: signal: killed",
        }
        report = next(line for line in store.lines if line.startswith("REPORT"))
        assert report.endswith("Status: error\tError Type: Runtime.OutOfMemory\t\n")

    asyncio.run(scenario())
