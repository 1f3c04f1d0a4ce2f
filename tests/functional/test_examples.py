"""The README's walkthroughs run for real: examples/ scripts against a real server with the AWS CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Server

ROOT = Path(__file__).resolve().parents[2]


def test_s3_copy_tutorial_script(server: Server) -> None:
    env = server.client_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    done = subprocess.run(
        ["bash", str(ROOT / "examples" / "s3-copy" / "run.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-2:] == ["text/plain", "hello from the source bucket"]
