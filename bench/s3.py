"""S3 benchmarks: small-object operations/s and large-object MB/s against moto's S3 server, and the delay
from a PUT to the start of the Lambda handler its ObjectCreated notification invokes.

Every figure stands beside a baseline measured in the same run:

- small objects (1 KiB PUT, then GET): several client threads, each with its own boto3 client, for a
  bounded time and count; baseline: moto's S3 server (`python -m moto.server`), started here too;
- large objects (100 MB, 50 MB in --quick): boto3 single-part `put_object` streaming from a file and
  `get_object` streamed back, against both servers; plus the raw disk write speed of the file system that
  holds Lambdabox's data dir (the same bytes, 1 MiB writes, fsync at the end);
- PUT -> handler start: a function notified on `s3:ObjectCreated:*` prints `time.time()` at its
  first line; the start times are read back through the CloudWatch Logs API (FilterLogEvents), never
  from files. Baseline: the warm synchronous boto3 `invoke` latency of the same function.

All requests to Lambdabox are SigV4-signed by boto3 with the bench's root keys; everything runs on
127.0.0.1. See docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import math
import os
import random
import re
import statistics
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

import loadgen
import servers
from loadgen import percentile

# Targets from the issue "S3-compatible object storage with event notifications".
TARGET_SMALL_OPS_RATIO = 3.0  # small-object operations/s vs moto's S3 server
TARGET_UPLOAD_DISK_FRACTION = 0.5  # large-object upload MB/s vs the raw disk write speed
TARGET_NOTIFY_P50_MS = 5.0  # handler start - PUT response received, p50

MOTO_INSTALL_HINT = "moto is not installed: `.venv/bin/pip install -e '.[dev]'` (moto[server] is a dev extra)"
SMALL_SIZE = 1024
BLOCK = 1 << 20  # large objects are written, uploaded and checked in 1 MiB blocks
BUCKET = "bench-s3"
NOTIFY_BUCKET = "bench-s3-notify"
NOTIFY_FUNCTION = "bench-s3-notify"
ACCOUNT = "000000000000"
NOTIFY_SOURCE = """\
import time


def handler(event, context):
    started = time.time()
    for record in event.get("Records", ()):
        print(f"bench-start key={record['s3']['object']['key']} t={started!r}")
"""
_START = re.compile(r"bench-start key=(\S+) t=([0-9.]+)")


@dataclass(frozen=True)
class S3Plan:
    threads: int
    small_seconds: float  # per operation and server, split into small_rounds alternating rounds
    small_rounds: int
    small_max_ops: int  # per thread and round
    wrk_seconds: int
    wrk_warmup_seconds: int
    large_mb: int
    large_rounds: int
    notify_puts: int
    notify_gap_s: float
    invoke_calls: int


FULL = S3Plan(8, 4.0, 2, 20_000, 3, 1, 100, 3, 100, 0.05, 200)
QUICK = S3Plan(8, 1.0, 2, 10_000, 1, 0, 50, 2, 40, 0.05, 60)


@dataclass(frozen=True)
class Endpoint:
    name: str
    port: int
    pid: int


def client(service: str, port: int) -> Any:
    """A boto3 client for 127.0.0.1:port with the bench's root keys (SigV4), path-style S3, no retries."""
    return boto3.session.Session().client(
        service,
        endpoint_url=f"http://{servers.HOST}:{port}",
        region_name=servers.REGION,
        aws_access_key_id=servers.ACCESS_KEY,
        aws_secret_access_key=servers.SECRET_KEY,
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},  # a failed call is never retried
            read_timeout=60,
            tcp_keepalive=True,
            s3={"addressing_style": "path"},
        ),
    )


def start_moto(work: Path) -> tuple[servers.ManagedProcess, int] | None:
    """moto's S3 server (`python -m moto.server`) on a free 127.0.0.1 port; None if moto is missing."""
    if importlib.util.find_spec("moto") is None:
        print(f"NOTE: {MOTO_INSTALL_HINT}; the S3 baselines are skipped.")
        return None
    port = servers.free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", servers.HOST, "-p", str(port)]
    process = servers.ManagedProcess("moto server", argv, os.environ, work / "moto.log")
    try:
        process.wait_http(port, "/moto-api/", None)
    except BaseException:
        process.stop()
        raise
    return process, port


