"""Scale-up and density: how fast a burst of first invocations gets environments, and what an idle
environment costs in memory — each beside a plain-process baseline measured in the same run.

- Scale-up: `burst` concurrent first invocations of a new function whose handler sleeps (and imports
  nothing), so each needs its own environment; time until all answered, environments started per second
  (cold starts from /_lambdabox/health). Baseline: the same number of plain `python -c pass` processes
  started at once (the floor of a process-per-environment platform).
- Density: provisioned concurrency of `idle` environments on one version (all initialized, then idle and
  frozen); their proportional set size (PSS, /proc/<pid>/smaps_rollup: shared pages split between the
  processes sharing them) summed over every process of every environment. Baseline: the PSS of one plain
  process that imported boto3 and built an S3 client.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from servers import ACCESS_KEY, HOST, REGION, SECRET_KEY, deploy, signed_headers, wait_state

SLEEPER = """\
import time


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""
# Density: what a typical function holds while idle (boto3 imported, an S3 client built at init).
BOTO3_SLEEPER = "import boto3\n\ns3 = boto3.client('s3')\n" + SLEEPER
SEED = "import boto3; boto3.client('s3')"
GIB = 1024**3


def _client(port: int, connections: int) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=f"http://{HOST}:{port}",
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=120, max_pool_connections=connections),
    )


def _health(port: int) -> dict[str, Any]:
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/_lambdabox/health")
        document: dict[str, Any] = json.loads(conn.getresponse().read())
        return document
    finally:
        conn.close()


def scale_up(port: int, burst: int) -> dict[str, Any]:
    """Two bursts, each on a new function: one from a light client (one pre-signed request per raw
    connection, all from one asyncio loop: ~0.1 ms of client CPU each), the headline, since client and
    platform share the two cores here; one from `burst` boto3 threads (~2 ms of client CPU each), for
    reference."""
    client = _client(port, burst)
    sleep_s = 1.0
    payload = json.dumps({"sleep": sleep_s}).encode()

    def boto3_burst(function: str) -> list[bool]:
        def invoke(_: int) -> bool:
            response = client.invoke(FunctionName=function, Payload=payload)
            response["Payload"].read()
            return response["StatusCode"] == 200 and "FunctionError" not in response

        with ThreadPoolExecutor(burst) as pool:
            return list(pool.map(invoke, range(burst)))

    def raw_burst(function: str) -> list[bool]:
        path = f"/2015-03-31/functions/{function}/invocations"
        head = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(port, path, payload).items())
        raw = f"POST {path} HTTP/1.1\r\n{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload

        async def one() -> bool:
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(raw)
                fields = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                length = int(fields.split("content-length:", 1)[1].split("\r\n", 1)[0])
                await reader.readexactly(length)
                return fields.startswith("http/1.1 200") and "x-amz-function-error" not in fields
            finally:
                writer.close()

        async def all_of_them() -> list[bool]:
            return list(await asyncio.gather(*(one() for _ in range(burst))))

        return asyncio.run(all_of_them())

    result: dict[str, Any] = {"burst": burst, "handler_sleep_s": sleep_s}
    for name, burst_of in (("raw", raw_burst), ("boto3", boto3_burst)):
        function = f"bench-scale-up-{name}"
        deploy(client, function, SLEEPER)
        started = time.monotonic()
        outcomes = burst_of(function)
        elapsed = time.monotonic() - started
        environments = int(_health(port).get("coldStarts", {}).get(function, 0))
        client.delete_function(FunctionName=function)
        starting_s = max(elapsed - sleep_s, 1e-3)  # the handlers' own sleep is not start-up time
        prefix = "" if name == "raw" else "boto3_"
        result |= {
            f"{prefix}answered": sum(outcomes),
            f"{prefix}failed": burst - sum(outcomes),
            f"{prefix}environments_started": environments,
            f"{prefix}all_answered_s": round(elapsed, 3),
            f"{prefix}starting_s": round(starting_s, 3),
            f"{prefix}environments_per_s": round(environments / starting_s, 1),
        }
    baseline_s = _process_burst(burst, "pass")
    result |= {
        "baseline_processes_s": round(baseline_s, 3),
        "baseline_processes_per_s": round(burst / baseline_s, 1),
    }
    return result


def _process_burst(count: int, code: str) -> float:
    """Start `count` plain Python processes running `code`, all at once; seconds until all ended."""
    started = time.monotonic()
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    for process in processes:
        process.wait(timeout=300)
    return time.monotonic() - started


