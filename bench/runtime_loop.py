"""The bundled Python runtime's own cost per warm invocation, without the platform around it.

The runtime's loop (GET next, the handler, POST the result pipelined with the next GET) runs in this
process against a canned Runtime API in a forked child, which answers every GET next at once with a
function URL's payload 2.0 event; the handler returns a small dict. Reported: this process's CPU per
invocation (user and system). With `--callgrind` the loop runs under valgrind twice (N and 3N invocations)
and the difference gives instructions per invocation: a count that does not move with the machine's load,
for comparing two versions of the runtime on a noisy machine.

    .venv/bin/python bench/runtime_loop.py [--invocations N] [--callgrind] [--runtime DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUNTIME_DIR = Path(__file__).resolve().parents[1] / "src" / "lambdabox" / "runtimes" / "python"
EVENT = (
    b'{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"","headers":{"host":'
    b'"x.lambda-url.us-east-1.localhost","user-agent":"wrk","content-type":"application/json",'
    b'"content-length":"11","x-forwarded-proto":"http","x-forwarded-port":"4566"},"requestContext":'
    b'{"accountId":"anonymous","apiId":"abc","domainName":"x","domainPrefix":"x","http":{"method":"POST",'
    b'"path":"/","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"wrk"},"requestId":'
    b'"8c8e3f9c-0000-4000-8000-000000000000","routeKey":"$default","stage":"$default","time":'
    b'"27/Nov/2026:21:00:00 +0000","timeEpoch":1795000000000},"body":"{\\"ping\\": 1}",'
    b'"isBase64Encoded":false}'
)
_ACCEPTED = (
    b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'
)
_GONE = b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"


def _next_answer(number: int) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: 8c8e3f9c-0000-4000-8000-{number:012d}\r\n"
        "Lambda-Runtime-Deadline-Ms: 1795000003000\r\n"
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:noop\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(EVENT)}\r\n\r\n"
    )
    return head.encode() + EVENT


def _serve(listener: socket.socket, invocations: int) -> None:
    """The canned Runtime API: answers each request as it is complete; closes after `invocations`."""
    conn, _ = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer, served, pending = b"", 0, b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buffer += data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end]
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            size = int(length.group(1)) if length else 0
            if len(buffer) < end + 4 + size:
                break
            buffer = buffer[end + 4 + size :]
            if not head.startswith(b"GET"):
                pending = _ACCEPTED  # answered together with the next event, as the platform does
                continue
            if served == invocations:  # the last result acknowledged, then a refusal: the runtime exits
                conn.sendall(pending + _GONE)
                conn.close()
                return
            served += 1
            conn.sendall(pending + _next_answer(served))
            pending = b""


def run_loop(invocations: int, runtime_dir: Path) -> dict[str, float]:
    """CPU of this process per invocation of the runtime's loop (µs)."""
    sys.path.insert(0, str(runtime_dir))
    import bootstrap  # type: ignore[import-not-found]
    import lambdabox_runtime_client  # type: ignore[import-not-found]

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    child = os.fork()
    if child == 0:
        try:
            _serve(listener, invocations)
        finally:
            os._exit(0)
    listener.close()
    client = lambdabox_runtime_client.RuntimeClient(f"127.0.0.1:{port}")
    client.connect()
    config = bootstrap.configure_runtime()
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the runtime's line about the refusal at the end)

    def handler(event: Any, context: Any) -> Any:
        return {"ping": 1}

    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    with contextlib.suppress(SystemExit):  # the canned API refused GET next: the end
        bootstrap.run_loop(client, handler, config)
    sys.stdout.close()
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    after, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    os.waitpid(child, 0)
    return {
        "user_us": (after.ru_utime - before.ru_utime) / invocations * 1e6,
        "system_us": (after.ru_stime - before.ru_stime) / invocations * 1e6,
        "wall_us": elapsed / invocations * 1e6,
    }


def _instructions(invocations: int, runtime_dir: Path) -> int:
    """Instructions this script's loop process executes for `invocations` (callgrind, the parent only)."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "callgrind.%p"
        argv = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--invocations",
            str(invocations),
            "--runtime",
            str(runtime_dir),
            "--loop-only",
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        pid = re.search(r"loop pid (\d+)", done.stdout)
        if pid is None:
            raise RuntimeError(f"no loop pid in:\n{done.stdout}\n{done.stderr}")
        totals = re.search(r"^summary: (\d+)", (Path(work) / f"callgrind.{pid.group(1)}").read_text(), re.M)
        if totals is None:
            raise RuntimeError("no summary in callgrind's output")
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invocations", type=int, default=20_000)
    parser.add_argument("--runtime", type=Path, default=RUNTIME_DIR, help="the runtime's folder")
    parser.add_argument("--callgrind", action="store_true", help="instructions per invocation (valgrind)")
    parser.add_argument("--loop-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind:
        small = max(1, args.invocations // 10)
        few, many = _instructions(small, args.runtime), _instructions(3 * small, args.runtime)
        per = (many - few) / (2 * small)
        print(f"instructions per invocation: {per:,.0f}; at start-up: {few - per * small:,.0f}")
        return
    cost = run_loop(args.invocations, args.runtime)
    if args.loop_only:
        print(f"loop pid {os.getpid()}")
    print(
        f"{args.invocations} invocations: user {cost['user_us']:.1f} µs, system {cost['system_us']:.1f} µs, "
        f"wall {cost['wall_us']:.1f} µs per invocation"
    )


if __name__ == "__main__":
    main()
