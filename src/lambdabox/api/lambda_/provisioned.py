"""Provisioned concurrency configurations (Put/Get/Delete/ListProvisionedConcurrencyConfig(s))."""

from __future__ import annotations

from typing import Any

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.shapes import paginate
from lambdabox.core.provisioned import ProvisionedStatus


def _config(status: ProvisionedStatus) -> dict[str, Any]:
    config = status.config
    output: dict[str, Any] = {
        "RequestedProvisionedConcurrentExecutions": config.requested,
        "AvailableProvisionedConcurrentExecutions": status.allocated,
        "AllocatedProvisionedConcurrentExecutions": status.allocated,
        "Status": status.status,
        "LastModified": config.last_modified,
    }
    if status.reason is not None:
        output["StatusReason"] = status.reason
    return output


def _target(call: Call) -> tuple[str, str | None]:
    ref = call.ref()
    return ref.name, ref.qualifier


def put_provisioned_concurrency_config(call: Call) -> Output:
    name, qualifier = _target(call)
    requested = call.params["ProvisionedConcurrentExecutions"]
    return _config(call.deps.provisioned.put(name, qualifier, requested))


def get_provisioned_concurrency_config(call: Call) -> Output:
    return _config(call.deps.provisioned.get(*_target(call)))


def delete_provisioned_concurrency_config(call: Call) -> Output:
    call.deps.provisioned.delete(*_target(call))
    return None


def list_provisioned_concurrency_configs(call: Call) -> Output:
    name = call.ref(qualifier_member=None).name
    statuses = call.deps.provisioned.list(name)
    page, marker = paginate(statuses, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    account = call.deps.account
    output: dict[str, Any] = {
        "ProvisionedConcurrencyConfigs": [
            {"FunctionArn": account.function_arn(name, s.config.qualifier), **_config(s)} for s in page
        ]
    }
    if marker:
        output["NextMarker"] = marker
    return output
