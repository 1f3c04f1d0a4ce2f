"""The process environment of an execution environment (spec §1.6), built from a function version."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lambdabox.core.models import FunctionVersion
from lambdabox.execution.environment import EnvironmentSpec
from lambdabox.execution.isolation import Isolation
from lambdabox.execution.sandbox import LaunchSpec
from lambdabox.runtimes.registry import RuntimeRegistry
from lambdabox.storage.interfaces import CodeStore

OPT = "/opt"  # where an environment sees its layers


@dataclass(frozen=True)
class Credentials:
    """What an environment signs its AWS calls with: its function's execution-role session."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: float | None = None  # epoch seconds; the environment is retired before then


# The credentials of a new environment of a function version (a fresh session of its execution role).
CredentialSource = Callable[[FunctionVersion], Credentials]


class EnvironmentFactory:
    """Turns a function version into the launch description of a new environment."""

    def __init__(
        self,
        registry: RuntimeRegistry,
        code: CodeStore,
        tmp_root: Path,
        region: str,
        endpoint_url: str,
        credentials: CredentialSource,
        isolation: Isolation | None = None,
    ) -> None:
        self._registry = registry
        self._code = code
        self._tmp_root = tmp_root
        self._region = region
        self._endpoint = endpoint_url
        self._credentials = credentials
        self._isolation = isolation

    def __call__(self, version: FunctionVersion) -> EnvironmentSpec:
        host_task_root = self._code.task_root(version.code)
        # Where the environment sees its code and its /tmp: /var/task and a private tmpfs when it has its
        # own mount namespace, else the code store's directory and a fresh directory of the platform's.
        task_root = self._isolation.task_root(host_task_root) if self._isolation else host_task_root
        # Its layers, merged once per combination: at /opt with a mount namespace, else where they lie
        # (the bundled runtime finds their Python packages through LAMBDABOX_OPT_DIR).
        host_opt = self._code.opt_dir([layer.code for layer in version.layers])
        isolated_opt = self._isolation is not None and self._isolation.mount_namespace
        opt = OPT if isolated_opt else str(host_opt)
        launch = self._registry.launch(version.runtime, host_task_root, task_root, (host_opt, opt))
        private_tmp = self._isolation.private_tmp() if self._isolation else None
        if private_tmp is None:
            self._tmp_root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix="env-", dir=self._tmp_root))
        else:
            tmp = private_tmp
        credentials = self._credentials(version)
        python_bin = os.path.dirname(self._registry.interpreter(version.runtime).executable)
        env: dict[str, str] = {
            # unreserved defaults, which the function's own variables may override
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "LC_CTYPE": "C.UTF-8",
            "PATH": f"{python_bin}:/usr/local/bin:/usr/bin/:/bin:{opt}/bin",
            "LD_LIBRARY_PATH": f"/lib64:/usr/lib64:{task_root}:{task_root}/lib:{opt}/lib",
            "PWD": str(task_root),
            "SHLVL": "0",
            "HOME": str(tmp),
            "TMPDIR": str(tmp),
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_ENDPOINT_URL": self._endpoint,
        }
        if version.logging.log_format == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = version.logging.application_log_level or "INFO"
        env.update(version.environment or {})
        env.update(launch.env)
        env.update(
            {
                "_HANDLER": version.handler,
                "AWS_REGION": self._region,
                "AWS_DEFAULT_REGION": self._region,
                "AWS_LAMBDA_FUNCTION_NAME": version.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(version.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": version.version,
                "AWS_LAMBDA_LOG_GROUP_NAME": version.log_group,
                "AWS_ACCESS_KEY_ID": credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
                "LAMBDA_TASK_ROOT": str(task_root),
                "LAMBDA_RUNTIME_DIR": str(Path(launch.argv[-1]).parent) if launch.argv else "/var/runtime",
            }
        )
        if not isolated_opt:
            env["LAMBDABOX_OPT_DIR"] = opt
        if credentials.session_token:
            env["AWS_SESSION_TOKEN"] = credentials.session_token
        if launch.execution_env:
            env["AWS_EXECUTION_ENV"] = launch.execution_env
        return EnvironmentSpec(
            version=version,
            entrypoint_error=launch.entrypoint_error,
            launch=LaunchSpec(
                launch.argv,
                env,
                task_root,
                version.memory_size,
                forkable=launch.forkable,
                task_root=host_task_root,
                ephemeral_mb=version.ephemeral_storage,
                opt_dir=host_opt,
            ),
            region=self._region,
            tmp_dir=tmp if private_tmp is None else None,
            credentials_expire=credentials.expiration,
        )
