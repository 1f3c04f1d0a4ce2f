"""`bench/run.py --only url`: a function URL (NONE auth, BUFFERED) under wrk, beside the bare ASGI baseline
server answering the same request in the same run.

The function returns a plain dict, so each request goes edge -> URL data plane (policy check, payload 2.0
event) -> warm execution environment -> response mapping. Measured at 1, 8 and 32 connections: req/s,
p50 and p99 (wrk's latency distribution), CPU per request of the server and of its runtimes.

Peers (`bench/peers.py`): `chalice local` and serverless-offline serve the same no-op handler behind an HTTP
route and get the same wrk points in the same run, interleaved with Lambdabox and the baseline at every
connection count. A peer that could not be installed or started is listed as skipped, with the reason.
Peers' failed requests are recorded and printed but are not Lambdabox's: they do not change the exit code.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import loadgen
import peers
import servers

BODY = b'{"ping": 1}'
FUNCTION = "bench-url"
HANDLER = "def handler(event, context):\n    return {'ping': 1}\n"
TARGET_RPS = 10_000.0
TARGET_P99_MS = 5.0
TARGET_PEER_RATIO = 15.0
Target = tuple[str, int, int, str, dict[str, str]]  # name, port, pid, path, headers
PEERS = {"chalice": "chalice local", "serverless-offline": "serverless-offline"}
# chalice local answers with two writes (headers, then body); on a keep-alive connection the body waits
# for the client's delayed ACK (~40 ms). The same peer is also measured with a new connection per request
# (`Connection: close`), and the target is checked against the better of the two. Its answers do not say
# `Connection: close`, so wrk sends its next request on the closed connection, gets EOF (a "read" error)
# and reconnects: one read error per completed request there is wrk's retry, not a lost request.
VARIANTS = {"chalice": {"chalice-close": ("chalice local, Connection: close", {"Connection": "close"})}}
LABELS = {**PEERS, **{k: v[0] for variants in VARIANTS.values() for k, v in variants.items()}}


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
    prepared: dict[str, peers.Prepared],
) -> dict[str, Any]:
    url_id = _url(ours_port)
    url_path = f"/_lambdabox/url/{url_id}/"
    invoke_path = f"/2015-03-31/functions/{FUNCTION}/invocations"
    plain = {"Content-Type": "application/json"}
    # The same function through the Invoke API (SigV4-signed), to tell the URL layer's cost from the rest.
    targets: list[Target] = [
        ("lambdabox", ours_port, ours_pid, url_path, plain),
        (
            "invoke_api",
            ours_port,
            ours_pid,
            invoke_path,
            servers.signed_headers(ours_port, invoke_path, BODY),
        ),
        ("baseline", base_port, base_pid, url_path, plain),
    ]
    out: dict[str, Any] = {"url_id": url_id, "path": url_path, "throughput": []}
    if prepared:  # empty with --no-peers
        out["peers"] = {}
    started = peers.start(prepared, work, HANDLER, BODY) if prepared else {}
    try:
        for name, peer in started.items():
            ready = prepared.get(name)
            info: dict[str, Any] = {"install_s": round(ready.install_s, 1) if ready else None}
            if isinstance(peer, str):
                print(f"url: {PEERS[name]} skipped: {peer}", flush=True)
                out["peers"][name] = {**info, "status": "skipped", "reason": peer}
                continue
            assert ready is not None
            out["peers"][name] = {
                **info,
                "status": "measured",
                "version": ready.detail,
                "path": peer.path,
                "startup_s": round(peer.startup_s, 2),
            }
            targets.append((name, peer.port, peer.process.pid, peer.path, plain))
            for variant, (_, extra) in VARIANTS.get(name, {}).items():
                out["peers"][variant] = {**out["peers"][name], "extra_headers": extra}
                targets.append((variant, peer.port, peer.process.pid, peer.path, {**plain, **extra}))
        _measure(out, targets, ours_port, work, connections, seconds, warmup, use_wrk)
    finally:
        for peer in started.values():
            if not isinstance(peer, str):
                peer.process.stop()
    return out


def _measure(
    out: dict[str, Any],
    targets: list[Target],
    ours_port: int,
    work: Path,
    connections: tuple[int, ...],
    seconds: float,
    warmup: float,
    use_wrk: bool,
) -> None:
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


def target_lines(targets: dict[str, Any]) -> list[str]:
    t = targets["function_url_throughput"]
    lines = [
        f"Target function URL {t['target']}: {t['rps']:,}/s, p99 {t['p99_ms']:.2f} ms"
        f" -> {'MET' if t['met'] else 'NOT MET'}"
    ]
    p = targets.get("function_url_vs_peers")
    if p:
        measured = ", ".join(
            f"{LABELS[name]} {_x(value)}" if value is not None else f"{LABELS[name]} not measured"
            for name, value in p["ratios"].items()
        )
        lines.append(f"Target function URL {p['target']}: {measured} -> {'MET' if p['met'] else 'NOT MET'}")
    return lines


def _x(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def _at32(result: dict[str, Any]) -> dict[str, Any]:
    return next((p for p in result["throughput"] if p["connections"] == 32), result["throughput"][-1])


def peer_failed(result: dict[str, Any]) -> dict[str, int]:
    """Failed requests per measured peer (theirs, not Lambdabox's: not part of the exit status). With
    `Connection: close`, wrk's "read" errors are its reconnects (see VARIANTS), not lost requests."""

    def lost(name: str, point: dict[str, Any]) -> int:
        closing = result["peers"][name].get("extra_headers", {}).get("Connection") == "close"
        return int(point[name]["failed"]) - (int(point[name]["errors"]["read"]) if closing else 0)

    return {
        name: sum(lost(name, point) for point in result["throughput"] if name in point)
        for name, peer in result.get("peers", {}).items()
        if peer["status"] == "measured"
    }


def summarize(result: dict[str, Any]) -> tuple[dict[str, float], int, dict[str, Any]]:
    ratios: dict[str, float] = {}
    failed = 0
    measured = [n for n, p in result.get("peers", {}).items() if p["status"] == "measured"]
    for point in result["throughput"]:
        c = point["connections"]
        ratios[f"url_rps_c{c}"] = _ratio(point["lambdabox"]["rps"], point["baseline"]["rps"])
        for name in measured:
            key = f"url_vs_{name.replace('-', '_')}_rps_c{c}"
            ratios[key] = _ratio(point["lambdabox"]["rps"], point[name]["rps"])
        failed += sum(int(point[n]["failed"]) for n in ("lambdabox", "invoke_api", "baseline"))
    at32 = _at32(result)
    ours = at32["lambdabox"]
    targets: dict[str, Any] = {
        "function_url_throughput": {
            "target": f">= {TARGET_RPS:,.0f} req/s and p99 < {TARGET_P99_MS:.0f} ms at 32 connections",
            "rps": round(ours["rps"]),
            "p99_ms": ours["p99_ms"],
            "met": ours["rps"] >= TARGET_RPS and ours["p99_ms"] < TARGET_P99_MS,
        }
    }
    if "peers" in result:
        peer_ratios = {
            name: _best_ratio(ours["rps"], at32, [name, *VARIANTS.get(name, {})]) for name in PEERS
        }
        targets["function_url_vs_peers"] = {
            "target": f">= {TARGET_PEER_RATIO:.0f}x the req/s of chalice local (the better of keep-alive and"
            " Connection: close) and serverless-offline at 32 connections",
            "ratios": peer_ratios,
            "met": all(v is not None and v >= TARGET_PEER_RATIO for v in peer_ratios.values()),
        }
    return ratios, failed, targets


def _best_ratio(ours: float, point: dict[str, Any], names: list[str]) -> float | None:
    """Lambdabox's req/s over the best of a peer's measured variants (None: none measured)."""
    rates = [point[n]["rps"] for n in names if n in point]
    return _ratio(ours, max(rates)) if rates else None


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = [("Function URL (wrk, POST, NONE auth)", "", "", "")]
    peer_info = result.get("peers", {})
    for name, info in peer_info.items():
        if info["status"] != "measured":
            out.append((f"  {LABELS[name]}: SKIPPED ({info['reason'][:300]})", "", "", ""))
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
        for name, label in LABELS.items():
            if name not in point:
                continue
            peer = point[name]
            kinds = ", ".join(f"{n} {kind}" for kind, n in peer.get("errors", {}).items() if n)
            failed = f" ({kinds} errors)" if kinds else ""
            out.append(
                (
                    f"  vs {label}: req/s, {c} conn{failed}",
                    f"{ours['rps']:,.0f}",
                    f"{peer['rps']:,.0f}",
                    _x(_ratio(ours["rps"], peer["rps"])),
                )
            )
            out.append(
                (
                    f"  vs {label}: p50 / p99, {c} conn",
                    f"{ours['p50_ms']:.2f} / {ours['p99_ms']:.2f} ms",
                    f"{peer['p50_ms']:.2f} / {peer['p99_ms']:.2f} ms",
                    "",
                )
            )
    return out