def density(port: int, server_pid: int, idle: int, timeout_s: float = 240.0) -> dict[str, Any]:
    client = _client(port, 4)
    function = "bench-density"
    deploy(client, function, BOTO3_SLEEPER, memory_mb=128)
    version = client.publish_version(FunctionName=function)["Version"]
    wait_state(client, function, "State", "Active")
    started = time.monotonic()
    client.put_provisioned_concurrency_config(
        FunctionName=function, Qualifier=version, ProvisionedConcurrentExecutions=idle
    )
    status: dict[str, Any] = {}
    while time.monotonic() - started < timeout_s:
        status = client.get_provisioned_concurrency_config(FunctionName=function, Qualifier=version)
        if status["Status"] != "IN_PROGRESS":
            break
        time.sleep(0.5)
    ready_s = time.monotonic() - started
    time.sleep(1.0)  # every environment idle and frozen
    pids = _zygote_tree(server_pid)
    pss_kb = sum(_pss_kb(pid) for pid in pids)
    client.delete_function(FunctionName=function)
    allocated = int(status.get("AllocatedProvisionedConcurrentExecutions", 0))
    per_env_mb = pss_kb / 1024 / max(allocated, 1)
    baseline_mb = _baseline_pss_kb() / 1024
    return {
        "requested": idle,
        "allocated": allocated,
        "status": status.get("Status"),
        "provisioned_in_s": round(ready_s, 1),
        "processes": len(pids),
        "pss_total_mb": round(pss_kb / 1024, 1),
        "pss_per_environment_mb": round(per_env_mb, 2),
        "fit_in_24_gib": int(24 * GIB / (per_env_mb * 1024 * 1024)) if per_env_mb else None,
        "baseline_process_pss_mb": round(baseline_mb, 2),
        "baseline_fit_in_24_gib": int(24 * GIB / (baseline_mb * 1024 * 1024)) if baseline_mb else None,
    }


def _zygote_tree(server_pid: int) -> list[int]:
    """The Python zygote and every process forked from it: the environments (runtimes and their
    namespaces' init processes) and its couple of warm spares. The whole cost, shared pages included."""
    zygotes = [
        pid for pid in _children(server_pid) if b"zygote.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    found = list(zygotes)
    index = 0
    while index < len(found):
        found.extend(_children(found[index]))
        index += 1
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _baseline_pss_kb() -> int:
    process = subprocess.Popen(
        [sys.executable, "-c", SEED + "; import sys; print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        return _pss_kb(process.pid)
    finally:
        process.kill()
        process.wait()


TARGET_ENVS_PER_S = 200.0
TARGET_IDLE_FIT = 1000


def summarize(result: dict[str, Any]) -> tuple[dict[str, float], int, dict[str, Any]]:
    """(ratios, failed requests, targets) for report.py."""
    up, dense = result["scale_up"], result["density"]
    ratios = {
        "scale_up_time": round(up["starting_s"] / up["baseline_processes_s"], 4),
        "idle_env_pss": round(dense["pss_per_environment_mb"] / dense["baseline_process_pss_mb"], 4),
    }
    targets = {
        "scale_up": {
            "target": f">= {TARGET_ENVS_PER_S:.0f} environments started per second",
            "measured_envs_per_s": up["environments_per_s"],
            "met": up["environments_per_s"] >= TARGET_ENVS_PER_S,
        },
        "density": {
            "target": f">= {TARGET_IDLE_FIT} idle warm environments in 24 GiB",
            "measured_fit": dense["fit_in_24_gib"],
            "met": (dense["fit_in_24_gib"] or 0) >= TARGET_IDLE_FIT,
        },
    }
    failed = int(up["failed"]) + int(up.get("boto3_failed", 0)) + int(dense["requested"] - dense["allocated"])
    return ratios, failed, targets


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    up, dense = result["scale_up"], result["density"]
    return [
        (
            f"Scale-up: {up['burst']} concurrent first invocations (handler sleeps {up['handler_sleep_s']} s)",
            "",
            "",
            "",
        ),
        (
            "  all started (all answered - handler sleep) / as many `python -c pass`",
            f"{up['starting_s']:.2f} s",
            f"{up['baseline_processes_s']:.2f} s",
            f"{up['starting_s'] / up['baseline_processes_s']:.2f}x",
        ),
        (
            "  environments (processes) started per second",
            f"{up['environments_per_s']:.0f}/s",
            f"{up['baseline_processes_per_s']:.0f}/s",
            f"{up['environments_per_s'] / up['baseline_processes_per_s']:.1f}x",
        ),
        (
            f"  the same from {up['burst']} boto3 threads (their ~2 ms of CPU each shares the two cores)",
            f"{up.get('boto3_environments_per_s', 0):.0f}/s",
            f"{up['baseline_processes_per_s']:.0f}/s",
            f"{up.get('boto3_environments_per_s', 0) / up['baseline_processes_per_s']:.1f}x",
        ),
        (f"Density: {dense['allocated']} idle provisioned environments (128 MB), PSS", "", "", ""),
        (
            "  per environment / one boto3 process",
            f"{dense['pss_per_environment_mb']:.2f} MB",
            f"{dense['baseline_process_pss_mb']:.2f} MB",
            f"{dense['pss_per_environment_mb'] / dense['baseline_process_pss_mb']:.3f}x",
        ),
        ("  fit in 24 GiB", f"{dense['fit_in_24_gib']}", f"{dense['baseline_fit_in_24_gib']}", ""),
    ]


def target_lines(targets: dict[str, Any]) -> list[str]:
    up, dense = targets["scale_up"], targets["density"]
    return [
        f"Target scale-up {up['target']}: {up['measured_envs_per_s']:.0f}/s — {'met' if up['met'] else 'NOT met'}",
        f"Target density {dense['target']}: {dense['measured_fit']} — {'met' if dense['met'] else 'NOT met'}",
    ]
