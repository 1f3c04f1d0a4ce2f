"""The function URL benchmark's peers: `chalice local` and serverless-offline serving the same no-op Python
handler behind an HTTP route, started by `bench/run.py --only url` (and `make bench`) beside Lambdabox.

Neither is a project dependency. `prepare()` installs them once into `bench/.cache/` (git-ignored), before
the run's clock and its 600 s alarm start, so installation never counts in a measurement:

- chalice, pinned, into its own virtualenv `bench/.cache/chalice-venv` (its pins never touch the main venv);
- serverless v3 and serverless-offline, pinned, with `npm install` into `bench/.cache/sls` (Node and npm
  from Debian: `apt-get install -y nodejs npm`).

A peer that cannot be installed or started is reported as skipped, with the reason, in the printed table
and in the results; the run goes on without it. Both run with their defaults, on 127.0.0.1 and free ports:

- `chalice local` (autoreload on, stage `dev`): a threaded `http.server` that builds an API Gateway proxy
  event per request and calls the Chalice app in-process;
- `serverless offline start` (httpApi event, payload 2.0): Node serves HTTP; the Python handler runs in a
  persistent `python3 invoke.py` child per concurrent warm instance, talking JSON lines over stdin/stdout.
  Its python3 is the one a user with this repository's venv activated gets (`VIRTUAL_ENV`).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import servers

CACHE = servers.BENCH_DIR / ".cache"
CHALICE_VERSION = "1.34.0"
SERVERLESS_VERSION = "3.40.0"
SERVERLESS_OFFLINE_VERSION = "13.9.0"
INSTALL_TIMEOUT_S = 300.0
START_TIMEOUT_S = 60.0

CHALICE_VENV = CACHE / "chalice-venv"
SLS_DIR = CACHE / "sls"
SLS_BIN = SLS_DIR / "node_modules" / "serverless" / "bin" / "serverless.js"

CHALICE_APP = """\
from chalice import Chalice

from chalicelib.noop import handler

app = Chalice(app_name="lambdabox-bench")


@app.route("/", methods=["POST"])
def index():
    return handler(app.current_request.to_original_event(), app.lambda_context)
"""

CHALICE_CONFIG = '{"version": "2.0", "app_name": "lambdabox-bench", "stages": {"dev": {}}}\n'

# python3.11: serverless v3's schema predates python3.12 (it would warn); the runtime name only picks the
# executable, `python3` either way.
SERVERLESS_YML = """\
service: lambdabox-bench
frameworkVersion: "3"
provider:
  name: aws
  runtime: python3.11
  region: us-east-1
functions:
  noop:
    handler: noop.handler
    events:
      - httpApi:
          method: POST
          path: /
plugins:
  - serverless-offline
"""

# No telemetry, update notices or interactive set-up: nothing may leave 127.0.0.1.
SLS_ENV = {
    "SLS_TELEMETRY_DISABLED": "1",
    "SLS_TRACKING_DISABLED": "1",
    "SLS_NOTIFICATIONS_MODE": "off",
    "SLS_INTERACTIVE_SETUP_DISABLE": "1",
    "SLS_DEPRECATION_DISABLE": "*",
    "NO_UPDATE_NOTIFIER": "1",
    "NPM_CONFIG_UPDATE_NOTIFIER": "false",
    "CI": "1",
}


@dataclass(frozen=True)
class Prepared:
    """One peer after `prepare()`: ready (with its version) or not (with the reason)."""

    name: str
    ready: bool
    detail: str
    install_s: float


@dataclass(frozen=True)
class Peer:
    name: str
    process: servers.ManagedProcess
    port: int
    path: str
    startup_s: float


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Runs an installer; returns "" on success, else the reason (last lines of its output)."""
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`{' '.join(argv[:3])} ...` did not finish within {INSTALL_TIMEOUT_S:.0f} s"
    except OSError as error:
        return f"`{argv[0]}` could not run: {error}"
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-4:])
        return f"`{' '.join(argv[:3])} ...` exited {done.returncode}: {tail}"
    return ""


