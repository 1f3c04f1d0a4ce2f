"""`lambdabox doctor`: which isolation mechanisms this machine gives execution environments, and why not;
which interpreter runs each Python runtime."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

HINTS = {
    "pidNamespace": "run as root (namespaces need CAP_SYS_ADMIN)",
    "mountNamespace": "run as root (namespaces need CAP_SYS_ADMIN)",
    "readOnlyRoot": "needs a mount namespace and mount_setattr (Linux 5.12+)",
    "user": "run as root, so that environments can drop to an unprivileged user",
    "seccomp": "install libseccomp (apt-get install libseccomp2) and pyseccomp",
    "cgroupMemory": "cgroup v2: run in a delegated cgroup (systemd-run --scope -p Delegate=yes); v1: run as root",
}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(as_json: bool) -> None:
    """Check which isolation mechanisms work on this machine (run it as the user that runs `up`), and
    which interpreter runs each Python runtime."""
    report = do_doctor(dict(os.environ))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    status = report["isolation"]
    reasons = status.get("unavailable", {})
    click.echo(f"isolation setting: LAMBDABOX_ISOLATION={report['setting']}")
    for name, value in status.items():
        if name in ("enabled", "unavailable"):
            continue
        note = reasons.get(name, "")
        hint = HINTS.get(name, "") if note else ""
        line = f"  {name:<15} {value:<10} {note}"
        click.echo(line.rstrip() + (f"  -> {hint}" if hint else ""))
    if report["setting"] == "off":
        click.echo("LAMBDABOX_ISOLATION=off: `lambdabox up` uses none of these.")
    click.echo("Python runtimes (LAMBDABOX_PYTHONS, LAMBDABOX_PYTHON_DISCOVERY, LAMBDABOX_PYTHON):")
    for runtime, interpreter in report["pythonRuntimes"].items():
        click.echo(f"  {runtime:<15} {interpreter['version']:<10} {interpreter['executable']}")


def do_doctor(env: dict[str, str]) -> dict[str, Any]:
    """Probe the machine the way `lambdabox up` does, then undo what the probe set up."""
    from lambdabox.config import load_settings
    from lambdabox.execution.isolation import Isolation
    from lambdabox.runtimes.registry import RuntimeRegistry

    settings = load_settings(env)
    scratch = Path(tempfile.mkdtemp(prefix="lambdabox-doctor-"))
    try:
        registry = RuntimeRegistry.for_settings(settings, scratch / "runtime", env)
        isolation = Isolation.create(
            enabled=True,
            data_dir=scratch,
            code_dir=scratch / "code",
            needed=registry.read_paths(),
        )
        isolation.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    runtimes = {
        runtime: {"version": interpreter.version, "executable": interpreter.executable}
        for runtime, interpreter in registry.python_runtimes().items()
    }
    return {
        "setting": "on" if settings.isolation else "off",
        "isolation": isolation.status(),
        "pythonRuntimes": runtimes,
    }


def register(group: click.Group) -> None:
    group.add_command(doctor)