def _cpu_s(pid: int) -> float:
    return sum(servers.cpu_split(pid).values())


def _quoted_md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


# -- rounds -------------------------------------------------------------------------------------------
# Lambdabox and moto are measured in alternating rounds (L M, then M L, ...) so that a burst of load from
# elsewhere on this shared machine does not land on one of them only.
@dataclass
class Samples:
    """What the rounds of one measurement of one server added up to."""

    rounds: int = 0
    seconds: float = 0.0
    timings: list[float] = field(default_factory=list)  # seconds: per successful call, or per round
    failures: int = 0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 5:
            self.errors.append(text[:200])


def _order(targets: list[Endpoint], round_index: int) -> list[Endpoint]:
    return targets if round_index % 2 == 0 else targets[::-1]


# -- small objects --------------------------------------------------------------------------------------
def _ops_round(
    samples: Samples,
    clients: list[Any],
    work: Callable[[Any, int, int], bool],
    seconds: float,
    max_ops: int,
    pid: int,
) -> None:
    """Every thread calls work(client, thread, i) until the deadline or max_ops; True means success."""
    timings: list[list[float]] = [[] for _ in clients]
    failures = [0] * len(clients)
    barrier = threading.Barrier(len(clients) + 1)
    deadline = [math.inf]

    def loop(index: int) -> None:
        barrier.wait()
        own = timings[index]
        for i in range(max_ops):
            if time.monotonic() > deadline[0]:
                break
            started = time.perf_counter()
            try:
                ok = work(clients[index], index, i)
            except Exception as error:
                ok = False
                samples.error(f"{type(error).__name__}: {error}")
            if ok:
                own.append(time.perf_counter() - started)
            else:
                failures[index] += 1

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    cpu_before, client_before = _cpu_s(pid), time.process_time()
    started = time.perf_counter()
    deadline[0] = time.monotonic() + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    samples.rounds += 1
    samples.seconds += time.perf_counter() - started
    samples.server_cpu_s += _cpu_s(pid) - cpu_before
    samples.client_cpu_s += time.process_time() - client_before
    samples.timings.extend(t for own in timings for t in own)
    samples.failures += sum(failures) + sum(1 for t in threads if t.is_alive())


class SmallObjects:
    """1 KiB PutObject and GetObject from `threads` threads, each with its own boto3 client."""

    def __init__(self, plan: S3Plan, target: Endpoint) -> None:
        self.plan, self.target = plan, target
        self.body = os.urandom(SMALL_SIZE)
        self.etag = _quoted_md5(self.body)
        self.clients = [client("s3", target.port) for _ in range(plan.threads)]
        with contextlib.suppress(self.clients[0].exceptions.BucketAlreadyOwnedByYou):
            self.clients[0].create_bucket(Bucket=BUCKET)
        self.written = [0] * plan.threads  # keys small/<thread>/<i> for i < written[thread] exist
        self.results = {"put": Samples(), "get": Samples()}
        # warm-up: connections open, each thread's first keys exist, the server's code paths are warm
        _ops_round(Samples(), self.clients, self._put, 10.0, 10, target.pid)
        _ops_round(Samples(), self.clients, self._get, 10.0, 10, target.pid)

    def _put(self, s3: Any, thread: int, i: int) -> bool:
        response = s3.put_object(Bucket=BUCKET, Key=f"small/{thread}/{i}", Body=self.body)
        self.written[thread] = max(self.written[thread], i + 1)
        return bool(response["ETag"] == self.etag)

    def _get(self, s3: Any, thread: int, i: int) -> bool:
        response = s3.get_object(Bucket=BUCKET, Key=f"small/{thread}/{i % self.written[thread]}")
        return bool(response["Body"].read() == self.body)

    def round(self, op: str, seconds: float) -> None:
        work = self._put if op == "put" else self._get
        _ops_round(self.results[op], self.clients, work, seconds, self.plan.small_max_ops, self.target.pid)

    def close(self) -> dict[str, Any]:
        for s3 in self.clients:
            s3.close()
        out: dict[str, Any] = {}
        for op, samples in self.results.items():
            values = sorted(t * 1000.0 for t in samples.timings)
            ops = len(values)
            per_op = 1e6 / ops if ops else math.nan
            out[op] = {
                "operation": "PutObject" if op == "put" else "GetObject",
                "threads": self.plan.threads,
                "rounds": samples.rounds,
                "seconds": round(samples.seconds, 3),
                "ops": ops,
                "ops_per_s": ops / samples.seconds if samples.seconds else 0.0,
                "failures": samples.failures,
                "p50_ms": percentile(values, 50),
                "p99_ms": percentile(values, 99),
                "server_cpu_us_per_op": round(samples.server_cpu_s * per_op, 1),
                "client_cpu_us_per_op": round(samples.client_cpu_s * per_op, 1),
                "errors": samples.errors,
            }
        return out


