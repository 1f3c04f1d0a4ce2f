"""Ratios, targets and the printed table, computed from the results document run.py builds."""

from __future__ import annotations

import math
from typing import Any

import s3_report
import scaling
import urls

# From the product brief. Targets live here, in the benchmarks, never in timed tests.
TARGET_COLD_RATIO = 0.03  # boto3 handler cold start vs `python -c "import boto3; boto3.client('s3')"`
TARGET_COLD_MS = 10.0
TARGET_RPS = 10_000.0  # warm invocations per second on two cores
TARGET_OVERHEAD_MS = 0.3  # server-side overhead of a warm invoke, p50: ours minus a bare uvicorn round trip


def ratio(value: float, base: float) -> float:
    if not base or math.isnan(value) or math.isnan(base):
        return math.nan
    return round(value / base, 4)


def _failed(result: dict[str, Any]) -> int:
    return int(result.get("failures", result.get("failed", 0)))


def add_summary(results: dict[str, Any]) -> None:
    """results["summary"]: the ratios, failed requests and targets of the parts that ran."""
    summary: dict[str, Any] = {"ratios": {}, "failed_requests": 0, "failed_by_benchmark": {}, "targets": {}}
    if "warm" in results:
        _invoke_summary(results, summary)
    if "s3" in results:
        ratios, failed, targets = s3_report.summarize(results["s3"])
        summary["ratios"].update(ratios)
        summary["failed_by_benchmark"]["s3"] = failed
        summary["targets"].update(targets)
    if "url" in results:
        ratios, failed, targets = urls.summarize(results["url"])
        summary["ratios"].update(ratios)
        summary["failed_by_benchmark"]["url"] = failed
        summary["targets"].update(targets)
        summary["peer_failed_requests"] = urls.peer_failed(results["url"])
    if "scaling" in results:
        ratios, failed, targets = scaling.summarize(results["scaling"])
        summary["ratios"].update(ratios)
        summary["failed_by_benchmark"]["scaling"] = failed
        summary["targets"].update(targets)
    summary["failed_requests"] = sum(summary["failed_by_benchmark"].values())
    results["summary"] = summary


