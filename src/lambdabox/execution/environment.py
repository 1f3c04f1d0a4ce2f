"""One execution environment: a runtime process, its Runtime API endpoint, its log stream.

Lifecycle (explicit state machine):
    STARTING --first /next--> IDLE --invoke--> BUSY --response/error--> IDLE
    IDLE --idle for `freeze_delay`--> FROZEN --invoke (thaw, then hand over)--> BUSY
    any --timeout / crash / out of memory / init failure / kill--> DEAD
The environment, not the function, enforces the timeout: it kills the process group when time is up.
An idle environment is frozen (cgroup freezer) like AWS freezes it after a response, lazily: a short
delay keeps back-to-back invocations from paying a freeze and a thaw each.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import shutil
import signal
import time
import uuid
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson

from lambdabox.api.runtime.server import NextInvocation, RuntimeApiError, RuntimeApiServer
from lambdabox.core.models import FunctionVersion, InvocationRequest, InvocationResult
from lambdabox.execution import peers
from lambdabox.execution.sandbox import LaunchSpec, Sandbox, SandboxProcess
from lambdabox.observability import logs
from lambdabox.observability.logs import LogSink

INIT_LIMIT_S = 10.0
TAIL_BYTES = 4096


class EnvState(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    FROZEN = "frozen"
    BUSY = "busy"
    DEAD = "dead"


@dataclass
class _Invocation:
    request: InvocationRequest
    future: asyncio.Future[InvocationResult]
    submitted: float
    handed_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    tail: list[str] = field(default_factory=list)
    started_logged: bool = False


@dataclass(frozen=True)
class EnvironmentSpec:
    """Everything needed to start one environment of one function version."""

    version: FunctionVersion
    launch: LaunchSpec  # argv/env/cwd without the per-environment values below
    region: str
    tmp_dir: Path | None = None  # the environment's private temp directory, removed when it dies
    initialization_type: str = "on-demand"
    credentials_expire: float | None = None  # when its role credentials expire (epoch seconds)
    entrypoint_error: str | None = None  # it cannot start (no bootstrap): invocations fail, as on AWS


class ExecutionEnvironment:
    def __init__(
        self,
        spec: EnvironmentSpec,
        sandbox: Sandbox,
        sink: LogSink,
        on_dead: Callable[[ExecutionEnvironment], None],
        freeze_delay: float | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        # Made on the event loop, for it: bound once (each asyncio.get_running_loop() costs a getpid()).
        self._loop = asyncio.get_running_loop()
        self.spec = spec
        self.version = spec.version
        self.state = EnvState.STARTING
        self.log_group = spec.version.log_group
        self.log_stream = logs.stream_name(spec.version.version)
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self.init_error: str | None = None  # the error type Init failed with, if it did
        # SnapStart: a template runs Init once and serves restores; a restored environment skips Init.
        self.template = spec.launch.snapshot_channel is not None
        self.restored = spec.initialization_type == "snap-start" and not self.template
        self._report_restore = self.restored
        self._sandbox = sandbox
        self._sink = sink
        self._on_dead = on_dead
        self._server = RuntimeApiServer(self, admit=self._admits)
        self._process: SandboxProcess | None = None
        self._spawned_at = 0.0
        self._active: _Invocation | None = None
        self._waiter: asyncio.Future[NextInvocation] | None = None
        self._partial = b""
        self._init_timer: asyncio.TimerHandle | None = None
        # Provisioned and SnapStart environments initialize ahead of invocations: no Init Duration.
        self._report_init = spec.initialization_type == "on-demand"
        self.on_ready: Callable[[ExecutionEnvironment], None] | None = None  # called once Init is done
        self._closed = False
        self._freeze_delay = freeze_delay
        self._freeze_timer: asyncio.TimerHandle | None = None
        self._idle_since = 0.0  # loop time the environment last went idle

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        endpoint = await self._server.start()
        launch = self.spec.launch
        env = dict(launch.env)
        env["AWS_LAMBDA_RUNTIME_API"] = endpoint
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = self.log_stream
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = self.spec.initialization_type
        if self.spec.entrypoint_error is None:  # (else nothing to run: the invocation fails, `invoke`)
            self._spawned_at = time.perf_counter()
            try:
                self._process = await self._sandbox.start(replace(launch, env=env))
            except OSError as exc:
                self._server.close()
                self.state = EnvState.DEAD
                raise RuntimeError(f"could not start the runtime: {exc}") from exc
        # While the runtime starts: its log stream, whose first line this is (its output is read, and
        # its Runtime API connection admitted, only once it is known, after this).
        self._sink.open_stream(self.log_group, self.log_stream)
        phase = "RESTORE_START" if self.restored else "INIT_START"
        self._log(logs.init_start_line(self.version.runtime, self.spec.region, phase))
        if self._process is None:
            return
        self._server.admit_waiting()  # its runtime may have connected already
        loop = self._loop
        loop.add_reader(self._process.output_fd, self._read_output)
        self._process.on_exit(self._exited)
        self._init_timer = loop.call_later(INIT_LIMIT_S + self.version.timeout, self._init_timed_out)

    def kill(self) -> None:
        if self._process is not None and self.state is not EnvState.DEAD:
            self._process.kill()
        elif self._process is None:
            self._die()

    @property
    def alive(self) -> bool:
        return self.state is not EnvState.DEAD

    def _admits(self, client_port: int) -> bool | None:
        """Only this environment's own processes may use its Runtime API (any local process could
        connect to its port): the client socket must belong to one of them. None: not known yet."""
        process = self._process
        if process is None:
            return None if self.state is EnvState.STARTING else False
        pids = process.pids()
        if pids is None:
            return True  # not isolated: nothing to enforce
        inode = peers.client_socket_inode(client_port, self._server.port)
        return inode is not None and peers.owns_socket(pids, inode)

    # -- freezing --------------------------------------------------------------------------------------
    def _went_idle(self) -> None:
        """Freeze after `freeze_delay` of idleness. One timer serves many invocations: it is armed when
        none is pending and, firing early (the environment was busy meanwhile), re-armed for the rest of
        the delay, instead of being cancelled and re-created by every invocation."""
        if self._freeze_delay is None or self.state is not EnvState.IDLE:
            return
        loop = self._loop
        self._idle_since = loop.time()
        if self._freeze_timer is None:
            self._freeze_timer = loop.call_later(self._freeze_delay, self._freeze)

    def _cancel_freeze(self) -> None:
        if self._freeze_timer is not None:
            self._freeze_timer.cancel()
            self._freeze_timer = None

    def _freeze(self) -> None:
        self._freeze_timer = None
        if self.state is not EnvState.IDLE or self._active is not None or self._process is None:
            return  # busy (or gone): going idle again arms a new timer
        assert self._freeze_delay is not None
        loop = self._loop
        rest = self._idle_since + self._freeze_delay - loop.time()
        if rest > 0.001:  # it was busy in between: idle for less than the delay so far
            self._freeze_timer = loop.call_later(rest, self._freeze)
            return
        try:
            if self._process.freeze():
                self.state = EnvState.FROZEN
        except OSError:  # it is exiting, or its cgroup is gone: it stays idle (or dies)
            return

    def _thaw(self) -> None:
        if self.state is EnvState.FROZEN:
            assert self._process is not None
            self._process.thaw()
            self.state = EnvState.IDLE

    # -- invoking --------------------------------------------------------------------------------------
    async def invoke(self, request: InvocationRequest) -> InvocationResult:
        assert self._active is None and self.state in (EnvState.STARTING, EnvState.IDLE, EnvState.FROZEN)
        self._thaw()
        future: asyncio.Future[InvocationResult] = self._loop.create_future()
        self._active = _Invocation(request, future, time.perf_counter())
        if self.spec.entrypoint_error is not None:
            self._cannot_start(self._active, self.spec.entrypoint_error)
        elif self._waiter is not None and not self._waiter.done():  # the runtime is already polling /next
            self._waiter.set_result(self._hand_over())
        try:
            return await future
        finally:
            self.last_used = time.monotonic()

    def _hand_over(self) -> NextInvocation:
        active = self._active
        assert active is not None
        self.state = EnvState.BUSY
        active.handed_at = time.perf_counter()
        timeout = self.version.timeout
        active.timer = self._loop.call_later(timeout, self._timed_out, active)
        request = active.request
        self._log(logs.start_line(request.request_id, self.version.version))
        active.started_logged = True
        return NextInvocation(
            request_id=request.request_id,
            deadline_ms=int(time.time() * 1000 + timeout * 1000),
            invoked_arn=request.invoked_arn,
            payload=request.payload,
            trace_id=request.trace_id,
            client_context=request.client_context,
            cognito_identity=request.cognito_identity,
            content_type=request.content_type,
        )

    # -- RuntimeBackend (called by the Runtime API server) ---------------------------------------------
    async def next_invocation(self) -> NextInvocation:
        if self.state is EnvState.DEAD:
            raise RuntimeApiError(500, "Runtime.ExitError", "The environment is shutting down")
        if self.state is EnvState.STARTING:
            self._initialized()
            if self.restored:
                self._log(logs.restore_report_line(self.init_duration_ms or 0.0))
            if self._process is not None:
                self._process.end_init()
        if self._active is not None and self._active.handed_at is None:
            return self._hand_over()
        self._waiter = self._loop.create_future()
        return await self._waiter

    def _current(self, request_id: str) -> _Invocation:
        active = self._active
        if active is None or active.handed_at is None or active.request.request_id != request_id:
            raise RuntimeApiError(400, "InvalidRequestID", f"Invalid request ID: {request_id!r}")
        return active

    def post_response(self, request_id: str, body: bytes, content_type: str | None) -> None:
        active = self._current(request_id)
        self._finish(active, body, None, content_type or "application/json")

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> None:
        active = self._current(request_id)
        error_type = error_type or _error_type_in(body)  # awslambdaric sends it in the body only
        self._finish(active, body or _error_body(error_type, ""), error_type)

    def open_stream(self, request_id: str, content_type: str | None) -> bool:
        stream = self._current(request_id).request.response_stream
        if stream is None:
            return False
        stream.open(content_type)
        return True

    def stream_chunk(self, request_id: str, chunk: bytes) -> None:
        active = self._active
        if active is not None and active.request.request_id == request_id:
            stream = active.request.response_stream
            if stream is not None:
                stream.write(chunk)

    def end_stream(self, request_id: str, error_type: str | None, error_body: bytes) -> None:
        active = self._current(request_id)
        stream = active.request.response_stream
        if stream is not None and stream.size > stream.limit:
            error_type = "Function.ResponseSizeTooLarge"
            error_body = _error_body(
                error_type,
                f"Response payload size exceeded maximum allowed payload size ({stream.limit} bytes).",
            )
        elif error_type is not None:
            with contextlib.suppress(ValueError):  # the trailer carries the error document in base64
                error_body = b64decode(error_body, validate=True)
            error_body = error_body or _error_body(error_type, "")
        self._finish(active, error_body if error_type else b"", error_type)

    def restore_next(self) -> None:
        """SnapStart template: Init and the before-snapshot hooks are done; restores may start."""
        if not self.template or self.state is not EnvState.STARTING:
            raise RuntimeApiError(
                403, "InvalidStateTransition", "State transition from Ready to RestoreReady failed"
            )
        self._initialized()  # never invoked, frozen or CPU-limited: it serves restores

    def _initialized(self) -> None:
        """STARTING -> IDLE: Init (or a restore) is over."""
        self.init_duration_ms = (time.perf_counter() - self._spawned_at) * 1000
        if self._init_timer is not None:
            self._init_timer.cancel()
        self.state = EnvState.IDLE
        if self.on_ready is not None:
            self.on_ready(self)

    def post_restore_error(self, body: bytes, error_type: str | None) -> None:
        if not self.restored:
            raise RuntimeApiError(403, "InvalidStateTransition", "Restore error reported outside a restore")
        self.post_init_error(body, error_type or "Runtime.AfterRestoreError")

    def post_init_error(self, body: bytes, error_type: str | None) -> None:
        if self.state is not EnvState.STARTING:
            raise RuntimeApiError(403, "InvalidStateTransition", "Init error reported after init completed")
        self.init_error = error_type or "Runtime.Unknown"
        active = self._active
        self.state = EnvState.DEAD
        if active is not None:
            self._finish(
                active,
                body or _error_body(error_type or "Runtime.Unknown", ""),
                error_type or "Runtime.Unknown",
            )

    # -- completion ------------------------------------------------------------------------------------
    def _finish(
        self,
        active: _Invocation,
        payload: bytes,
        error_type: str | None,
        content_type: str = "application/json",
        status: str | None = None,
    ) -> None:
        if active.future.done():
            return
        if active.request.response_stream is not None:
            active.request.response_stream.close(error_type, payload if error_type else b"")
        self._drain()
        if active.timer is not None:
            active.timer.cancel()
        now = time.perf_counter()
        duration_ms = (now - (active.handed_at or active.submitted)) * 1000
        request_id = active.request.request_id
        if not active.started_logged:
            self._log(logs.start_line(request_id, self.version.version))
        if (
            status is None
            and error_type is not None
            and (error_type.startswith("Runtime.") or active.handed_at is None)
        ):
            status = "error"
        self._log(logs.end_line(request_id))
        memory = self._process.max_memory_mb() if self._process is not None else 0
        init = self.init_duration_ms if self._report_init else None
        restore = self.init_duration_ms if self._report_restore else None
        self._report_init = self._report_restore = False
        self._log(
            logs.report_line(
                request_id,
                duration_ms,
                self.version.memory_size,
                memory,
                init,
                status,
                error_type if status == "error" else None,
                restore,
            )
        )
        tail = None
        if active.request.tail_logs:
            text = "".join(active.tail).encode()
            tail = b64encode(text[-TAIL_BYTES:]).decode()
        self._active = None
        if self.state is EnvState.BUSY:
            self.state = EnvState.IDLE
            self._went_idle()
        active.future.set_result(
            InvocationResult(
                request_id=request_id,
                payload=payload,
                executed_version=self.version.version,
                function_error="Unhandled" if error_type is not None else None,
                error_type=error_type,
                log_tail=tail,
                content_type=content_type,
            )
        )

    def _timed_out(self, active: _Invocation) -> None:
        if active is not self._active or active.future.done():
            return
        timeout = float(self.version.timeout)
        request_id = active.request.request_id
        self._drain()
        self._log(logs.timeout_line(request_id, timeout))
        message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
        self.state = EnvState.DEAD
        self._finish(active, _error_body("Sandbox.Timedout", message), "Sandbox.Timedout", status="timeout")
        self.kill()

    def _cannot_start(self, active: _Invocation, reason: str) -> None:
        """AWS's answer when the runtime cannot even be started: a function error, in the log too."""
        request_id = active.request.request_id
        message = f"RequestId: {request_id} Error: {reason}"
        self._log(logs.start_line(request_id, self.version.version))
        active.started_logged = True
        self._log(f"{message}\n")
        self._log("Runtime.InvalidEntrypoint\n")
        self.state = EnvState.DEAD
        self._finish(active, _error_body("Runtime.InvalidEntrypoint", message), "Runtime.InvalidEntrypoint")
        self._die()

    def _init_timed_out(self) -> None:
        if self.state is EnvState.STARTING and self._active is not None:
            self._timed_out(self._active)

    def _exited(self, returncode: int) -> None:
        self._drain()
        active = self._active
        if active is not None and not active.future.done():
            request_id = active.request.request_id
            reason = (
                "Runtime exited without providing a reason"
                if returncode == 0
                else f"Runtime exited with error: {_exit_text(returncode)}"
            )
            oom = self._process is not None and self._process.oom_killed()
            error_type = "Runtime.OutOfMemory" if oom else "Runtime.ExitError"
            self.state = EnvState.DEAD
            self._finish(
                active, _error_body(error_type, f"RequestId: {request_id} Error: {reason}"), error_type
            )
        self._die()

    def _die(self) -> None:
        self.state = EnvState.DEAD
        if self._closed:
            return
        self._closed = True
        self._cancel_freeze()
        if self._init_timer is not None:
            self._init_timer.cancel()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
        self._server.close()
        if self._process is not None and self._process.output_fd >= 0:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._process.output_fd)
            with contextlib.suppress(OSError):
                os.close(self._process.output_fd)
            self._process.output_fd = -1
        self._sink.flush()
        if self.spec.tmp_dir is not None:
            shutil.rmtree(self.spec.tmp_dir, ignore_errors=True)
        self._on_dead(self)

    # -- logs ------------------------------------------------------------------------------------------
    def _log(self, text: str) -> None:
        self._sink.emit(self.log_group, self.log_stream, text)
        if self._active is not None and self._active.request.tail_logs:
            self._active.tail.append(text)

    def _read_output(self) -> None:
        if self._drain():  # end of file: the process (and all it started) closed its output
            process = self._process
            if process is not None and process.output_fd >= 0:
                asyncio.get_running_loop().remove_reader(process.output_fd)

    def _drain(self) -> bool:
        """Read everything the process has written so far; complete lines become log events.

        Returns True at end of file."""
        process = self._process
        if process is None or process.output_fd < 0:
            return True
        chunks = [self._partial]
        eof = False
        while True:
            try:
                chunk = os.read(process.output_fd, 65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                eof = True
                break
            if not chunk:
                eof = True
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        if not data:
            return eof
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._log(line.decode("utf-8", "replace") + "\n")
        if len(self._partial) > 256 * 1024:  # a runaway line without newline: cut it
            self._log(self._partial.decode("utf-8", "replace"))
            self._partial = b""
        return eof


def _error_type_in(body: bytes) -> str:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "Runtime.Unknown"
    error_type = document.get("errorType") if isinstance(document, dict) else None
    return error_type if isinstance(error_type, str) and error_type else "Runtime.Unknown"


def _error_body(error_type: str, message: str) -> bytes:
    return orjson.dumps({"errorType": error_type, "errorMessage": message})


# How AWS's runtime manager (Go) names the signals that end runtimes most often.
_SIGNAL_TEXT: dict[int, str] = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
}


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        return f"signal: {_SIGNAL_TEXT.get(-returncode, f'signal {-returncode}')}"
    return f"exit status {returncode}"