def small_objects(plan: S3Plan, targets: list[Endpoint]) -> dict[str, Any]:
    benches = {t.name: SmallObjects(plan, t) for t in targets}
    seconds = plan.small_seconds / plan.small_rounds
    for op in ("put", "get"):
        for index in range(plan.small_rounds):
            for t in _order(targets, index):
                benches[t.name].round(op, seconds)
    return {name: bench.close() for name, bench in benches.items()}


# -- small objects with a light client (wrk) ------------------------------------------------------------
# boto3 costs more CPU per call than the Lambdabox server spends on a GET, and it shares the two cores with
# the server: the boto3 figures above compress the ratio. wrk (C) replays pre-signed requests instead, so
# this measures what the servers can do. PUTs go to fresh keys (WRK_PUT_KEYS of them, cycled through);
# GETs read WRK_GET_KEYS objects written by boto3 beforehand. wrk checks status codes only (the boto3
# rounds compare bodies; one object of each kind is compared afterwards).
WRK_PUT_KEYS = 4096
WRK_GET_KEYS = 64

_WRK_LUA = """
local threads, count = {}, 0
function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
  requests = {}
  local body = %(body)s
  for line in io.lines(%(requests)s) do
    local path, headers = nil, {}
    for item in string.gmatch(line, "[^\\t]+") do
      if path == nil then
        path = item
      else
        local name, value = string.match(item, "^([^:]+): (.*)$")
        headers[name] = value
      end
    end
    table.insert(requests, wrk.format(%(method)s, path, headers, body))
  end
  index = id
end
function request()
  local r = requests[index %% #requests + 1]
  index = index + %(step)d
  return r
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, reqs)
  local non2xx = 0
  for _, t in ipairs(threads) do non2xx = non2xx + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d,'
    .. '"non2xx":%%d,"p50_us":%%d,"p99_us":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, non2xx,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua(text: str) -> str:
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"unexpected characters for a Lua string: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signed_s3_headers(port: int, method: str, path: str, body: bytes) -> dict[str, str]:
    """Headers of a SigV4-signed S3 request (payload hash signed, root keys); valid for 15 minutes."""
    url = f"http://{servers.HOST}:{port}{path}"
    headers = {"Host": f"{servers.HOST}:{port}", "x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    request = AWSRequest(method, url, data=body, headers=headers)
    S3SigV4Auth(Credentials(servers.ACCESS_KEY, servers.SECRET_KEY), "s3", servers.REGION).add_auth(request)
    signed = dict(request.headers.items())
    if body:
        signed["Content-Length"] = str(len(body))
    return signed


class WrkScript:
    """A wrk script whose threads cycle through pre-signed requests (thread k sends k, k+T, k+2T, ...)."""

    def __init__(self, target: Endpoint, method: str, keys: list[str], body: bytes, work: Path) -> None:
        self.target, self.method = target, method
        self.threads = 2
        payload = body if method == "PUT" else b""
        lines = []
        for key in keys:
            path = f"/{BUCKET}/{key}"
            headers = signed_s3_headers(target.port, method, path, payload)
            if any("\t" in f or "\n" in f for f in (path, *headers.keys(), *headers.values())):
                raise ValueError(f"unexpected tab or newline in a request to {path}")
            lines.append("\t".join([path, *(f"{k}: {v}" for k, v in headers.items())]))
        requests = work / f"wrk-s3-{target.name}-{method}.tsv"
        requests.write_text("\n".join(lines) + "\n")
        self.path = work / f"wrk-s3-{target.name}-{method}.lua"
        self.path.write_text(
            _WRK_LUA
            % {
                "body": _lua(payload.decode()) if payload else "nil",
                "requests": _lua(str(requests)),
                "method": _lua(method),
                "step": self.threads,
            }
        )

    def run(self, connections: int, seconds: int) -> dict[str, Any]:
        wrk = loadgen.wrk_path()
        assert wrk is not None
        argv = [wrk, f"-t{self.threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
        argv += ["-s", str(self.path), f"http://{servers.HOST}:{self.target.port}/"]
        cpu_before = _cpu_s(self.target.pid)
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
        server_cpu = _cpu_s(self.target.pid) - cpu_before
        marker = [line for line in completed.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
        if completed.returncode != 0 or not marker:
            raise RuntimeError(
                f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
            )
        data = json.loads(marker[-1].removeprefix("BENCH-RESULT "))
        duration, requests = data["duration_us"] / 1e6, int(data["requests"])
        errors = {k: int(data[k]) for k in ("connect", "read", "write", "timeout", "non2xx")}
        return {
            "connections": connections,
            "seconds": round(duration, 3),
            "requests": requests,
            "ops_per_s": requests / duration if duration else 0.0,
            "p50_ms": data["p50_us"] / 1000.0,
            "p99_ms": data["p99_us"] / 1000.0,
            "failures": sum(errors.values()),
            "errors": errors,
            "server_cpu_us_per_op": round(server_cpu / requests * 1e6, 1) if requests else math.nan,
        }


def small_objects_wrk(plan: S3Plan, targets: list[Endpoint], work: Path) -> dict[str, Any]:
    """1 KiB PUTs (fresh keys), then GETs, by wrk with `threads` connections, alternating the servers."""
    body = "".join(random.choices(string.ascii_letters + string.digits, k=SMALL_SIZE)).encode()
    put_keys = [f"wrk/put/{i}" for i in range(WRK_PUT_KEYS)]
    get_keys = [f"wrk/get/{i}" for i in range(WRK_GET_KEYS)]
    out: dict[str, Any] = {t.name: {} for t in targets}
    scripts: dict[tuple[str, str], WrkScript] = {}
    for t in targets:
        s3 = client("s3", t.port)
        for key in get_keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        s3.close()
        scripts[t.name, "put"] = WrkScript(t, "PUT", put_keys, body, work)
        scripts[t.name, "get"] = WrkScript(t, "GET", get_keys, body, work)
    for index, op in enumerate(("put", "get")):
        for t in _order(targets, index):
            script = scripts[t.name, op]
            if plan.wrk_warmup_seconds:
                script.run(plan.threads, plan.wrk_warmup_seconds)
            out[t.name][op] = script.run(plan.threads, plan.wrk_seconds)
    for t in targets:  # what wrk wrote and read is what boto3 reads
        s3 = client("s3", t.port)
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="wrk/put/", MaxKeys=1).get("Contents", [])
        written: str = listed[0]["Key"] if listed else ""
        for op, key in (("put", written), ("get", get_keys[0])):
            if not key or s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() != body:
                out[t.name][op]["failures"] += 1
        s3.close()
    return out


# -- large objects --------------------------------------------------------------------------------------
def large_body(path: Path, megabytes: int) -> tuple[bytes, str]:
    """A file of `megabytes` 1 MiB blocks: one random block, each copy starting with its index (so a
    misplaced block is caught by a cheap compare). Returns the random block and the body's quoted MD5."""
    block = os.urandom(BLOCK)
    digest = hashlib.md5()
    with open(path, "wb") as out:
        for index in range(megabytes):
            data = index.to_bytes(8, "big") + block[8:]
            digest.update(data)
            out.write(data)
    return block, f'"{digest.hexdigest()}"'


