"""Each python3.x runtime runs on Python 3.x when the machine has it, as on AWS; else on the platform's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3

from lambdabox.runtimes.interpreters import discover, minimum_minor
from tests.conftest import Server, create_function, make_zip

VERSION_HANDLER = (
    "import os, sys\n\n"
    "def handler(event, context):\n"
    "    return {'version': '%d.%d' % sys.version_info[:2], 'executable': sys.executable,\n"
    "            'execution_env': os.environ['AWS_EXECUTION_ENV']}\n"
)
PLATFORM_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# What this machine has, found the way the platform finds it (pyenv's versions, PATH, /usr/bin).
ON_THIS_MACHINE = discover(os.environ, range(minimum_minor(), 15))
OTHER_VERSIONS = sorted(ON_THIS_MACHINE.keys() - {PLATFORM_VERSION})


def _runtimes(server: Server) -> dict[str, str]:
    with urllib3.PoolManager() as http:
        mapping: dict[str, str] = http.request("GET", f"{server.endpoint}/_lambdabox/health").json()[
            "pythonRuntimes"
        ]
    return mapping


def _run(client: Any, runtime: str, source: str = VERSION_HANDLER) -> dict[str, Any]:
    return _invoke(client, create_function(client, source, runtime=runtime))


def _invoke(client: Any, name: str) -> dict[str, Any]:
    response = client.invoke(FunctionName=name)
    payload: dict[str, Any] = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


@pytest.mark.parametrize("runtime", ["python3.10", "python3.11", "python3.12", "python3.13", "python3.14"])
def test_each_runtime_runs_on_its_own_version_when_the_machine_has_it(server: Server, runtime: str) -> None:
    version = runtime.removeprefix("python")
    expected = version if version in ON_THIS_MACHINE or version == PLATFORM_VERSION else PLATFORM_VERSION
    assert _runtimes(server)[runtime] == expected
    result = _run(server.client(), runtime)
    assert result["version"] == expected
    assert result["execution_env"] == f"AWS_Lambda_{runtime}"
    if version in ON_THIS_MACHINE and version != PLATFORM_VERSION:
        assert result["executable"] == ON_THIS_MACHINE[version].executable


@pytest.mark.skipif(
    "3.12" not in ON_THIS_MACHINE and PLATFORM_VERSION != "3.12", reason="no Python 3.12 here"
)
def test_a_handler_using_newer_syntax_runs_on_its_runtime(server: Server) -> None:
    """PEP 695 (3.12): a SyntaxError on an older interpreter, as it would not be on AWS's python3.12."""
    source = (
        "import itertools\n\n"
        "type Pair[T] = tuple[T, T]\n\n"
        "def first[T](items: list[T]) -> T:\n"
        "    return items[0]\n\n"
        "def handler(event, context):\n"
        "    return [first(list(batch)) for batch in itertools.batched(event['items'], 2)]\n"
    )
    client = server.client()
    name = create_function(client, source, runtime="python3.12")
    response = client.invoke(FunctionName=name, Payload=json.dumps({"items": [1, 2, 3, 4, 5]}))
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == [1, 3, 5]


@pytest.mark.skipif(not OTHER_VERSIONS, reason="one Python version here")
def test_boto3_and_the_warm_zygote_work_on_another_version(server: Server) -> None:
    version = OTHER_VERSIONS[0]
    source = (
        "import boto3, sys\n\n"
        "s3 = boto3.client('s3')\n\n"
        "def handler(event, context):\n"
        "    return ['%d.%d' % sys.version_info[:2], s3.list_buckets()['ResponseMetadata']['HTTPStatusCode']]\n"
    )
    client = server.client()
    name = create_function(client, source, runtime=f"python{version}")
    first = client.invoke(FunctionName=name)
    assert json.loads(first["Payload"].read()) == [version, 200]
    second = client.invoke(FunctionName=name, LogType="Tail")
    assert json.loads(second["Payload"].read()) == [version, 200]


def test_doctor_shows_the_same_mapping_as_health(server: Server) -> None:
    doctor = subprocess.run(
        [sys.executable, "-m", "lambdabox", "doctor", "--json"], capture_output=True, text=True, timeout=60
    )
    assert doctor.returncode == 0, doctor.stderr
    runtimes = json.loads(doctor.stdout)["pythonRuntimes"]
    assert {runtime: shown["version"] for runtime, shown in runtimes.items()} == _runtimes(server)
    for version, interpreter in ON_THIS_MACHINE.items():
        if version != PLATFORM_VERSION:
            assert runtimes[f"python{version}"]["executable"] == interpreter.executable