def prepare_chalice() -> Prepared:
    started = time.monotonic()
    marker = CHALICE_VENV / f".installed-chalice-{CHALICE_VERSION}"
    if not marker.exists():
        print(f"peers: installing chalice {CHALICE_VERSION} into {CHALICE_VENV} (once) ...", flush=True)
        shutil.rmtree(CHALICE_VENV, ignore_errors=True)
        failure = _run([sys.executable, "-m", "venv", str(CHALICE_VENV)]) or _run(
            [
                str(CHALICE_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                f"chalice=={CHALICE_VERSION}",
            ]
        )
        if failure:
            return Prepared("chalice", False, f"install failed: {failure}", time.monotonic() - started)
        marker.touch()
    return Prepared("chalice", True, f"chalice {CHALICE_VERSION}", time.monotonic() - started)


def prepare_serverless() -> Prepared:
    started = time.monotonic()
    versions = f"serverless {SERVERLESS_VERSION}, serverless-offline {SERVERLESS_OFFLINE_VERSION}"
    marker = SLS_DIR / f".installed-{SERVERLESS_VERSION}-{SERVERLESS_OFFLINE_VERSION}"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "Node.js/npm not installed (`apt-get install -y nodejs npm`)"
        return Prepared("serverless-offline", False, reason, 0.0)
    if not marker.exists():
        print(f"peers: installing {versions} into {SLS_DIR} with npm (once) ...", flush=True)
        shutil.rmtree(SLS_DIR, ignore_errors=True)
        SLS_DIR.mkdir(parents=True)
        (SLS_DIR / "package.json").write_text('{"name": "lambdabox-bench-peers", "private": true}\n')
        argv = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"]
        argv += [f"serverless@{SERVERLESS_VERSION}", f"serverless-offline@{SERVERLESS_OFFLINE_VERSION}"]
        failure = _run(argv, cwd=SLS_DIR, env={**os.environ, **SLS_ENV})
        if failure:
            return Prepared(
                "serverless-offline", False, f"install failed: {failure}", time.monotonic() - started
            )
        marker.touch()
    return Prepared("serverless-offline", True, versions, time.monotonic() - started)


def prepare() -> dict[str, Prepared]:
    """Both peers, installed if needed; never raises: a peer that cannot be had carries the reason."""
    out: dict[str, Prepared] = {}
    for name, step in (("chalice", prepare_chalice), ("serverless-offline", prepare_serverless)):
        try:
            out[name] = step()
        except OSError as error:
            out[name] = Prepared(name, False, f"install failed: {error}", 0.0)
        if not out[name].ready:
            print(f"peers: {name} unavailable: {out[name].detail}", flush=True)
    return out


def _wait_ready(process: servers.ManagedProcess, port: int, path: str, body: bytes) -> float:
    """POSTs the benchmark's request until it answers 200; returns the seconds it took."""
    started = time.perf_counter()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited during start-up:\n{process.log_tail(1500)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(servers.HOST, port, timeout=5.0)
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
            finally:
                conn.close()
            if response.status == 200:
                return time.perf_counter() - started
        time.sleep(0.1)
    raise RuntimeError(
        f"{process.name} not answering 200 after {START_TIMEOUT_S:.0f} s:\n{process.log_tail(1500)}"
    )


def _start(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, port: int, work: Path, body: bytes
) -> Peer:
    process = servers.ManagedProcess(name, argv, env, work / f"{name}.log", cwd=cwd)
    try:
        seconds = _wait_ready(process, port, "/", body)
    except BaseException:
        process.stop()
        raise
    return Peer(name, process, port, "/", seconds)


def start_chalice(work: Path, handler: str, body: bytes) -> Peer:
    app = work / "chalice-app"
    (app / "chalicelib").mkdir(parents=True)
    (app / ".chalice").mkdir()
    (app / "chalicelib" / "__init__.py").write_text("")
    (app / "chalicelib" / "noop.py").write_text(handler)
    (app / "app.py").write_text(CHALICE_APP)
    (app / ".chalice" / "config.json").write_text(CHALICE_CONFIG)
    port = servers.free_port()
    argv = [str(CHALICE_VENV / "bin" / "chalice"), "--project-dir", str(app), "local"]
    argv += ["--host", servers.HOST, "--port", str(port)]
    env = {**os.environ, "AWS_DEFAULT_REGION": servers.REGION}
    return _start("chalice", argv, env, app, port, work, body)


def start_serverless(work: Path, handler: str, body: bytes) -> Peer:
    app = work / "sls-app"
    app.mkdir()
    (app / "noop.py").write_text(handler)
    (app / "serverless.yml").write_text(SERVERLESS_YML)
    (app / "node_modules").symlink_to(SLS_DIR / "node_modules", target_is_directory=True)
    home = work / "sls-home"  # serverless writes its state files under $HOME
    home.mkdir()
    port, lambda_port = servers.free_port(), servers.free_port()
    node = shutil.which("node") or "node"
    argv = [node, str(SLS_BIN), "offline", "start", "--host", servers.HOST]
    argv += ["--httpPort", str(port), "--lambdaPort", str(lambda_port)]
    env = {
        **os.environ,
        **SLS_ENV,
        "HOME": str(home),
        "VIRTUAL_ENV": sys.prefix,
        "AWS_ACCESS_KEY_ID": servers.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": servers.SECRET_KEY,
        "AWS_REGION": servers.REGION,
    }
    return _start("serverless-offline", argv, env, app, port, work, body)


def start(prepared: dict[str, Prepared], work: Path, handler: str, body: bytes) -> dict[str, Peer | str]:
    """Starts every prepared peer; a peer that is not ready or fails to start maps to the reason."""
    out: dict[str, Peer | str] = {}
    for name, starter in (("chalice", start_chalice), ("serverless-offline", start_serverless)):
        ready = prepared.get(name)
        if ready is None or not ready.ready:
            out[name] = ready.detail if ready else "not prepared"
            continue
        print(f"url: starting {name} ...", flush=True)
        try:
            out[name] = starter(work, handler, body)
        except (OSError, RuntimeError) as error:
            out[name] = f"could not start: {str(error).strip()[:600]}"
    return out
