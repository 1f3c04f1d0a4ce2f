"""A fork server's spare rehearses the runtime's start-up steps; the rehearsal must leave nothing behind
that the environment it becomes would see."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lambdabox.runtimes.python as runtime_package

RUNTIME_DIR = Path(runtime_package.__file__).parent

SCRIPT = """
import importlib, logging, site, sys  # (what a fork server has imported already)
sys.path.insert(0, {runtime_dir!r})
import bootstrap

def state():
    root = logging.getLogger()
    return (list(sys.path), sys.stdout, sys.stderr, list(root.handlers), root.level,
            logging.Formatter.converter, sorted(sys.modules))

before = state()
bootstrap.rehearse()
after = state()
print(before == after)
"""


def test_a_rehearsal_leaves_the_process_as_it_found_it() -> None:
    script = SCRIPT.format(runtime_dir=str(RUNTIME_DIR))
    done = subprocess.run([sys.executable, "-S", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
