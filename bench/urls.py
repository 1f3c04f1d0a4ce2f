"""`bench/run.py --only url`: a function URL (NONE auth, BUFFERED) under wrk, beside the bare ASGI baseline
server answering the same request in the same run.

The function returns a plain dict, so each request goes edge -> URL data plane (policy check, payload 2.0
event) -> warm execution environment -> response mapping. Measured at 1, 8 and 32 connections: req/s,
p50 and p99 (wrk's latency distribution), CPU per request of the server and of its runtimes.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import loadgen
import servers

BODY = b'{"ping": 1}'
FUNCTION = "bench-url"
HANDLER = "def handler(event, context):\n    return {'ping': 1}\n"
TARGET_RPS = 10_000.0
TARGET_P99_MS = 5.0


def _ratio(value: float, base: float) -> float:
    return math.nan if not base else round(value / base, 4)


def _url(port: int) -> str:
    client = servers.lambda_client(port)
    servers.deploy(client, FUNCTION, HANDLER)
    created = client.create_function_url_config(FunctionName=FUNCTION, AuthType="NONE")
    client.add_permission(
        FunctionName=FUNCTION,
        StatementId="public",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    return str(created["FunctionUrl"]).split("//", 1)[1].split(".", 1)[0]


def run(
    ours_port: int,
    ours_pid: int,
    base_port: int,
    base_pid: int,
    work: Path,
    connections: tuple[int, ...],
    seconds: float,
    warmup: float,
    use_wrk: bool,
) -> dict[str, Any]:
    url_id = _url(ours_port)
    url_path = f"/_lambdabox/url/{url_id}/"
    invoke_path = f"/2015-03-31/functions/{FUNCTION}/invocations"
    plain = {"Content-Type": "application/json"}
    # The same function through the Invoke API (SigV4-signed), to tell the URL layer's cost from the rest.
    targets = (
        ("lambdabox", ours_port, ours_pid, url_path, plain),
        (
            "invoke_api",
            ours_port,
            ours_pid,
            invoke_path,
            servers.signed_headers(ours_port, invoke_path, BODY),
        ),
        ("baseline", base_port, base_pid, url_path, plain),
    )
    out: dict[str, Any] = {"url_id": url_id, "path": url_path, "throughput": []}
    for count in connections:
        print(f"url: throughput, {count} connection(s) ...", flush=True)
        point: dict[str, Any] = {"connections": count}
        for name, port, pid, path, headers in targets:
            script = work / f"wrk-url-{name}.lua"
            loadgen.throughput(port, path, headers, BODY, count, warmup, script, use_wrk)  # scale out first
            time.sleep(0.2)
            before = servers.cpu_split(pid)
            rate = loadgen.throughput(port, path, headers, BODY, count, seconds, script, use_wrk)
            cpu = servers.cpu_per_request_us(pid, before, servers.cpu_split(pid), rate.requests)
            point[name] = {**rate.to_json(), "cpu_us_per_request": cpu}
        point["environments"] = servers.health(ours_port).environments
        out["throughput"].append(point)
    return out


def target_lines(targets: dict[str, Any]) -> list[str]:
    t = targets["function_url_throughput"]
    return [
        f"Target function URL {t['target']}: {t['rps']:,}/s, p99 {t['p99_ms']:.2f} ms"
        f" -> {'MET' if t['met'] else 'NOT MET'}"
    ]


def summarize(result: dict[str, Any]) -> tuple[dict[str, float], int, dict[str, Any]]:
    ratios: dict[str, float] = {}
    failed = 0
    for point in result["throughput"]:
        c = point["connections"]
        ratios[f"url_rps_c{c}"] = _ratio(point["lambdabox"]["rps"], point["baseline"]["rps"])
        failed += sum(int(point[n]["failed"]) for n in ("lambdabox", "invoke_api", "baseline"))
    at32 = next((p for p in result["throughput"] if p["connections"] == 32), result["throughput"][-1])
    ours = at32["lambdabox"]
    targets = {
        "function_url_throughput": {
            "target": f">= {TARGET_RPS:,.0f} req/s and p99 < {TARGET_P99_MS:.0f} ms at 32 connections",
            "rps": round(ours["rps"]),
            "p99_ms": ours["p99_ms"],
            "met": ours["rps"] >= TARGET_RPS and ours["p99_ms"] < TARGET_P99_MS,
        }
    }
    return ratios, failed, targets


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = [("Function URL (wrk, POST, NONE auth)", "", "", "")]
    for point in result["throughput"]:
        ours, base = point["lambdabox"], point["baseline"]
        c = point["connections"]
        out.append(
            (
                f"  req/s, {c} conn",
                f"{ours['rps']:,.0f}",
                f"{base['rps']:,.0f}",
                f"{_ratio(ours['rps'], base['rps']):.2f}x",
            )
        )
        api = point["invoke_api"]
        out.append((f"  same function via Invoke API, {c} conn", f"{api['rps']:,.0f}", "", ""))
        out.append(
            (
                f"  p50 / p99, {c} conn",
                f"{ours['p50_ms']:.2f} / {ours['p99_ms']:.2f} ms",
                f"{base['p50_ms']:.2f} / {base['p99_ms']:.2f} ms",
                "",
            )
        )
    return out