def _timed(samples: Samples, label: str, pid: int | None, once: Callable[[], bool]) -> None:
    """One round of a transfer: its wall time if once() succeeded, a failure otherwise."""
    cpu_before = _cpu_s(pid) if pid is not None else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    try:
        ok = once()
    except Exception as error:
        ok = False
        samples.error(f"{label}: {type(error).__name__}: {error}")
    elapsed = time.perf_counter() - started
    samples.rounds += 1
    samples.client_cpu_s += time.process_time() - client_before
    if pid is not None:
        samples.server_cpu_s += _cpu_s(pid) - cpu_before
    if ok:
        samples.seconds += elapsed
        samples.timings.append(elapsed)
    else:
        samples.failures += 1


def _transfer_json(samples: Samples, megabytes: int) -> dict[str, Any]:
    speeds = [round(megabytes * BLOCK / 1e6 / t, 1) for t in samples.timings]
    rounds = max(samples.rounds, 1)
    return {
        "megabytes": megabytes,
        "rounds": samples.rounds,
        "failures": samples.failures,
        "mb_per_s": speeds,
        "median_mb_per_s": statistics.median(speeds) if speeds else math.nan,
        "server_cpu_s_per_round": round(samples.server_cpu_s / rounds, 3),
        "client_cpu_s_per_round": round(samples.client_cpu_s / rounds, 3),
        "errors": samples.errors,
    }