def _invoke_summary(results: dict[str, Any], summary: dict[str, Any]) -> None:
    warm, cold = results["warm"], results["cold"]
    lat, boto = warm["latency"], warm["boto3"]
    ratios: dict[str, float] = {
        "warm_p50_http": ratio(lat["lambdabox"]["p50_ms"], lat["baseline"]["p50_ms"]),
        "warm_p99_http": ratio(lat["lambdabox"]["p99_ms"], lat["baseline"]["p99_ms"]),
        "warm_p50_boto3": ratio(boto["lambdabox"]["p50_ms"], boto["baseline"]["p50_ms"]),
        "warm_p99_boto3": ratio(boto["lambdabox"]["p99_ms"], boto["baseline"]["p99_ms"]),
    }
    for point in warm["throughput"]:
        c = point["connections"]
        ratios[f"rps_c{c}"] = ratio(point["lambdabox"]["rps"], point["baseline"]["rps"])
        ours_cpu, base_cpu = (
            point["lambdabox"].get("cpu_us_per_request"),
            point["baseline"].get("cpu_us_per_request"),
        )
        if ours_cpu and base_cpu:
            ratios[f"cpu_c{c}"] = ratio(sum(ours_cpu.values()), sum(base_cpu.values()))
    for key in ("seed", "noop"):
        ours, base = cold[key]["lambdabox"], cold[key]["baseline"]
        ratios[f"cold_{key}_p50"] = ratio(ours["latency"]["p50_ms"], base["median_ms"])
        ratios[f"cold_{key}_init_p50"] = ratio(ours["init"]["p50_ms"], base["median_ms"])

    failed = {
        "latency": sum(_failed(r) for r in lat.values()),
        "boto3": sum(_failed(r) for r in boto.values()),
        "throughput": sum(_failed(p[n]) for p in warm["throughput"] for n in ("lambdabox", "baseline")),
        "cold": sum(_failed(cold[k]["lambdabox"]) for k in ("seed", "noop")),
    }
    best = max(warm["throughput"], key=lambda p: p["lambdabox"]["rps"])
    seed = cold["seed"]["lambdabox"]["latency"]["p50_ms"]
    summary["ratios"].update(ratios)
    summary["failed_by_benchmark"].update(failed)
    overhead = lat["lambdabox"]["p50_ms"] - lat["baseline"]["p50_ms"]
    summary["targets"].update(
        {
            "warm_overhead_p50": {
                "target": f"<= {TARGET_OVERHEAD_MS} ms server-side overhead, p50 (sequential client)",
                "measured_ms": round(overhead, 3),
                "met": overhead <= TARGET_OVERHEAD_MS,
            },
            "cold_start_boto3_handler": {
                "target": f"<= {TARGET_COLD_RATIO}x the plain-process baseline (~{TARGET_COLD_MS:.0f} ms)",
                "measured_ms": seed,
                "measured_ratio": ratios["cold_seed_p50"],
                "met": ratios["cold_seed_p50"] <= TARGET_COLD_RATIO,
            },
            "warm_throughput": {
                "target": f">= {TARGET_RPS:,.0f} warm invocations/s on two cores",
                "best_rps": round(best["lambdabox"]["rps"]),
                "at_connections": best["connections"],
                "fraction_of_target": round(best["lambdabox"]["rps"] / TARGET_RPS, 4),
                "met": best["lambdabox"]["rps"] >= TARGET_RPS,
            },
        }
    )


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else (f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms")


def _x(value: float) -> str:
    return "n/a" if math.isnan(value) else (f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x")


def table(results: dict[str, Any]) -> str:
    summary = results["summary"]
    rows = _invoke_rows(results) if "warm" in results else []
    if "s3" in results:
        rows += s3_report.rows(results["s3"], summary["ratios"])
    if "url" in results:
        rows += urls.rows(results["url"])
    if "scaling" in results:
        rows += scaling.rows(results["scaling"])
    return "\n".join(_format(rows) + _target_lines(results))


def _invoke_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    warm, cold = results["warm"], results["cold"]
    ratios = results["summary"]["ratios"]
    rows: list[tuple[str, str, str, str]] = []

    def section(title: str) -> None:
        rows.append((title, "", "", ""))

    lat, boto = warm["latency"], warm["boto3"]
    section(
        f"Warm invoke, 1 sequential client, {lat['lambdabox']['count']} requests (http.client keep-alive)"
    )
    for p in ("p50", "p99"):
        rows.append(
            (
                f"  {p}",
                _ms(lat["lambdabox"][f"{p}_ms"]),
                _ms(lat["baseline"][f"{p}_ms"]),
                _x(ratios[f"warm_{p}_http"]),
            )
        )
    section(f"Warm invoke, boto3 client.invoke per call, {boto['lambdabox']['count']} calls")
    for p in ("p50", "p99"):
        rows.append(
            (
                f"  {p}",
                _ms(boto["lambdabox"][f"{p}_ms"]),
                _ms(boto["baseline"][f"{p}_ms"]),
                _x(ratios[f"warm_{p}_boto3"]),
            )
        )
    tool = results["throughput_tool"]
    section(f"Warm throughput ({tool}, {results['plan']['wrk_seconds']:.0f} s per point), requests/s")
    for point in warm["throughput"]:
        c = point["connections"]
        ours, base = point["lambdabox"], point["baseline"]
        rows.append(
            (
                f"  {c} connection(s)",
                f"{ours['rps']:,.0f}/s",
                f"{base['rps']:,.0f}/s",
                _x(ratios[f"rps_c{c}"]),
            )
        )
        rows.append(
            (
                "    p50 / p99 latency",
                f"{ours['p50_ms']:.2f}/{ours['p99_ms']:.2f} ms",
                f"{base['p50_ms']:.2f}/{base['p99_ms']:.2f} ms",
                "",
            )
        )
        oc, bc = ours.get("cpu_us_per_request", {}), base.get("cpu_us_per_request", {})
        if oc and bc:
            rows.append(
                (
                    "    CPU per request (server+envs)",
                    f"{oc['server']:.0f}+{oc['children']:.0f} us",
                    f"{bc['server']:.0f} us",
                    _x(ratios[f"cpu_c{c}"]),
                )
            )
        rows.append(
            (
                "    environments before/after",
                f"{point['environments_before']}/{point['environments_after']}",
                "",
                "",
            )
        )
    for key, title in (("seed", "boto3 ('seed-style') handler"), ("noop", "no-op handler, no imports")):
        ours, base = cold[key]["lambdabox"], cold[key]["baseline"]
        section(
            f"Cold start, {title}, {ours['latency']['count']} fresh environments; baseline {base['command'].split(' ', 1)[1]}"
        )
        lo, hi = ours["latency"]["min_ms"], ours["latency"]["max_ms"]
        rows.append(
            (
                "  first invoke p50 (min-max)",
                f"{_ms(ours['latency']['p50_ms'])} ({lo:.0f}-{hi:.0f})",
                _ms(base["median_ms"]),
                _x(ratios[f"cold_{key}_p50"]),
            )
        )
        rows.append(
            (
                "  REPORT Init Duration p50",
                _ms(ours["init"]["p50_ms"]),
                _ms(base["median_ms"]),
                _x(ratios[f"cold_{key}_init_p50"]),
            )
        )
    return rows


def _format(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """Aligned columns; a row with an empty second column is a section title, printed as is."""
    widths = [max(len(r[i]) for r in rows if r[1] or i == 0) for i in range(4)]
    widths[0] = min(widths[0], 44)
    head = ("benchmark", "lambdabox", "baseline", "ratio")
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    ]
    for row in rows:
        if not row[1]:
            lines.append(row[0])
            continue
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return lines


def _target_lines(results: dict[str, Any]) -> list[str]:
    summary = results["summary"]
    targets = summary["targets"]
    lines = [""]
    if "warm" in results:
        lines += _invoke_target_lines(results)
    if "s3" in results:
        lines += s3_report.target_lines(targets)
    if "url" in results:
        lines += urls.target_lines(targets)
    if "scaling" in results:
        lines += scaling.target_lines(targets)
    failed = summary["failed_by_benchmark"]
    lines.append(
        f"Failed requests: {summary['failed_requests']} ({', '.join(f'{k} {v}' for k, v in failed.items())})"
    )
    peer_failed = summary.get("peer_failed_requests")
    if peer_failed:
        lines.append(
            "Peers' failed requests (theirs, not in the exit status; wrk's reconnect read errors on"
            " Connection: close excluded): "
            + ", ".join(f"{urls.LABELS[k]} {v}" for k, v in peer_failed.items())
        )
    return lines


def _invoke_target_lines(results: dict[str, Any]) -> list[str]:
    targets = results["summary"]["targets"]
    cold_t, rps_t = targets["cold_start_boto3_handler"], targets["warm_throughput"]
    overhead_t = targets["warm_overhead_p50"]
    lines: list[str] = [
        f"Target warm invoke {overhead_t['target']}: {_ms(overhead_t['measured_ms'])}"
        f" -> {'MET' if overhead_t['met'] else 'NOT MET'}"
    ]
    lines.append(
        f"Target cold start {cold_t['target']}: {_ms(cold_t['measured_ms'])} = {_x(cold_t['measured_ratio'])}"
        f" -> {'MET' if cold_t['met'] else 'NOT MET'}"
    )
    lines.append(
        f"Target throughput {rps_t['target']}: best {rps_t['best_rps']:,}/s at {rps_t['at_connections']} connections"
        f" = {rps_t['fraction_of_target']:.1%} of target -> {'MET' if rps_t['met'] else 'NOT MET'}"
    )
    profile = results["warm"].get("profile", {})
    if profile.get("samples"):
        lines.append("")
        lines.append(
            f"py-spy profile under load ({profile['samples']} samples, raw stacks in {profile['raw']}):"
        )
        for role, top in profile["self_pct"].items():
            lines.append(f"  {role} self time: " + ", ".join(f"{name} {pct}%" for name, pct in top[:6]))
    return lines
