"""Per-function settings that only configure: runtime management (per version) and recursive-loop
detection (per function).

Lambdabox ships one build of each runtime, so there is a single runtime version per runtime:
`UpdateRuntimeOn` and a pinned `RuntimeVersionArn` are kept and answered as AWS answers them, and every
mode runs the runtime Lambdabox has. `RecursiveLoop` is kept the same way (Lambdabox does not trace
invocation chains across services, so nothing is stopped as `Terminate` would).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from lambdabox.core.functions import FunctionService
from lambdabox.core.models import LATEST, FunctionVersion
from lambdabox.errors import AwsError

RUNTIME_MANAGEMENT = "runtime-management"
RECURSION = "recursion"


@dataclass(frozen=True)
class RuntimeManagement:
    update_runtime_on: str = "Auto"
    runtime_version_arn: str | None = None


class FunctionConfigStore(Protocol):
    """Small documents per (function, kind, qualifier); `qualifier` is "" for function-wide ones."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def get_config(self, function_name: str, kind: str, qualifier: str) -> dict[str, str] | None: ...
    def put_config(self, function_name: str, kind: str, qualifier: str, doc: dict[str, str]) -> None: ...
    def config_qualifiers(self, function_name: str, kind: str) -> list[str]: ...
    def delete_config(self, function_name: str, kind: str, qualifier: str) -> None: ...
    def delete_configs(self, function_name: str) -> None: ...  # and the function's code signing config
    def configured_functions(self) -> list[str]: ...  # every function with a document or a signing config


class FunctionConfigs:
    def __init__(self, store: FunctionConfigStore, functions: FunctionService) -> None:
        self._store = store
        self._functions = functions
        for name in store.configured_functions():  # a crash between deleting a function and its settings
            self.function_changed(name)

    # -- runtime management ----------------------------------------------------------------------------
    def runtime_management(self, name: str, qualifier: str | None) -> tuple[str, RuntimeManagement]:
        """(the function's ARN as addressed, the version's configuration); `Auto` unless set."""
        version = qualifier or LATEST
        self._functions.version(name, version)
        doc = self._store.get_config(name, RUNTIME_MANAGEMENT, version)
        config = (
            RuntimeManagement()
            if doc is None
            else RuntimeManagement(doc["UpdateRuntimeOn"], doc.get("RuntimeVersionArn"))
        )
        return self._functions.account.function_arn(name, qualifier), config  # as addressed

    def put_runtime_management(
        self, name: str, qualifier: str | None, update_on: str, runtime_version_arn: str | None
    ) -> tuple[str, RuntimeManagement]:
        if update_on == "Manual" and not runtime_version_arn:
            raise AwsError(
                "InvalidParameterValueException",
                "RuntimeVersionArn is required when UpdateRuntimeOn is Manual.",
            )
        if update_on != "Manual" and runtime_version_arn:
            raise AwsError(
                "InvalidParameterValueException",
                f"RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual, not {update_on}.",
            )
        region = self._functions.account.region
        if runtime_version_arn and runtime_version_arn.split(":")[3:4] != [region]:
            raise AwsError(
                "InvalidParameterValueException",
                f"The runtime version {runtime_version_arn} is not available in {region}.",
            )
        version = qualifier or LATEST
        doc = {"UpdateRuntimeOn": update_on}
        if runtime_version_arn:
            doc["RuntimeVersionArn"] = runtime_version_arn
        with self._store.transaction():
            self._functions.version(name, version)
            self._store.put_config(name, RUNTIME_MANAGEMENT, version, doc)
        return self._functions.account.function_arn(name, qualifier), RuntimeManagement(
            update_on, runtime_version_arn or None
        )

    # -- recursive loop detection ----------------------------------------------------------------------
    def recursive_loop(self, name: str) -> str:
        self._functions.function(name)
        doc = self._store.get_config(name, RECURSION, "")
        return "Terminate" if doc is None else doc["RecursiveLoop"]

    def put_recursive_loop(self, name: str, value: str) -> str:
        with self._store.transaction():
            self._functions.function(name)
            self._store.put_config(name, RECURSION, "", {"RecursiveLoop": value})
        return value

    # -- lifecycle -------------------------------------------------------------------------------------
    def function_changed(self, name: str) -> None:
        """A function was deleted (its settings go with it) or lost a version (that version's go)."""
        with self._store.transaction():
            versions = {v.version for v in self._functions_versions(name)}
            if not versions:
                self._store.delete_configs(name)
                return
            for qualifier in self._store.config_qualifiers(name, RUNTIME_MANAGEMENT):
                if qualifier not in versions:
                    self._store.delete_config(name, RUNTIME_MANAGEMENT, qualifier)

    def _functions_versions(self, name: str) -> list[FunctionVersion]:
        try:
            return list(self._functions.list_versions(name))
        except AwsError:
            return []