class LargeObject:
    """A `megabytes` MiB object through boto3 single-part put_object (streamed from a file) and get_object
    (streamed back in 1 MiB reads, every block compared)."""

    KEY = "large/object"

    def __init__(self, plan: S3Plan, target: Endpoint, source: Path, block: bytes, etag: str) -> None:
        self.plan, self.target, self.source, self.block, self.etag = plan, target, source, block, etag
        self.s3 = client("s3", target.port)
        with contextlib.suppress(self.s3.exceptions.BucketAlreadyOwnedByYou):
            self.s3.create_bucket(Bucket=BUCKET)
        self.results = {"upload": Samples(), "download": Samples()}

    def _upload(self) -> bool:
        with open(self.source, "rb") as body:
            response = self.s3.put_object(Bucket=BUCKET, Key=self.KEY, Body=body)
        return bool(response["ETag"] == self.etag)

    def _download(self) -> bool:
        response = self.s3.get_object(Bucket=BUCKET, Key=self.KEY)
        stream, tail, index = response["Body"], self.block[8:], 0
        while index <= self.plan.large_mb:  # bounded: the read after the last block must return b""
            data = stream.read(BLOCK)
            if not data:
                break
            if data[:8] != index.to_bytes(8, "big") or data[8:] != tail:
                return False
            index += 1
        size = self.plan.large_mb * BLOCK
        return index == self.plan.large_mb and response["ContentLength"] == size

    def round(self, way: str) -> None:
        once = self._upload if way == "upload" else self._download
        _timed(self.results[way], way, self.target.pid, once)

    def close(self) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            self.s3.delete_object(Bucket=BUCKET, Key=self.KEY)
        self.s3.close()
        return {way: _transfer_json(s, self.plan.large_mb) for way, s in self.results.items()}


def raw_disk_write(samples: Samples, path: Path, block: bytes, megabytes: int) -> None:
    """Write `megabytes` MiB to a new file at `path` (1 MiB writes), fsync, close; then remove it."""

    def once() -> bool:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(megabytes):
                    os.write(fd, block)
                os.fsync(fd)
            finally:
                os.close(fd)
            return path.stat().st_size == megabytes * BLOCK
        finally:
            path.unlink(missing_ok=True)

    _timed(samples, "raw disk write", None, once)


def large_objects(plan: S3Plan, targets: list[Endpoint], data_dir: Path, work: Path) -> dict[str, Any]:
    source = work / "large-object.bin"
    block, etag = large_body(source, plan.large_mb)
    try:
        benches = {t.name: LargeObject(plan, t, source, block, etag) for t in targets}
        disk = Samples()
        for index in range(plan.large_rounds):
            raw_disk_write(disk, data_dir / "bench-raw-disk-write.tmp", block, plan.large_mb)
            for t in _order(targets, index):
                benches[t.name].round("upload")
        for index in range(plan.large_rounds):
            for t in _order(targets, index):
                benches[t.name].round("download")
    finally:
        source.unlink(missing_ok=True)
    out: dict[str, Any] = {name: bench.close() for name, bench in benches.items()}
    out["raw_disk_write"] = {**_transfer_json(disk, plan.large_mb), "directory": str(data_dir)}
    return out


