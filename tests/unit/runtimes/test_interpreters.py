"""Finding the interpreter of each Python runtime: pyenv's versions, PATH, explicit settings, the fallback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lambdabox.config import load_settings
from lambdabox.runtimes.interpreters import Interpreter, discover, minimum_minor, resolve
from lambdabox.runtimes.registry import PYTHON_MINORS, RuntimeRegistry

PLATFORM_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def _executable(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return str(path)


def test_pyenv_versions_come_first_newest_patch_release_first(tmp_path: Path) -> None:
    pyenv = tmp_path / "pyenv"
    _executable(pyenv / "versions" / "3.12.1" / "bin" / "python3.12")
    newest = _executable(pyenv / "versions" / "3.12.10" / "bin" / "python3.12")
    _executable(pyenv / "versions" / "3.12-dev" / "bin" / "python3.12")  # not a release
    _executable(tmp_path / "bin" / "python3.12")  # on PATH: after pyenv's
    found = discover({"PYENV_ROOT": str(pyenv), "HOME": str(tmp_path), "PATH": str(tmp_path / "bin")}, [12])
    assert found["3.12"] == Interpreter("3.12", newest, pyenv / "versions" / "3.12.10")


def test_path_is_searched_without_pyenv_shims(tmp_path: Path) -> None:
    _executable(tmp_path / "shims" / "python3.13")
    real = _executable(tmp_path / "bin" / "python3.13")
    path = f"{tmp_path / 'shims'}:{tmp_path / 'bin'}"
    found = discover({"HOME": str(tmp_path), "PATH": path}, [13])
    assert found["3.13"].executable == real
    assert found["3.13"].prefix == tmp_path


def test_a_link_keeps_its_path_and_takes_its_targets_prefix(tmp_path: Path) -> None:
    target = _executable(tmp_path / "install" / "bin" / "python3.11")
    link = tmp_path / "venv" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    interpreter = Interpreter.at("3.11", str(link))
    assert interpreter.executable == str(link)
    assert interpreter.prefix == tmp_path / "install"


def test_versions_boto3_does_not_support_are_not_used(tmp_path: Path) -> None:
    too_old = minimum_minor() - 1
    _executable(tmp_path / "bin" / f"python3.{too_old}")
    _, found = resolve(sys.executable, (), {"HOME": str(tmp_path), "PATH": str(tmp_path / "bin")}, [too_old])
    assert f"3.{too_old}" not in found


def test_explicit_interpreters_win_and_missing_versions_fall_back(tmp_path: Path) -> None:
    given = _executable(tmp_path / "opt" / "bin" / "python3")
    registry = RuntimeRegistry.with_interpreters(
        tmp_path / "runtime", sys.executable, [("3.13", given)], {"HOME": str(tmp_path), "PATH": ""}
    )
    assert registry.interpreter("python3.13").executable == given
    assert registry.interpreter(f"python{PLATFORM_VERSION}").executable == sys.executable
    assert registry.interpreter("python3.9") == registry.fallback
    assert registry.interpreter("provided.al2023") == registry.fallback
    assert set(registry.python_runtimes()) == {f"python3.{minor}" for minor in PYTHON_MINORS}
    assert registry.launch("python3.13", tmp_path).argv[0] == given
    assert tmp_path / "opt" in registry.read_paths()


def test_discovery_off_finds_nothing(tmp_path: Path) -> None:
    _executable(tmp_path / "bin" / "python3.13")
    fallback, found = resolve(
        sys.executable, (), {"HOME": str(tmp_path), "PATH": str(tmp_path / "bin")}, [13], find=False
    )
    assert found == {fallback.version: fallback}


def test_settings_parse_and_refuse_malformed_pairs() -> None:
    settings = load_settings({"LAMBDABOX_PYTHONS": "3.12=/a/python3.12, 3.13=/b/python3"})
    assert settings.python_interpreters == (("3.12", "/a/python3.12"), ("3.13", "/b/python3"))
    assert load_settings({"LAMBDABOX_PYTHON_DISCOVERY": "off"}).python_discovery is False
    for bad in ("python3.12=/a", "3.12", "3.12=", "3=/a"):
        with pytest.raises(ValueError, match="LAMBDABOX_PYTHONS"):
            load_settings({"LAMBDABOX_PYTHONS": bad})


def test_an_interpreter_that_cannot_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LAMBDABOX_PYTHON: cannot run"):
        resolve(str(tmp_path / "missing"), (), {}, [], find=False)