EXTENSION_SOURCE = r"""
#include <Python.h>
static PyObject *version(PyObject *self, PyObject *args) { return PyUnicode_FromString(PY_VERSION); }
static PyMethodDef methods[] = {{"version", version, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "built", NULL, -1, methods};
PyMODINIT_FUNC PyInit_built(void) { return PyModule_Create(&module); }
"""


def _build_extension(version: str, workdir: Path) -> tuple[str, bytes]:
    """A C extension module built against `version`'s headers, as a wheel for that version would carry it:
    its file name (with the version's suffix) and its bytes."""
    python = ON_THIS_MACHINE[version].executable
    include, suffix = subprocess.run(
        [
            python,
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'], sysconfig.get_config_var('EXT_SUFFIX'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not (Path(include) / "Python.h").exists() or shutil.which("cc") is None:
        pytest.skip(f"no C compiler or no headers for Python {version}")
    source = workdir / "built.c"
    source.write_text(EXTENSION_SOURCE)
    target = workdir / f"built{suffix}"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-O1", f"-I{include}", str(source), "-o", str(target)], check=True
    )
    return target.name, target.read_bytes()


@pytest.mark.skipif(not OTHER_VERSIONS, reason="one Python version here")
def test_a_package_built_for_its_runtimes_python_imports_its_extension_modules(
    server: Server, tmp_path: Path
) -> None:
    """A deployment package with extension modules built for python3.x (cp3x wheels) works on that runtime."""
    version = OTHER_VERSIONS[-1]
    name, binary = _build_extension(version, tmp_path)
    handler = "import built\n\ndef handler(event, context):\n    return built.version()\n"
    client = server.client()
    function = create_function(
        client, zip_file=make_zip({"app.py": handler, name: binary}), runtime=f"python{version}"
    )
    response = client.invoke(FunctionName=function)
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()).startswith(f"{version}.")


def _zygote_state(server: Server, version: str) -> str | None:
    with urllib3.PoolManager() as http:
        zygotes = http.request("GET", f"{server.endpoint}/_lambdabox/health").json()["zygotes"]
    state: str | None = zygotes.get(ON_THIS_MACHINE[version].executable)
    return state


@pytest.mark.skipif(not OTHER_VERSIONS, reason="one Python version here")
def test_a_runtimes_zygote_is_ready_before_its_first_function_turns_active(
    server_factory: Callable[..., Server],
) -> None:
    """No first cold start waits for an interpreter: the function is Pending until its runtime is ready,
    and the runtimes in use are made ready again when the platform restarts."""
    server = server_factory()
    version = OTHER_VERSIONS[-1]
    assert _zygote_state(server, version) is None  # nothing of that version yet
    name = create_function(server.client(), VERSION_HANDLER, runtime=f"python{version}")  # waits for Active
    assert _zygote_state(server, version) == "ready"
    server.close_clients()
    server.stop()
    server.start()
    deadline = time.monotonic() + 30
    while _zygote_state(server, version) != "ready" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _zygote_state(server, version) == "ready"  # without an invocation
    assert _invoke(server.client(), name)["version"] == version


def test_without_discovery_every_runtime_runs_on_the_platforms_interpreter(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(LAMBDABOX_PYTHON_DISCOVERY="off")
    assert set(_runtimes(server).values()) == {PLATFORM_VERSION}
    others = ", ".join(
        runtime for runtime in sorted(_runtimes(server)) if runtime != f"python{PLATFORM_VERSION}"
    )
    assert f"no Python interpreter of their own version for {others} " in server.log()  # said once, at start
    assert _run(server.client(), "python3.13")["version"] == PLATFORM_VERSION


def test_an_interpreter_given_explicitly_runs_its_runtime(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    """`LAMBDABOX_PYTHONS=3.13=<path>`: that path runs python3.13, whatever it is (here: a link to ours)."""
    link = tmp_path / "bin" / "python-for-313"
    link.parent.mkdir()
    link.symlink_to(sys.executable)
    server = server_factory(LAMBDABOX_PYTHONS=f"3.13={link}", LAMBDABOX_PYTHON_DISCOVERY="off")
    assert _runtimes(server)["python3.13"] == "3.13"
    result = _run(server.client(), "python3.13")
    assert result["executable"] == str(link)
    assert result["version"] == PLATFORM_VERSION  # what that interpreter really is


def test_a_malformed_interpreter_setting_stops_the_start(server_factory: Callable[..., Server]) -> None:
    with pytest.raises(AssertionError, match="LAMBDABOX_PYTHONS"):
        server_factory(LAMBDABOX_PYTHONS="python3.12")
