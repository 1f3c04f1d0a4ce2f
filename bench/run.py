"""`make bench`: Lambdabox's benchmarks, each beside a baseline measured in the same run.

Starts its own Lambdabox server (free port, temporary data dir), a trivial uvicorn+httptools+uvloop
baseline server and moto's S3 server, all on 127.0.0.1 only; measures warm invoke latency and throughput,
cold starts and S3 (small and large objects, PUT -> notified handler start); prints a table; writes
bench/results/latest.json. Every loop and run is bounded; servers and their processes are stopped on
exit, Ctrl-C or SIGTERM. See docs/benchmarks.md.

    .venv/bin/python bench/run.py [--quick] [--profile] [--no-wrk] [--no-peers] [--only invoke|s3|url|scale]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import coldstart
import loadgen
import peers
import profiling
import report
import s3
import scaling
import servers
import urls

RESULTS = servers.BENCH_DIR / "results" / "latest.json"
HARD_LIMIT_S = 600  # SIGALRM: whatever happens, the run ends (and cleans up) after this
BODY = b'{"ping": 1}'  # the no-op function echoes it; the baseline server answers exactly these bytes
NOOP_ECHO = "def handler(event, context):\n    return event\n"


@dataclass(frozen=True)
class Plan:
    latency_requests: int
    latency_max_s: float
    boto3_requests: int
    connections: tuple[int, ...]
    wrk_seconds: float
    warmup_seconds: float
    cold_samples: int
    cold_max_s: float
    process_runs: int
    burst: int = 200  # concurrent first invocations (scale-up)
    idle_environments: int = 500  # idle provisioned environments (density)


FULL = Plan(3000, 15.0, 400, (1, 8, 32), 5.0, 2.0, 15, 40.0, 15)
QUICK = Plan(500, 5.0, 100, (1, 8, 32), 2.0, 1.0, 5, 15.0, 5, burst=100, idle_environments=100)


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _finite(value: Any) -> Any:
    """NaN (a summary of zero samples) becomes null, so the file stays strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def source() -> dict[str, Any]:
    """Which code was measured: the commit and the files under src/ changed since (read-only git calls)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    root = servers.BENCH_DIR.parent
    info: dict[str, Any] = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, env=env, capture_output=True, text=True, timeout=10
        )
        info["commit"] = head.stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        info["uncommitted_src_changes"] = [line[3:] for line in changed.stdout.splitlines()]
    return info


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    for tool in ("wrk", "hyperfine"):
        with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
            done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=5, check=False)
            info[tool] = (done.stdout or done.stderr).splitlines()[0].strip()
    return info


def throughput(
    port: int,
    path: str,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    script: Path,
    use_wrk: bool,
) -> loadgen.ThroughputResult:
    return loadgen.throughput(port, path, headers, BODY, connections, seconds, script, use_wrk)


@dataclass(frozen=True)
class Target:
    name: str
    port: int
    pid: int
    headers: dict[str, str]


def warm(plan: Plan, ours: Target, base: Target, work: Path, use_wrk: bool, profile: bool) -> dict[str, Any]:
    function = "bench-noop"
    servers.deploy(servers.lambda_client(ours.port), function, NOOP_ECHO)
    path = f"/2015-03-31/functions/{function}/invocations"
    targets = [
        Target(t.name, t.port, t.pid, servers.signed_headers(t.port, path, BODY)) for t in (ours, base)
    ]
    out: dict[str, Any] = {"function": function, "path": path, "payload": BODY.decode()}

    print("warm: sequential latency (http.client) ...", flush=True)
    for t in targets:
        loadgen.sequential_http(t.port, path, t.headers, BODY, 50, 10.0, BODY)  # warm-up
        result = loadgen.sequential_http(
            t.port, path, t.headers, BODY, plan.latency_requests, plan.latency_max_s, BODY
        )
        out.setdefault("latency", {})[t.name] = result.to_json()

    print("warm: sequential latency (boto3) ...", flush=True)
    for t in targets:
        boto = servers.lambda_client(t.port)

        def call(boto: Any = boto) -> bool:
            response = boto.invoke(FunctionName=function, Payload=BODY)
            return response["Payload"].read() == BODY and "FunctionError" not in response

        loadgen.sequential_calls(call, 20, 10.0, "warm-up")
        result = loadgen.sequential_calls(call, plan.boto3_requests, plan.latency_max_s, "boto3 invoke")
        out.setdefault("boto3", {})[t.name] = result.to_json()

    tool = "wrk" if use_wrk else "asyncio fallback"
    points: list[dict[str, Any]] = []
    for connections in plan.connections:
        print(f"warm: throughput, {tool}, {connections} connection(s) ...", flush=True)
        point: dict[str, Any] = {"connections": connections}
        for t in targets:
            script = work / f"wrk-{t.name}.lua"
            # Warm-up: the platform starts as many environments as it sees concurrent invocations;
            # repeat (at most 3 times) until a warm-up run no longer adds environments.
            envs = servers.health(ours.port).environments
            for _ in range(3):
                throughput(t.port, path, t.headers, connections, plan.warmup_seconds, script, use_wrk)
                settled, envs = envs, servers.health(ours.port).environments
                if t is not targets[0] or envs == settled:
                    break
            cpu_before = servers.cpu_split(t.pid)
            rate = throughput(t.port, path, t.headers, connections, plan.wrk_seconds, script, use_wrk)
            cpu = servers.cpu_per_request_us(t.pid, cpu_before, servers.cpu_split(t.pid), rate.requests)
            point[t.name] = {**rate.to_json(), "cpu_us_per_request": cpu}
            if t is targets[0]:
                point["environments_before"] = envs
                point["environments_after"] = servers.health(ours.port).environments
        points.append(point)
    out["throughput"] = points

    if profile:
        out["profile"] = profile_run(plan, targets[0], path, work, use_wrk)
    return out


def profile_run(plan: Plan, target: Target, path: str, work: Path, use_wrk: bool) -> dict[str, Any]:
    raw = servers.BENCH_DIR / "results" / "profile-warm.txt"
    raw.parent.mkdir(parents=True, exist_ok=True)
    connections = max(c for c in plan.connections if c <= 8)
    seconds = max(plan.wrk_seconds, 4.0)
    print(f"profile: py-spy on the server (pid {target.pid}) and its runtimes, {connections} connections ...")
    sampler = profiling.start(target.pid, seconds, raw)
    if sampler is None:
        print("profile: py-spy not found (`.venv/bin/pip install py-spy`); skipped")
        return {"skipped": "py-spy not installed"}
    try:
        time.sleep(0.5)  # py-spy attaches
        script = work / "wrk-profile.lua"
        result = throughput(target.port, path, target.headers, connections, seconds, script, use_wrk)
        if not profiling.finish(sampler, timeout=seconds + 30):
            return {"skipped": "py-spy failed (ptrace not permitted?)"}
    finally:
        if sampler.poll() is None:
            sampler.kill()
            sampler.wait(timeout=5)
    return {"raw": str(raw), "rps_while_sampling": round(result.rps), **profiling.summarize(raw)}


def cold(plan: Plan, port: int, work: Path) -> dict[str, Any]:
    client = servers.lambda_client(port)
    out: dict[str, Any] = {}
    for key, source, label, code in (
        (
            "seed",
            coldstart.SEED_SOURCE,
            "import boto3; s3 = boto3.client('s3')",
            'import boto3; boto3.client("s3")',
        ),
        ("noop", coldstart.NOOP_SOURCE, "no imports", "pass"),
    ):
        print(f"cold: {label} handler, {plan.cold_samples} fresh environments ...", flush=True)
        function = f"bench-cold-{key}"
        servers.deploy(client, function, source)
        result = coldstart.cold_starts(client, port, function, label, plan.cold_samples, plan.cold_max_s)
        client.delete_function(FunctionName=function)
        print(f"cold: baseline python -c {code!r}, {plan.process_runs} runs ...", flush=True)
        baseline = coldstart.process_baseline(code, plan.process_runs, work)
        out[key] = {"lambdabox": result.to_json(), "baseline": baseline.to_json()}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="short run (~50 s): fewer samples, 2 s load points"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also sample the server with py-spy under load"
    )
    parser.add_argument(
        "--no-wrk", action="store_true", help="use the asyncio load generator even if wrk exists"
    )
    parser.add_argument(
        "--only",
        choices=("invoke", "s3", "url", "scale"),
        help="run one part: invoke (warm invoke and cold starts), s3 (objects and notifications), "
        "url (function URL throughput) or scale (scale-up burst and idle-environment density)",
    )
    parser.add_argument(
        "--no-peers",
        action="store_true",
        help="url part without chalice local and serverless-offline (otherwise installed once into "
        "bench/.cache/, before the clock starts)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    use_wrk = loadgen.wrk_path() is not None and not args.no_wrk
    if loadgen.wrk_path() is None:
        print(f"NOTE: {loadgen.WRK_INSTALL_HINT}; throughput below is from the asyncio fallback.")

    signal.signal(signal.SIGTERM, _stop_on_signal)
    # The url part's peers are installed (once, each bounded by a timeout) before the clock starts.
    prepared: dict[str, peers.Prepared] = {}
    if args.only in (None, "url") and not args.no_peers:
        prepared = peers.prepare()
    signal.signal(signal.SIGALRM, _stop_on_signal)
    signal.alarm(HARD_LIMIT_S)
    started = time.monotonic()
    results: dict[str, Any] = {
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "only": args.only,
        "plan": plan.__dict__,
        "machine": machine(),
        "source": source(),
        "throughput_tool": "wrk" if use_wrk else "asyncio fallback",
    }
    with tempfile.TemporaryDirectory(prefix="lambdabox-bench-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        print(f"starting Lambdabox (work dir {work}) ...", flush=True)
        server, port, startup_s = servers.start_lambdabox(work)
        stack.callback(server.stop)
        results["server_startup_s"] = round(startup_s, 3)
        if args.only in (None, "invoke"):
            print("starting the baseline server ...", flush=True)
            baseline, base_port = servers.start_baseline(work)
            stack.callback(baseline.stop)
            ours = Target("lambdabox", port, server.pid, {})
            base = Target("baseline", base_port, baseline.pid, {})
            results["warm"] = warm(plan, ours, base, work, use_wrk, args.profile)
            results["cold"] = cold(plan, port, work)
        if args.only in (None, "url"):
            print("starting the baseline server ...", flush=True)
            url_base, url_base_port = servers.start_baseline(work)
            stack.callback(url_base.stop)
            results["url"] = urls.run(
                port,
                server.pid,
                url_base_port,
                url_base.pid,
                work,
                plan.connections,
                plan.wrk_seconds,
                plan.warmup_seconds,
                use_wrk,
                prepared,
            )
        if args.only in (None, "s3"):
            lambdabox = s3.Endpoint("lambdabox", port, server.pid)
            results["s3"] = s3.run(args.quick, lambdabox, work / "data", work)
        if args.only in (None, "scale"):  # last: its burst and 500 environments leave work behind
            print(f"scale: {plan.burst} concurrent first invocations ...", flush=True)
            up = scaling.scale_up(port, plan.burst)
            print(f"scale: density, {plan.idle_environments} idle provisioned environments ...", flush=True)
            results["scaling"] = {
                "scale_up": up,
                "density": scaling.density(port, server.pid, plan.idle_environments),
            }
        results["environments_at_end"] = servers.health(port).environments
    signal.alarm(0)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["duration_s"] = round(time.monotonic() - started, 1)
    report.add_summary(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(_finite(results), indent=2, allow_nan=False) + "\n")
    print()
    print(report.table(results))
    print(f"\nresults: {args.output}  ({results['duration_s']} s)")
    failed = results["summary"]["failed_requests"]
    if failed:
        print(f"FAILED REQUESTS: {failed} (must be zero)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped, temporary data removed")
        sys.exit(130)
