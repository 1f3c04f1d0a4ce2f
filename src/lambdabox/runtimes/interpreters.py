"""Which Python interpreter runs each `python3.x` runtime: that version's own when the machine has it.

AWS runs `python3.12` on Python 3.12; code that uses a newer version's syntax or library (a `type`
statement, `itertools.batched`) must not meet an older interpreter here. An interpreter is taken from
`LAMBDABOX_PYTHONS` (`3.12=/path/to/python3.12,...`), else found on the machine (unless
`LAMBDABOX_PYTHON_DISCOVERY=off`): pyenv's versions (`$PYENV_ROOT`, `~/.pyenv`), then `python3.x` on
PATH (pyenv's shims excepted), then /usr/local/bin and /usr/bin; only versions that the runtime's boto3
supports count. A runtime whose version is not found runs on the platform's interpreter
(`LAMBDABOX_PYTHON`), as every runtime did before; /_lambdabox/health (`pythonRuntimes`) and
`lambdabox doctor` show the mapping.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# The oldest minor version boto3 supports when its metadata cannot tell (boto3/botocore 1.44: >= 3.10).
_DEFAULT_MIN_MINOR = 10
_PATCH = re.compile(r"3\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Interpreter:
    version: str  # "3.12"
    executable: str
    prefix: Path  # its installation: what an isolated environment must be able to read

    @classmethod
    def at(cls, version: str, executable: str) -> Interpreter:
        """`executable` as given (a virtual environment's python stays one); its prefix from where it
        really lies (`<prefix>/bin/python3.x`)."""
        return cls(version, os.path.abspath(executable), Path(os.path.realpath(executable)).parent.parent)


def version_of(executable: str) -> str:
    """The `major.minor` of an interpreter: asked of it, unless it is this process's own."""
    if os.path.realpath(executable) == os.path.realpath(sys.executable):
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        out = subprocess.run(
            [executable, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ValueError(f"LAMBDABOX_PYTHON: cannot run {executable}: {exc}") from None
    return out.stdout.strip()


def minimum_minor() -> int:
    """The oldest Python 3 minor version that the runtime's boto3 and botocore support."""
    oldest = _DEFAULT_MIN_MINOR
    for name in ("boto3", "botocore"):
        try:
            spec = importlib.metadata.metadata(name)["Requires-Python"] or ""
        except importlib.metadata.PackageNotFoundError:
            continue
        match = re.search(r">=\s*3\.(\d+)", spec)
        if match:
            oldest = max(oldest, int(match.group(1)))
    return oldest


def _pyenv_candidates(env: Mapping[str, str], minor: int) -> list[str]:
    roots = [env.get("PYENV_ROOT", ""), str(Path(env.get("HOME") or Path.home()) / ".pyenv")]
    found: list[tuple[int, str]] = []
    for root in dict.fromkeys(filter(None, roots)):
        versions = Path(root) / "versions"
        if not versions.is_dir():
            continue
        for entry in versions.iterdir():
            match = _PATCH.fullmatch(entry.name)
            executable = entry / "bin" / f"python3.{minor}"
            if match and int(match.group(1)) == minor and os.access(executable, os.X_OK):
                found.append((int(match.group(2)), str(executable)))
    return [path for _, path in sorted(found, reverse=True)]  # the newest patch release first


def _path_candidates(env: Mapping[str, str], minor: int) -> list[str]:
    dirs = [d for d in env.get("PATH", "").split(os.pathsep) if d and "shims" not in Path(d).parts]
    dirs += ["/usr/local/bin", "/usr/bin"]
    name = f"python3.{minor}"
    return [path for d in dict.fromkeys(dirs) if (path := shutil.which(name, path=d))]


def discover(env: Mapping[str, str], minors: Iterable[int]) -> dict[str, Interpreter]:
    """The interpreters found on this machine for these minor versions (no process is started)."""
    found: dict[str, Interpreter] = {}
    for minor in minors:
        candidates = _pyenv_candidates(env, minor) + _path_candidates(env, minor)
        if candidates:
            found[f"3.{minor}"] = Interpreter.at(f"3.{minor}", candidates[0])
    return found


def resolve(
    default: str,
    explicit: Iterable[tuple[str, str]],
    env: Mapping[str, str],
    minors: Iterable[int],
    *,
    find: bool = True,
) -> tuple[Interpreter, dict[str, Interpreter]]:
    """The platform's interpreter, and the interpreter of each version: found ones (those boto3 supports),
    the platform's own for its version, then the ones given explicitly."""
    fallback = Interpreter.at(version_of(default), default)
    oldest = minimum_minor()
    found = discover(env, (minor for minor in minors if minor >= oldest)) if find else {}
    found[fallback.version] = fallback
    for version, executable in explicit:
        found[version] = Interpreter.at(version, executable)
    return fallback, found
