"""Settings: one frozen object, built by a pure function from the environment and flags."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """`$LAMBDABOX_DATA_DIR`, else `$XDG_DATA_HOME/lambdabox`, else `~/.local/share/lambdabox`."""
    if env.get("LAMBDABOX_DATA_DIR"):
        return Path(env["LAMBDABOX_DATA_DIR"]).expanduser()
    xdg = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(xdg) / "lambdabox"


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    # Root credentials given by the environment; None means "generate or load from the data dir".
    root_access_key_id: str | None = None
    root_secret_access_key: str | None = None
    # Host name functions and clients use to reach the platform (the bind address unless it is a wildcard).
    advertised_host: str = DEFAULT_HOST
    account_concurrency: int = 1000
    # Seconds an idle execution environment is kept warm before it is reaped.
    idle_timeout: float = 600.0
    # Delays before the 2nd and 3rd attempt of a failed asynchronous invocation (AWS: ~1 and ~2 minutes).
    async_retry_delays: tuple[float, ...] = (60.0, 120.0)
    # Interpreter for the Python runtimes whose own version is not on this machine (runtimes/interpreters.py):
    # each python3.x runtime runs on Python 3.x when one is given (`python_interpreters`: version, path) or
    # found (`python_discovery`), else on this one.
    python_executable: str = sys.executable
    python_interpreters: tuple[tuple[str, str], ...] = ()
    python_discovery: bool = True
    # SigV4 on every AWS API call. Off (`LAMBDABOX_AUTH=off`) is a development switch: any request is
    # accepted as the root user's; the server warns at start and /_lambdabox/health shows "auth": "off".
    auth: bool = True
    # Longest sleep of the EventBridge scheduler between passes (it also wakes at the next due time).
    scheduler_tick: float = 1.0
    # Seconds added to the wall clock by the platform clock (EventBridge schedules and event times).
    clock_offset: float = 0.0
    # Test-only endpoints (`/_lambdabox/scheduler`: read the scheduler, move the clock). Never in production.
    test_hooks: bool = False
    # Kernel-enforced isolation of execution environments (namespaces, cgroups, unprivileged user,
    # seccomp), as far as the machine allows. Off (`LAMBDABOX_ISOLATION=off`): plain processes.
    isolation: bool = True
    # Seconds between passes that remove code packages and merged layer trees nothing uses any more; one
    # goes once nobody wrote or reused it for that long (and at every start).
    code_gc_interval: float = 600.0
    # Seconds an idle execution environment runs on before it is frozen (cgroup freezer).
    freeze_delay: float = 0.02
    # Admission control: memory (MB) kept free on the host when starting environments (None: 5 % of RAM,
    # at least 256 MB), an optional cap on the number of environments, and how long a cold start waits
    # for room before it is throttled (429).
    memory_reserve_mb: int | None = None
    max_environments: int | None = None
    admission_wait: float = 0.5
    # The master key sealing secrets at rest (docs/security.md): base64 of 32 bytes given by the environment,
    # else read from (or created 0600 in) `master_key_file`, by default `<data_dir>/master.key`.
    master_key: str | None = field(default=None, repr=False)
    master_key_file: Path | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.advertised_host}:{self.port}"


def _switch(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{name} must be 'on' or 'off', not {text!r}")


def _seconds(name: str, text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"{name} must be a number of seconds above 0, not {text!r}")
    return value


def _interpreters(text: str) -> tuple[tuple[str, str], ...]:
    """`LAMBDABOX_PYTHONS`: `3.12=/usr/bin/python3.12,3.13=/opt/py313/bin/python3`."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        version, sep, path = (part.strip() for part in item.partition("="))
        if not sep or not re.fullmatch(r"3\.\d+", version) or not path:
            raise ValueError(f"LAMBDABOX_PYTHONS: expected 3.X=/path/to/python, got {item!r}")
        pairs.append((version, path))
    return tuple(pairs)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _path(text: str) -> Path:
    return Path(text).expanduser()


# LAMBDABOX_* variable -> Settings field, and how its text becomes the value (empty: not set).
_FROM_ENV: tuple[tuple[str, str, Callable[[str], object]], ...] = (
    ("LAMBDABOX_HOST", "host", str),
    ("LAMBDABOX_PORT", "port", int),
    ("LAMBDABOX_ACCOUNT_ID", "account_id", str),
    ("LAMBDABOX_REGION", "region", str),
    ("LAMBDABOX_ROOT_ACCESS_KEY_ID", "root_access_key_id", str),
    ("LAMBDABOX_ROOT_SECRET_ACCESS_KEY", "root_secret_access_key", str),
    ("LAMBDABOX_ACCOUNT_CONCURRENCY", "account_concurrency", int),
    ("LAMBDABOX_IDLE_TIMEOUT", "idle_timeout", float),
    ("LAMBDABOX_ASYNC_RETRY_DELAYS", "async_retry_delays", _floats),
    ("LAMBDABOX_PYTHON", "python_executable", str),
    ("LAMBDABOX_PYTHONS", "python_interpreters", _interpreters),
    (
        "LAMBDABOX_PYTHON_DISCOVERY",
        "python_discovery",
        functools.partial(_switch, "LAMBDABOX_PYTHON_DISCOVERY"),
    ),
    ("LAMBDABOX_AUTH", "auth", functools.partial(_switch, "LAMBDABOX_AUTH")),
    ("LAMBDABOX_SCHEDULER_TICK", "scheduler_tick", float),
    ("LAMBDABOX_CLOCK_OFFSET", "clock_offset", float),
    ("LAMBDABOX_TEST_HOOKS", "test_hooks", functools.partial(_switch, "LAMBDABOX_TEST_HOOKS")),
    ("LAMBDABOX_ISOLATION", "isolation", functools.partial(_switch, "LAMBDABOX_ISOLATION")),
    ("LAMBDABOX_FREEZE_DELAY", "freeze_delay", float),
    (
        "LAMBDABOX_CODE_GC_INTERVAL",
        "code_gc_interval",
        functools.partial(_seconds, "LAMBDABOX_CODE_GC_INTERVAL"),
    ),
    ("LAMBDABOX_MEMORY_RESERVE_MB", "memory_reserve_mb", int),
    ("LAMBDABOX_MAX_ENVIRONMENTS", "max_environments", int),
    ("LAMBDABOX_ADMISSION_WAIT", "admission_wait", float),
    ("LAMBDABOX_MASTER_KEY", "master_key", str),
    ("LAMBDABOX_MASTER_KEY_FILE", "master_key_file", _path),
)


def load_settings(env: Mapping[str, str], **overrides: object) -> Settings:
    """Build settings from `LAMBDABOX_*` variables, then apply explicit (flag) overrides that are not None."""
    settings = Settings(data_dir=default_data_dir(env))
    from_env = {field: parse(env[name]) for name, field, parse in _FROM_ENV if env.get(name)}
    settings = replace(settings, **from_env)  # type: ignore[arg-type]
    explicit = {k: v for k, v in overrides.items() if v is not None}
    if "data_dir" in explicit:
        explicit["data_dir"] = Path(str(explicit["data_dir"])).expanduser()
    settings = replace(settings, **explicit)  # type: ignore[arg-type]
    advertised = settings.host if settings.host not in ("0.0.0.0", "::", "") else DEFAULT_HOST
    return replace(settings, advertised_host=advertised)