# -- PUT -> handler start -------------------------------------------------------------------------------
def _log_starts(logs: Any, group: str, since_ms: int) -> tuple[dict[str, float], int]:
    """Handler start times by key from the function's log group, and how many cold starts (REPORT lines
    with an Init Duration) it logged since `since_ms`."""
    starts: dict[str, float] = {}
    cold = 0
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=since_ms, PaginationConfig={"MaxItems": 100_000}
    )
    for page in pages:
        for event in page["events"]:
            message = event["message"]
            match = _START.search(message)
            if match:
                starts[match.group(1)] = float(match.group(2))
            elif message.startswith("REPORT ") and "Init Duration" in message:
                cold += 1
    return starts, cold


def _wait_for_starts(
    logs: Any, group: str, since_ms: int, keys: list[str], timeout: float
) -> tuple[dict[str, float], int]:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            starts, cold = _log_starts(logs, group, since_ms)
            if all(k in starts for k in keys) or time.monotonic() > deadline:
                return starts, cold
        if time.monotonic() > deadline:
            return {}, 0
        time.sleep(0.2)


@dataclass
class DelaySummary:
    count: int
    p50_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, millis: list[float]) -> DelaySummary:
        values = sorted(millis)
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(len(values), percentile(values, 50), percentile(values, 99), values[0], values[-1])


