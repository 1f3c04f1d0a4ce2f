"""Cold starts: the first invocation of a fresh execution environment, and the plain-process baselines.

A fresh environment per sample: UpdateFunctionConfiguration changes an environment variable (a new revision,
so no warm environment of the old one can be reused), we poll until LastUpdateStatus is Successful, then
time one signed Invoke with LogType=Tail on a connection opened beforehand. The REPORT line must carry an
Init Duration, which proves the sample was a cold start.
"""

from __future__ import annotations

import base64
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadgen import percentile
from servers import ACCESS_KEY, REGION, SECRET_KEY, nodelay_connection, signed_headers, wait_state

SEED_SOURCE = """\
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    return {"ok": True}
"""
NOOP_SOURCE = """\
def handler(event, context):
    return {"ok": True}
"""
_INIT = re.compile(r"Init Duration: ([0-9.]+) ms")


@dataclass
class Summary:
    count: int
    p50_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, millis: list[float]) -> Summary:
        values = sorted(millis)
        if not values:
            return cls(0, math.nan, math.nan, math.nan)
        return cls(len(values), percentile(values, 50), values[0], values[-1])


@dataclass
class ColdResult:
    handler: str
    latency: Summary  # client-side: Invoke request sent -> response read
    init: Summary  # the REPORT line's Init Duration
    failures: int
    samples_ms: list[float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def cold_starts(
    client: Any, port: int, function: str, label: str, samples: int, max_seconds: float
) -> ColdResult:
    path = f"/2015-03-31/functions/{function}/invocations"
    body = b"{}"
    latencies: list[float] = []
    inits: list[float] = []
    failures = 0
    deadline = time.monotonic() + max_seconds
    for sample in range(samples):
        if time.monotonic() > deadline:
            break
        client.update_function_configuration(
            FunctionName=function, Environment={"Variables": {"BENCH_SAMPLE": str(sample)}}
        )
        wait_state(client, function, "LastUpdateStatus", "Successful")
        headers = signed_headers(port, path, body, {"X-Amz-Log-Type": "Tail"})
        conn = nodelay_connection(port, timeout=60.0)
        time.sleep(0.05)  # let the platform retire the previous environment before we time anything
        try:
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            log = base64.b64decode(response.getheader("X-Amz-Log-Result") or "").decode(errors="replace")
        finally:
            conn.close()
        match = _INIT.search(log)
        ok = response.status == 200 and response.getheader("X-Amz-Function-Error") is None
        if not ok or match is None or json.loads(data) != {"ok": True}:
            failures += 1
            continue
        latencies.append(elapsed_ms)
        inits.append(float(match.group(1)))
    return ColdResult(
        label, Summary.of(latencies), Summary.of(inits), failures, [round(v, 2) for v in latencies]
    )


@dataclass
class ProcessResult:
    command: str
    tool: str
    runs: int
    median_ms: float
    min_ms: float
    max_ms: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def process_env(home: Path) -> dict[str, str]:
    """What a function's process sees that matters to boto3: keys, region, an empty HOME."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }


def process_baseline(code: str, runs: int, work_dir: Path) -> ProcessResult:
    """Wall time of `<venv python> -c <code>`, by hyperfine if installed, else by timing subprocess.run."""
    argv = [sys.executable, "-c", code]
    command = shlex.join(argv)
    with tempfile.TemporaryDirectory(dir=work_dir) as home:
        env = process_env(Path(home))
        hyperfine = shutil.which("hyperfine")
        if hyperfine is not None:
            export = work_dir / "hyperfine.json"
            subprocess.run(
                [
                    hyperfine,
                    "-N",
                    "--warmup",
                    "2",
                    "--runs",
                    str(runs),
                    "--style",
                    "none",
                    "--export-json",
                    str(export),
                    command,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=120,
            )
            times = [t * 1000.0 for t in json.loads(export.read_text())["results"][0]["times"]]
            tool = "hyperfine -N"
        else:
            times = []
            for index in range(runs + 2):
                started = time.perf_counter()
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True, timeout=60)
                if index >= 2:  # the first two are warm-up
                    times.append((time.perf_counter() - started) * 1000.0)
            tool = "subprocess.run timing"
    summary = Summary.of(times)
    return ProcessResult(command, tool, summary.count, summary.p50_ms, summary.min_ms, summary.max_ms)
