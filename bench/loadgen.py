"""Load generators: a sequential keep-alive client for latency, wrk (or an asyncio fallback) for throughput.

All of them replay one pre-signed request and count as failed anything that is not a 2xx answer, a
connection/read/write error or timeout, or an answer that carries X-Amz-Function-Error.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import math
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from servers import HOST, nodelay_connection

WRK_INSTALL_HINT = "wrk is not installed: `apt-get install -y wrk` (the asyncio fallback is client-bound)"


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class LatencyResult:
    client: str
    count: int
    failures: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, client: str, seconds: list[float], failures: int) -> LatencyResult:
        values = sorted(s * 1000.0 for s in seconds)
        mean = sum(values) / len(values) if values else math.nan
        return cls(
            client,
            len(values),
            failures,
            percentile(values, 50),
            percentile(values, 99),
            mean,
            values[0] if values else math.nan,
            values[-1] if values else math.nan,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def sequential_http(
    port: int,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    count: int,
    max_seconds: float,
    expect: bytes | None,
) -> LatencyResult:
    """One client, one keep-alive connection with TCP_NODELAY, one request at a time."""
    timings: list[float] = []
    failures = 0
    conn = nodelay_connection(port)
    deadline = time.monotonic() + max_seconds
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=dict(headers))
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                failures += 1
                conn.close()
                conn = nodelay_connection(port)
                continue
            elapsed = time.perf_counter() - started
            ok = 200 <= response.status < 300 and response.getheader("X-Amz-Function-Error") is None
            if ok and (expect is None or data == expect):
                timings.append(elapsed)
            else:
                failures += 1
    finally:
        conn.close()
    return LatencyResult.of("http.client keep-alive, TCP_NODELAY", timings, failures)


def sequential_calls(call: Callable[[], bool], count: int, max_seconds: float, label: str) -> LatencyResult:
    """Time `call()` (returns True on success) sequentially, e.g. boto3's invoke."""
    timings: list[float] = []
    failures = 0
    deadline = time.monotonic() + max_seconds
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        try:
            ok = call()
        except Exception:
            ok = False
        elapsed = time.perf_counter() - started
        if ok:
            timings.append(elapsed)
        else:
            failures += 1
    return LatencyResult.of(label, timings, failures)


@dataclass
class ThroughputResult:
    tool: str
    connections: int
    threads: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "failed": self.failed}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"unexpected characters for a Lua string: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LUA_TAIL = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0; fnerr = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if headers["x-amz-function-error"] or headers["X-Amz-Function-Error"] then fnerr = fnerr + 1 end
end
function done(summary, latency, requests)
  local non2xx, fnerr = 0, 0
  for _, t in ipairs(threads) do non2xx = non2xx + t:get("non2xx"); fnerr = fnerr + t:get("fnerr") end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,'
    .. '"status":%d,"non2xx":%d,"function_error":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status, non2xx, fnerr,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_script(path: str, headers: Mapping[str, str], body: bytes) -> str:
    lines = [
        'wrk.method = "POST"',
        f"wrk.path = {_lua_string(path)}",
        f"wrk.body = {_lua_string(body.decode())}",
    ]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _LUA_TAIL


def run_wrk(
    port: int,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    connections: int,
    duration: float,
    script_path: Path,
) -> ThroughputResult:
    wrk = wrk_path()
    assert wrk is not None
    script_path.write_text(wrk_script(path, headers, body))
    threads = min(2, connections)
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s"]
    argv += ["-s", str(script_path), f"http://{HOST}:{port}{path}"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    marker = [line for line in completed.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if completed.returncode != 0 or not marker:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(marker[-1].removeprefix("BENCH-RESULT "))
    seconds = data["duration_us"] / 1e6
    # wrk's "status" counts answers >= 400; "non2xx" (from the response hook) counts everything else too.
    errors = {k: int(data[k]) for k in ("connect", "read", "write", "timeout", "non2xx", "function_error")}
    return ThroughputResult(
        "wrk",
        connections,
        threads,
        seconds,
        int(data["requests"]),
        data["requests"] / seconds if seconds else 0.0,
        data["p50_us"] / 1000.0,
        data["p99_us"] / 1000.0,
        errors,
    )


# -- fallback when wrk is not installed ---------------------------------------------------------------
async def _client(
    port: int, raw: bytes, deadline: float, timings: list[float], errors: dict[str, int]
) -> None:
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        errors["connect"] += 1
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(raw)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            fields = {
                k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            }
            await reader.readexactly(int(fields.get("content-length", "0")))
            timings.append(time.perf_counter() - started)
            if not 200 <= status < 300:
                errors["non2xx"] += 1
            if "x-amz-function-error" in fields:
                errors["function_error"] += 1
    except TimeoutError:
        errors["timeout"] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        errors["read"] += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _fallback(
    port: int, raw: bytes, connections: int, duration: float
) -> tuple[list[float], dict[str, int], float]:
    timings: list[float] = []
    errors = dict.fromkeys(("connect", "read", "write", "timeout", "non2xx", "function_error"), 0)
    started = time.perf_counter()
    deadline = time.monotonic() + duration
    await asyncio.gather(*(_client(port, raw, deadline, timings, errors) for _ in range(connections)))
    return timings, errors, time.perf_counter() - started


def run_fallback(
    port: int, path: str, headers: Mapping[str, str], body: bytes, connections: int, duration: float
) -> ThroughputResult:
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
    runner: Callable[..., Any] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        runner = uvloop.run
    timings, errors, seconds = runner(_fallback(port, raw, connections, duration))
    values = sorted(t * 1000.0 for t in timings)
    return ThroughputResult(
        "asyncio fallback (install wrk!)",
        connections,
        1,
        seconds,
        len(values),
        len(values) / seconds if seconds else 0.0,
        percentile(values, 50),
        percentile(values, 99),
        errors,
    )


def throughput(
    port: int,
    path: str,
    headers: dict[str, str],
    body: bytes,
    connections: int,
    seconds: float,
    script: Path,
    use_wrk: bool,
) -> ThroughputResult:
    """Requests/s at `connections`: wrk when it is used, else the asyncio fallback."""
    if use_wrk:
        return run_wrk(port, path, headers, body, connections, seconds, script)
    return run_fallback(port, path, headers, body, connections, seconds)
