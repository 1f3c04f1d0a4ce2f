"""How each runtime identifier is started: the bundled Python runtime, or a custom `bootstrap`."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lambdabox.errors import AwsError
from lambdabox.runtimes import interpreters as found_interpreters
from lambdabox.runtimes.interpreters import Interpreter

if TYPE_CHECKING:
    from lambdabox.config import Settings

PYTHON_BOOTSTRAP = Path(__file__).parent / "python" / "bootstrap.py"
# What AWS's Python runtimes ship beside the interpreter; nothing else from our own environment leaks in.
PYTHON_RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
PYTHON_MINORS = range(9, 15)
PYTHON_RUNTIMES = frozenset(f"python3.{minor}" for minor in PYTHON_MINORS)
PROVIDED_RUNTIMES = frozenset({"provided.al2", "provided.al2023"})


@dataclass(frozen=True)
class RuntimeLaunch:
    argv: tuple[str, ...]
    env: dict[str, str]
    execution_env: str | None  # AWS_EXECUTION_ENV, not set for provided runtimes
    forkable: bool = False  # may be forked from the warm Python zygote instead of started afresh
    # Why it cannot start at all (no bootstrap): each invocation then fails with Runtime.InvalidEntrypoint.
    entrypoint_error: str | None = None


class RuntimeRegistry:
    def __init__(
        self,
        fallback: Interpreter,
        runtime_dir: Path,
        interpreters: Mapping[str, Interpreter] | None = None,
    ) -> None:
        """`interpreters`: by version (`3.12`); a Python runtime whose version is missing runs on `fallback`."""
        self.fallback = fallback
        self._interpreters = dict(interpreters or {})
        self._site = runtime_dir / "python" / "site-packages"

    @classmethod
    def with_interpreters(
        cls,
        runtime_dir: Path,
        default: str,
        explicit: Iterable[tuple[str, str]],
        env: Mapping[str, str],
        *,
        find: bool = True,
    ) -> RuntimeRegistry:
        """Each python3.x runtime on Python 3.x: `explicit` (version, path) pairs, else found on this
        machine (`find`), else `default` (runtimes/interpreters.py)."""
        fallback, interpreters = found_interpreters.resolve(default, explicit, env, PYTHON_MINORS, find=find)
        return cls(fallback, runtime_dir, interpreters)

    @classmethod
    def for_settings(cls, settings: Settings, runtime_dir: Path, env: Mapping[str, str]) -> RuntimeRegistry:
        """The registry the platform's settings describe (`lambdabox up` and `lambdabox doctor`)."""
        return cls.with_interpreters(
            runtime_dir,
            settings.python_executable,
            settings.python_interpreters,
            env,
            find=settings.python_discovery,
        )

    def prepare(self) -> None:
        """Build the Python runtime's site-packages: links to boto3 and its dependencies only."""
        self._site.mkdir(parents=True, exist_ok=True)
        for name in PYTHON_RUNTIME_DISTRIBUTIONS:
            try:
                dist = importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                continue
            tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
            base = Path(str(dist.locate_file("")))
            for top in tops:
                if top == "__pycache__" or top.endswith(".pth"):
                    continue
                link = self._site / top
                if not link.exists() and (base / top).exists():
                    with contextlib.suppress(FileExistsError):
                        os.symlink(base / top, link)

    def interpreter(self, runtime: str) -> Interpreter:
        """The interpreter that runs a Python runtime (`python3.12`)."""
        return self._interpreters.get(runtime.removeprefix("python"), self.fallback)

    def python_runtimes(self) -> dict[str, Interpreter]:
        """Each Python runtime and the interpreter that runs it (/_lambdabox/health, `lambdabox doctor`)."""
        return {runtime: self.interpreter(runtime) for runtime in sorted(PYTHON_RUNTIMES)}

    def without_own_interpreter(self) -> list[str]:
        """The Python runtimes that run on another version's interpreter (theirs is not on this machine)."""
        return [
            runtime
            for runtime, interpreter in self.python_runtimes().items()
            if interpreter.version != runtime.removeprefix("python")
        ]

    @property
    def interpreters(self) -> list[Interpreter]:
        """Every interpreter a runtime may run on, the fallback first."""
        others = [i for i in self._interpreters.values() if i.executable != self.fallback.executable]
        return [self.fallback, *others]

    def read_paths(self) -> list[Path]:
        """What a runtime's process reads besides the function's code: the interpreter and its standard
        library, the bundled runtime, the runtime's site-packages and the distributions linked into it."""
        paths = [Path(sys.base_prefix), Path(sys.prefix)]
        for interpreter in self.interpreters:
            paths += [interpreter.prefix, Path(interpreter.executable)]
        paths += [PYTHON_BOOTSTRAP.parent, self._site]
        for name in PYTHON_RUNTIME_DISTRIBUTIONS:
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                paths.append(Path(str(importlib.metadata.distribution(name).locate_file(""))))
        return paths

    def zygote_env(self, home: Path, executable: str) -> dict[str, str]:
        """A Python zygote's own environment: nothing from the platform's, a HOME with no AWS config."""
        home.mkdir(parents=True, exist_ok=True)
        return {
            "PATH": f"{os.path.dirname(executable)}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "en_US.UTF-8",
            "LAMBDABOX_RUNTIME_SITE_PACKAGES": str(self._site),
        }

    def launch(
        self,
        runtime: str,
        task_root: Path,
        visible_root: Path | None = None,
        opt: tuple[Path, str] | None = None,
    ) -> RuntimeLaunch:
        """How to start `runtime` for code at `task_root`, which the environment sees at `visible_root`;
        `opt`: its layers' merged tree on the host and where the environment sees it (/opt when isolated)."""
        visible = visible_root or task_root
        if runtime in PYTHON_RUNTIMES:
            return RuntimeLaunch(
                argv=(self.interpreter(runtime).executable, "-S", "-u", str(PYTHON_BOOTSTRAP)),
                env={"LAMBDABOX_RUNTIME_SITE_PACKAGES": str(self._site)},
                execution_env=f"AWS_Lambda_{runtime}",
                forkable=True,
            )
        if runtime in PROVIDED_RUNTIMES:
            # The function's own bootstrap first, then one a layer brings (AWS looks in the same order).
            candidates = [(task_root / "bootstrap", f"{visible}/bootstrap")]
            if opt is not None:
                candidates.append((opt[0] / "bootstrap", f"{opt[1]}/bootstrap"))
            for host, seen in candidates:
                if host.is_file():  # the first one found is the one AWS runs (or fails to)
                    if not os.access(host, os.X_OK):
                        return _unlaunchable(f"fork/exec {seen}: permission denied")
                    return RuntimeLaunch(argv=(seen,), env={}, execution_env=None)
            return _unlaunchable(
                f"Couldn't find valid bootstrap(s): [{visible / 'bootstrap'} /opt/bootstrap]"
            )
        raise AwsError(
            "InvalidRuntimeException",
            f"The runtime parameter of {runtime} is not yet supported by Lambdabox for invocation "
            f"(supported: {', '.join(sorted(PYTHON_RUNTIMES | PROVIDED_RUNTIMES))}).",
            502,
        )


def _unlaunchable(reason: str) -> RuntimeLaunch:
    return RuntimeLaunch(argv=(), env={}, execution_env=None, entrypoint_error=reason)