def notification_latency(plan: S3Plan, port: int) -> dict[str, Any]:
    s3, lam, logs = client("s3", port), client("lambda", port), client("logs", port)
    group = f"/aws/lambda/{NOTIFY_FUNCTION}"
    servers.deploy(lam, NOTIFY_FUNCTION, NOTIFY_SOURCE)
    s3.create_bucket(Bucket=NOTIFY_BUCKET)
    lam.add_permission(
        FunctionName=NOTIFY_FUNCTION,
        StatementId="bench-s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{NOTIFY_BUCKET}",
        SourceAccount=ACCOUNT,
    )
    arn = f"arn:aws:lambda:{servers.REGION}:{ACCOUNT}:function:{NOTIFY_FUNCTION}"
    s3.put_bucket_notification_configuration(
        Bucket=NOTIFY_BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    body = os.urandom(SMALL_SIZE)
    sent_at, received_at = [0.0], [0.0]

    def note_send(**_: Any) -> None:
        sent_at[0] = time.time()  # the request is signed; botocore is about to send it

    def note_response(**_: Any) -> None:
        received_at[0] = time.time()  # the whole response is in; botocore has not parsed it yet

    s3.meta.events.register("before-send.s3.PutObject", note_send)
    s3.meta.events.register("before-parse.s3.PutObject", note_response)
    failures = 0
    errors: list[str] = []

    # Warm-up: one notified PUT, waited for, so that the function has a warm environment.
    since_ms = int(time.time() * 1000) - 1000
    s3.put_object(Bucket=NOTIFY_BUCKET, Key="warm-up", Body=body)
    starts, _ = _wait_for_starts(logs, group, since_ms, ["warm-up"], 30.0)
    if "warm-up" not in starts:
        failures += 1
        errors.append("the warm-up PUT's handler start never appeared in the logs")

    # Baseline: warm synchronous Invoke of the same function (boto3, payload read), with an S3-like event.
    print(f"s3: baseline, warm boto3 invoke of the notified function, {plan.invoke_calls} calls ...")
    invoke_ms: list[float] = []
    slow_invokes: list[tuple[int, float]] = []  # (call, ms) of calls over 10 ms: what sets the p99
    for i in range(10 + plan.invoke_calls):
        event = {"Records": [{"s3": {"object": {"key": f"invoke/{i}"}}}]}
        started = time.perf_counter()
        try:
            response = lam.invoke(FunctionName=NOTIFY_FUNCTION, Payload=json.dumps(event).encode())
            ok = response["Payload"].read() == b"null" and "FunctionError" not in response
        except Exception as error:
            ok = False
            errors.append(f"invoke: {type(error).__name__}: {error}"[:200])
        elapsed = (time.perf_counter() - started) * 1000.0
        if not ok:
            failures += 1
        elif i >= 10:  # the first ten are warm-up
            invoke_ms.append(elapsed)
            if elapsed > 10.0 and len(slow_invokes) < 20:
                slow_invokes.append((i - 10, round(elapsed, 1)))

    print(f"s3: PUT -> handler start, {plan.notify_puts} sequential PUTs ...", flush=True)
    environments_before = servers.health(port).environments
    since_ms = int(time.time() * 1000) - 1
    timings: dict[str, tuple[float, float]] = {}
    for i in range(plan.notify_puts):
        key = f"latency/{i:05d}"
        try:
            s3.put_object(Bucket=NOTIFY_BUCKET, Key=key, Body=body)
            timings[key] = (sent_at[0], received_at[0])
        except Exception as error:
            failures += 1
            errors.append(f"put: {type(error).__name__}: {error}"[:200])
        time.sleep(plan.notify_gap_s)  # the previous handler has finished: one warm environment suffices
    starts, cold = _wait_for_starts(logs, group, since_ms, list(timings), 30.0)
    after_response: list[float] = []
    after_sent: list[float] = []
    for key, (sent, answered) in timings.items():
        if key not in starts:
            failures += 1
            continue
        after_response.append((starts[key] - answered) * 1000.0)
        after_sent.append((starts[key] - sent) * 1000.0)
    missing = sum(1 for k in timings if k not in starts)
    if missing:
        errors.append(f"{missing} handler starts missing from the logs")
    result = {
        "function": NOTIFY_FUNCTION,
        "puts": plan.notify_puts,
        "gap_s": plan.notify_gap_s,
        "start_after_response": asdict(DelaySummary.of(after_response)),
        "start_after_sent": asdict(DelaySummary.of(after_sent)),
        "invoke_baseline": asdict(DelaySummary.of(invoke_ms)),
        "invoke_calls_over_10ms": slow_invokes,
        "cold_starts_during_puts": cold,
        "environments_before": environments_before,
        "environments_after": servers.health(port).environments,
        "failures": failures,
        "errors": errors[:5],
    }
    lam.delete_function(FunctionName=NOTIFY_FUNCTION)
    for c in (s3, lam, logs):
        c.close()
    return result


# -- the whole S3 section -------------------------------------------------------------------------------
def run(quick: bool, lambdabox: Endpoint, data_dir: Path, work: Path) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    out: dict[str, Any] = {"plan": asdict(plan)}
    with contextlib.ExitStack() as stack:
        print("s3: starting moto's S3 server ...", flush=True)
        moto = start_moto(work)
        targets = [lambdabox]
        if moto is not None:
            stack.callback(moto[0].stop)
            targets.append(Endpoint("moto", moto[1], moto[0].pid))
            out["moto_version"] = importlib.metadata.version("moto")
        names = " and ".join(t.name for t in targets)
        print(
            f"s3: {SMALL_SIZE} B PUT then GET, {plan.threads} threads, {names}, {plan.small_rounds} rounds ...",
            flush=True,
        )
        out["small"] = small_objects(plan, targets)
        if loadgen.wrk_path() is not None:
            print(
                f"s3: {SMALL_SIZE} B PUT then GET, wrk, {plan.threads} connections, {names} ...", flush=True
            )
            out["small_wrk"] = small_objects_wrk(plan, targets, work)
        else:
            print(f"NOTE: {loadgen.WRK_INSTALL_HINT}; the S3 wrk rounds are skipped.")
        print(
            f"s3: {plan.large_mb} MiB upload/download, {names}, raw disk write, {plan.large_rounds} rounds ...",
            flush=True,
        )
        out["large"] = large_objects(plan, targets, data_dir, work)
    out["notify"] = notification_latency(plan, lambdabox.port)
    return out
