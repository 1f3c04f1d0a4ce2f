"""The S3 section's summary, table rows and target lines (bench/report.py calls these)."""

from __future__ import annotations

import math
from typing import Any

from s3 import TARGET_NOTIFY_P50_MS, TARGET_SMALL_OPS_RATIO, TARGET_UPLOAD_DISK_FRACTION


def _ratio(value: float | None, base: float | None) -> float:
    if value is None or base is None or not base or math.isnan(value) or math.isnan(base):
        return math.nan
    return round(value / base, 4)


def summarize(s3: dict[str, Any]) -> tuple[dict[str, float], int, dict[str, Any]]:
    """(ratios, failed requests, targets) of the S3 section."""
    small, large, notify = s3["small"], s3["large"], s3["notify"]
    ours, moto = small["lambdabox"], small.get("moto")
    ratios: dict[str, float] = {}
    for op in ("put", "get"):
        ratios[f"s3_small_{op}_ops"] = _ratio(ours[op]["ops_per_s"], moto[op]["ops_per_s"] if moto else None)
        ratios[f"s3_small_{op}_server_cpu"] = _ratio(
            ours[op]["server_cpu_us_per_op"], moto[op]["server_cpu_us_per_op"] if moto else None
        )
    wrk = s3.get("small_wrk", {})
    if wrk:
        wrk_ours, wrk_moto = wrk["lambdabox"], wrk.get("moto")
        for op in ("put", "get"):
            for key, field_name in (("ops", "ops_per_s"), ("server_cpu", "server_cpu_us_per_op")):
                ratios[f"s3_wrk_{op}_{key}"] = _ratio(
                    wrk_ours[op][field_name], wrk_moto[op][field_name] if wrk_moto else None
                )
    lb, lm, disk = large["lambdabox"], large.get("moto"), large["raw_disk_write"]["median_mb_per_s"]
    for way in ("upload", "download"):
        base = lm[way]["median_mb_per_s"] if lm else None
        ratios[f"s3_large_{way}"] = _ratio(lb[way]["median_mb_per_s"], base)
    ratios["s3_large_upload_vs_disk"] = _ratio(lb["upload"]["median_mb_per_s"], disk)
    invoke = notify["invoke_baseline"]
    for p in ("p50", "p99"):
        for what in ("response", "sent"):
            ratios[f"s3_notify_{what}_{p}"] = _ratio(
                notify[f"start_after_{what}"][f"{p}_ms"], invoke[f"{p}_ms"]
            )
    failed = int(notify["failures"])
    for name, result in small.items():
        failed += sum(int(result[op]["failures"]) for op in ("put", "get"))
        failed += sum(int(large[name][way]["failures"]) for way in ("upload", "download"))
    for result in wrk.values():
        failed += sum(int(result[op]["failures"]) for op in ("put", "get"))
    notify_p50 = notify["start_after_response"]["p50_ms"]
    small_min = min(ratios["s3_small_put_ops"], ratios["s3_small_get_ops"])
    targets = {
        "s3_small_objects": {
            "target": f">= {TARGET_SMALL_OPS_RATIO:.0f}x moto's operations/s (1 KiB PUT and GET)",
            "measured_ratio_put": ratios["s3_small_put_ops"],
            "measured_ratio_get": ratios["s3_small_get_ops"],
            "wrk_ratio_put": ratios.get("s3_wrk_put_ops", math.nan),
            "wrk_ratio_get": ratios.get("s3_wrk_get_ops", math.nan),
            "met": not math.isnan(small_min) and small_min >= TARGET_SMALL_OPS_RATIO,
        },
        "s3_large_upload": {
            "target": f">= {TARGET_UPLOAD_DISK_FRACTION:.0%} of the raw disk write speed",
            "measured_mb_per_s": lb["upload"]["median_mb_per_s"],
            "disk_mb_per_s": disk,
            "measured_fraction": ratios["s3_large_upload_vs_disk"],
            "met": ratios["s3_large_upload_vs_disk"] >= TARGET_UPLOAD_DISK_FRACTION,
        },
        "s3_put_to_handler_start": {
            "target": f"<= {TARGET_NOTIFY_P50_MS:.0f} ms p50 (handler start - PUT response received)",
            "measured_p50_ms": notify_p50,
            "met": notify_p50 <= TARGET_NOTIFY_P50_MS,
        },
    }
    return ratios, failed, targets


def _ms(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f} ms"


def _x(value: float) -> str:
    if math.isnan(value) or value < 0:  # a negative delay (handler started first) has no useful ratio
        return "n/a"
    return f"{value:.3f}x" if value < 0.1 else f"{value:.2f}x"


def _num(value: float | None, unit: str) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.0f} {unit}"


