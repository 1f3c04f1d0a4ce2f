"""Platform log lines in AWS's exact shapes, and a buffered sink into the log store."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime

from lambdabox.storage.interfaces import LogStore


def stream_name(version: str) -> str:
    """`YYYY/MM/DD/[<version>]<32 hex>`: one log stream per execution environment."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[{version}]{secrets.token_hex(16)}"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_size: int,
    max_memory_used: int,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
    restore_duration_ms: float | None = None,
) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_size} MB\t"
        f"Max Memory Used: {max_memory_used} MB\t"
    )
    if init_duration_ms is not None:
        line += f"Init Duration: {init_duration_ms:.2f} ms\t"
    if restore_duration_ms is not None:  # SnapStart: the environment was restored, not initialized
        line += (
            f"Restore Duration: {restore_duration_ms:.2f} ms\t"
            f"Billed Restore Duration: {billed_ms(restore_duration_ms)} ms\t"
        )
    if status is not None:
        line += f"Status: {status}\t"
        if error_type is not None:
            line += f"Error Type: {error_type}\t"
    return line + "\n"


def init_start_line(runtime: str, region: str, phase: str = "INIT_START") -> str:
    """The first line of an environment's stream (`RESTORE_START` when SnapStart restored it)."""
    family, _, number = runtime.partition("python")
    version_name = f"python:{number}" if family == "" and number else runtime
    return (
        f"{phase} Runtime Version: {version_name}.lambdabox\t"
        f"Runtime Version ARN: arn:aws:lambda:{region}::runtime:lambdabox-{runtime}\n"
    )


def restore_report_line(restore_duration_ms: float) -> str:
    return f"RESTORE_REPORT Restore Duration: {restore_duration_ms:.2f} ms\n"


def timeout_line(request_id: str, timeout_s: float) -> str:
    stamp = datetime.now(UTC)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z {request_id} Task timed out after {timeout_s:.2f} seconds\n"


def billed_ms(duration_ms: float) -> int:
    return max(1, math.ceil(duration_ms))


class LogSink:
    """Collects log events and writes them to the store in batches (at most every `interval` s)."""

    def __init__(self, store: LogStore, interval: float = 0.05) -> None:
        self._store = store
        self._interval = interval
        self._pending: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        self._scheduled: asyncio.TimerHandle | None = None

    def open_stream(self, group: str, stream: str) -> None:
        self._store.ensure_stream(group, stream)

    def emit(self, group: str, stream: str, message: str, timestamp_ms: int | None = None) -> None:
        self._pending[(group, stream)].append((timestamp_ms or int(time.time() * 1000), message))
        if self._scheduled is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._scheduled = loop.call_later(self._interval, self.flush)

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        pending, self._pending = self._pending, defaultdict(list)
        if pending:
            self._store.append(pending)
