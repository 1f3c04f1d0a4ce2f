"""Domain records -> the Lambda model's output shapes."""

from __future__ import annotations

from typing import Any

from lambdabox.core.models import LATEST, Alias, EventInvokeConfig, FunctionVersion
from lambdabox.core.names import Account


def function_configuration(
    version: FunctionVersion, account: Account, *, arn_qualifier: str | None = None, listing: bool = False
) -> dict[str, Any]:
    """FunctionConfiguration. `arn_qualifier` overrides the ARN suffix (e.g. an alias name)."""
    qualifier = (
        arn_qualifier
        if arn_qualifier is not None
        else (None if version.version == LATEST else version.version)
    )
    config: dict[str, Any] = {
        "FunctionName": version.name,
        "FunctionArn": account.function_arn(version.name, qualifier),
        "Runtime": version.runtime,
        "Role": version.role,
        "Handler": version.handler,
        "CodeSize": version.code.size,
        "Description": version.description,
        "Timeout": version.timeout,
        "MemorySize": version.memory_size,
        "LastModified": version.last_modified,
        "CodeSha256": version.code.sha256,
        "Version": version.version,
        "TracingConfig": {"Mode": version.tracing_mode},
        "RevisionId": version.revision_id,
        "PackageType": version.package_type,
        "Architectures": list(version.architectures),
        "EphemeralStorage": {"Size": version.ephemeral_storage},
        "SnapStart": {
            "ApplyOn": version.snap_start,
            "OptimizationStatus": "On" if version.snapshotted else "Off",
        },
        "LoggingConfig": _logging(version),
    }
    if version.environment is not None:
        config["Environment"] = {"Variables": dict(version.environment)}
    if version.dead_letter_target:
        config["DeadLetterConfig"] = {"TargetArn": version.dead_letter_target}
    if version.kms_key_arn:
        config["KMSKeyArn"] = version.kms_key_arn
    if version.layers:
        config["Layers"] = [{"Arn": layer.arn, "CodeSize": layer.code.size} for layer in version.layers]
    if not listing:
        config["State"] = version.state.value
        if version.state_reason is not None:
            config["StateReason"] = version.state_reason
        if version.state_reason_code is not None:
            config["StateReasonCode"] = version.state_reason_code
        if version.last_update_status is not None:
            config["LastUpdateStatus"] = version.last_update_status.value
            if version.last_update_status_reason is not None:
                config["LastUpdateStatusReason"] = version.last_update_status_reason
            if version.last_update_status_reason_code is not None:
                config["LastUpdateStatusReasonCode"] = version.last_update_status_reason_code
        config["RuntimeVersionConfig"] = {
            "RuntimeVersionArn": f"arn:aws:lambda:{account.region}::runtime:lambdabox-{version.runtime}"
        }
    return config


def _logging(version: FunctionVersion) -> dict[str, Any]:
    logging: dict[str, Any] = {"LogFormat": version.logging.log_format, "LogGroup": version.log_group}
    if version.logging.log_format == "JSON":
        logging["ApplicationLogLevel"] = version.logging.application_log_level or "INFO"
        logging["SystemLogLevel"] = version.logging.system_log_level or "INFO"
    return logging


def alias_configuration(alias: Alias, account: Account) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AliasArn": account.function_arn(alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.additional_weights:
        shape["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.additional_weights)}
    return shape


def event_invoke_config(name: str, config: EventInvokeConfig, account: Account) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "LastModified": config.last_modified,
        "FunctionArn": account.function_arn(name, config.qualifier),
        "DestinationConfig": {
            "OnSuccess": {"Destination": config.on_success} if config.on_success else {},
            "OnFailure": {"Destination": config.on_failure} if config.on_failure else {},
        },
    }
    if config.maximum_retry_attempts is not None:
        shape["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age_seconds is not None:
        shape["MaximumEventAgeInSeconds"] = config.maximum_event_age_seconds
    return shape


def paginate(
    items: list[Any], marker: str | None, max_items: int | None, cap: int
) -> tuple[list[Any], str | None]:
    """Marker = index of the first item of the page, as an opaque string."""
    start = int(marker) if marker and marker.isdigit() else 0
    size = min(max_items or cap, cap)
    page = items[start : start + size]
    following = start + size
    return page, (str(following) if following < len(items) else None)