def rows(s3: dict[str, Any], ratios: dict[str, float]) -> list[tuple[str, str, str, str]]:
    """Table rows (benchmark, lambdabox, baseline, ratio); a row with an empty second column is a title."""
    small, large, notify = s3["small"], s3["large"], s3["notify"]
    out: list[tuple[str, str, str, str]] = []
    ours, moto = small["lambdabox"], small.get("moto", {})
    threads = ours["put"]["threads"]
    out.append((f"S3 1 KiB objects, {threads} boto3 threads, operations/s; baseline moto server", "", "", ""))
    for op, name in (("put", "PutObject"), ("get", "GetObject")):
        base = moto.get(op, {})
        out.append(
            (
                f"  {name}",
                _num(ours[op]["ops_per_s"], "/s"),
                _num(base.get("ops_per_s"), "/s"),
                _x(ratios[f"s3_small_{op}_ops"]),
            )
        )
        out.append(
            (
                "    p50 / p99 per call",
                f"{ours[op]['p50_ms']:.2f}/{ours[op]['p99_ms']:.2f} ms",
                f"{base['p50_ms']:.2f}/{base['p99_ms']:.2f} ms" if base else "n/a",
                "",
            )
        )
        out.append(
            (
                "    server/client CPU per op (ratio: srv)",
                f"{ours[op]['server_cpu_us_per_op']:.0f} / {ours[op]['client_cpu_us_per_op']:.0f} us",
                f"{base['server_cpu_us_per_op']:.0f} / {base['client_cpu_us_per_op']:.0f} us"
                if base
                else "n/a",
                _x(ratios[f"s3_small_{op}_server_cpu"]),
            )
        )
    wrk = s3.get("small_wrk", {})
    if wrk:
        wrk_ours, wrk_moto = wrk["lambdabox"], wrk.get("moto", {})
        connections = wrk_ours["put"]["connections"]
        out.append(
            (
                f"S3 1 KiB objects, wrk, {connections} connections, pre-signed requests, operations/s",
                "",
                "",
                "",
            )
        )
        for op, name in (("put", "PutObject (fresh keys)"), ("get", "GetObject")):
            base = wrk_moto.get(op, {})
            out.append(
                (
                    f"  {name}",
                    _num(wrk_ours[op]["ops_per_s"], "/s"),
                    _num(base.get("ops_per_s"), "/s"),
                    _x(ratios[f"s3_wrk_{op}_ops"]),
                )
            )
            out.append(
                (
                    "    p50 / p99 latency",
                    f"{wrk_ours[op]['p50_ms']:.2f}/{wrk_ours[op]['p99_ms']:.2f} ms",
                    f"{base['p50_ms']:.2f}/{base['p99_ms']:.2f} ms" if base else "n/a",
                    "",
                )
            )
            out.append(
                (
                    "    server CPU per op",
                    f"{wrk_ours[op]['server_cpu_us_per_op']:.0f} us",
                    f"{base['server_cpu_us_per_op']:.0f} us" if base else "n/a",
                    _x(ratios[f"s3_wrk_{op}_server_cpu"]),
                )
            )
    lb, lm, disk = large["lambdabox"], large.get("moto", {}), large["raw_disk_write"]
    mb = lb["upload"]["megabytes"]
    out.append(
        (f"S3 {mb} MiB object, boto3 single-part, median of {lb['upload']['rounds']}, MB/s", "", "", "")
    )
    for way in ("upload", "download"):
        out.append(
            (
                f"  {way} (vs moto)",
                _num(lb[way]["median_mb_per_s"], "MB/s"),
                _num(lm.get(way, {}).get("median_mb_per_s"), "MB/s"),
                _x(ratios[f"s3_large_{way}"]),
            )
        )
    out.append(
        (
            "  upload (vs raw disk write + fsync)",
            _num(lb["upload"]["median_mb_per_s"], "MB/s"),
            _num(disk["median_mb_per_s"], "MB/s"),
            _x(ratios["s3_large_upload_vs_disk"]),
        )
    )
    invoke = notify["invoke_baseline"]
    out.append(
        (
            f"S3 PUT -> handler start, {notify['start_after_response']['count']} PUTs; baseline warm boto3 invoke",
            "",
            "",
            "",
        )
    )
    for what, label in (("response", "after PUT response"), ("sent", "after PUT sent")):
        for p in ("p50", "p99"):
            out.append(
                (
                    f"  {label} {p}",
                    _ms(notify[f"start_after_{what}"][f"{p}_ms"]),
                    _ms(invoke[f"{p}_ms"]),
                    _x(ratios[f"s3_notify_{what}_{p}"]),
                )
            )
    out.append(
        (
            "  cold starts; environments before/after",
            f"{notify['cold_starts_during_puts']} / {notify['environments_before']}-{notify['environments_after']}",
            "",
            "",
        )
    )
    return out


def target_lines(targets: dict[str, Any]) -> list[str]:
    small, upload, notify = (
        targets["s3_small_objects"],
        targets["s3_large_upload"],
        targets["s3_put_to_handler_start"],
    )
    verdict = {True: "MET", False: "NOT MET"}
    return [
        f"Target S3 small objects {small['target']}: boto3 PUT {_x(small['measured_ratio_put'])},"
        f" GET {_x(small['measured_ratio_get'])}; wrk PUT {_x(small['wrk_ratio_put'])},"
        f" GET {_x(small['wrk_ratio_get'])} -> {verdict[small['met']]}",
        f"Target S3 large upload {upload['target']}: {_num(upload['measured_mb_per_s'], 'MB/s')} of"
        f" {_num(upload['disk_mb_per_s'], 'MB/s')} = {_x(upload['measured_fraction'])}"
        f" -> {verdict[upload['met']]}",
        f"Target S3 PUT -> handler start {notify['target']}: {_ms(notify['measured_p50_ms'])}"
        f" -> {verdict[notify['met']]}",
    ]
