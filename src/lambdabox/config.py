"""Settings: one frozen object, built by a pure function from the environment and flags."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
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
    # Interpreter that runs the bundled Python runtime (python3.9 … python3.14 all map to it).
    python_executable: str = sys.executable
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


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def load_settings(env: Mapping[str, str], **overrides: object) -> Settings:
    """Build settings from `LAMBDABOX_*` variables, then apply explicit (flag) overrides that are not None."""
    settings = Settings(data_dir=default_data_dir(env))
    from_env: dict[str, object] = {}
    if env.get("LAMBDABOX_HOST"):
        from_env["host"] = env["LAMBDABOX_HOST"]
    if env.get("LAMBDABOX_PORT"):
        from_env["port"] = int(env["LAMBDABOX_PORT"])
    if env.get("LAMBDABOX_ACCOUNT_ID"):
        from_env["account_id"] = env["LAMBDABOX_ACCOUNT_ID"]
    if env.get("LAMBDABOX_REGION"):
        from_env["region"] = env["LAMBDABOX_REGION"]
    if env.get("LAMBDABOX_ROOT_ACCESS_KEY_ID"):
        from_env["root_access_key_id"] = env["LAMBDABOX_ROOT_ACCESS_KEY_ID"]
    if env.get("LAMBDABOX_ROOT_SECRET_ACCESS_KEY"):
        from_env["root_secret_access_key"] = env["LAMBDABOX_ROOT_SECRET_ACCESS_KEY"]
    if env.get("LAMBDABOX_ACCOUNT_CONCURRENCY"):
        from_env["account_concurrency"] = int(env["LAMBDABOX_ACCOUNT_CONCURRENCY"])
    if env.get("LAMBDABOX_IDLE_TIMEOUT"):
        from_env["idle_timeout"] = float(env["LAMBDABOX_IDLE_TIMEOUT"])
    if env.get("LAMBDABOX_ASYNC_RETRY_DELAYS"):
        from_env["async_retry_delays"] = _floats(env["LAMBDABOX_ASYNC_RETRY_DELAYS"])
    if env.get("LAMBDABOX_PYTHON"):
        from_env["python_executable"] = env["LAMBDABOX_PYTHON"]
    if env.get("LAMBDABOX_AUTH"):
        from_env["auth"] = _switch("LAMBDABOX_AUTH", env["LAMBDABOX_AUTH"])
    if env.get("LAMBDABOX_SCHEDULER_TICK"):
        from_env["scheduler_tick"] = float(env["LAMBDABOX_SCHEDULER_TICK"])
    if env.get("LAMBDABOX_CLOCK_OFFSET"):
        from_env["clock_offset"] = float(env["LAMBDABOX_CLOCK_OFFSET"])
    if env.get("LAMBDABOX_TEST_HOOKS"):
        from_env["test_hooks"] = _switch("LAMBDABOX_TEST_HOOKS", env["LAMBDABOX_TEST_HOOKS"])
    if env.get("LAMBDABOX_ISOLATION"):
        from_env["isolation"] = _switch("LAMBDABOX_ISOLATION", env["LAMBDABOX_ISOLATION"])
    if env.get("LAMBDABOX_FREEZE_DELAY"):
        from_env["freeze_delay"] = float(env["LAMBDABOX_FREEZE_DELAY"])
    if env.get("LAMBDABOX_MEMORY_RESERVE_MB"):
        from_env["memory_reserve_mb"] = int(env["LAMBDABOX_MEMORY_RESERVE_MB"])
    if env.get("LAMBDABOX_MAX_ENVIRONMENTS"):
        from_env["max_environments"] = int(env["LAMBDABOX_MAX_ENVIRONMENTS"])
    if env.get("LAMBDABOX_ADMISSION_WAIT"):
        from_env["admission_wait"] = float(env["LAMBDABOX_ADMISSION_WAIT"])
    if env.get("LAMBDABOX_MASTER_KEY"):
        from_env["master_key"] = env["LAMBDABOX_MASTER_KEY"]
    if env.get("LAMBDABOX_MASTER_KEY_FILE"):
        from_env["master_key_file"] = Path(env["LAMBDABOX_MASTER_KEY_FILE"]).expanduser()
    settings = replace(settings, **from_env)  # type: ignore[arg-type]
    explicit = {k: v for k, v in overrides.items() if v is not None}
    if "data_dir" in explicit:
        explicit["data_dir"] = Path(str(explicit["data_dir"])).expanduser()
    settings = replace(settings, **explicit)  # type: ignore[arg-type]
    advertised = settings.host if settings.host not in ("0.0.0.0", "::", "") else DEFAULT_HOST
    return replace(settings, advertised_host=advertised)
