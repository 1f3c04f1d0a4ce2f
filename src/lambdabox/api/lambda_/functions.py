"""CreateFunction, GetFunction(Configuration), ListFunctions, Update*, DeleteFunction, versions."""

from __future__ import annotations

import asyncio
from typing import Any

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.shapes import function_configuration, paginate
from lambdabox.core.functions import ConfigChanges
from lambdabox.core.models import LATEST, LoggingConfig
from lambdabox.core.names import is_version
from lambdabox.errors import AwsError

MAX_CREATE_REQUEST = 70_167_211
MAX_ZIP_BYTES = 52_428_800

_NOT_YET = {
    "ImageConfig": "Container image configuration",
    "FileSystemConfigs": "EFS file systems",
    "CapacityProviderConfig": "Capacity providers",
    "DurableConfig": "Durable functions",
    "TenancyConfig": "Tenant isolation",
}


def _unsupported(feature: str) -> AwsError:
    return AwsError("InvalidParameterValueException", f"{feature} is not supported by Lambdabox yet.")


def config_changes(params: dict[str, Any]) -> ConfigChanges:
    for member, feature in _NOT_YET.items():
        if params.get(member):
            raise _unsupported(feature)
    vpc = params.get("VpcConfig") or {}
    if vpc.get("SubnetIds") or vpc.get("SecurityGroupIds"):
        raise _unsupported("VPC configuration")
    environment = params.get("Environment")
    logging = params.get("LoggingConfig")
    dead_letter = params.get("DeadLetterConfig")
    return ConfigChanges(
        runtime=params.get("Runtime"),
        handler=params.get("Handler"),
        role=params.get("Role"),
        description=params.get("Description"),
        timeout=params.get("Timeout"),
        memory_size=params.get("MemorySize"),
        ephemeral_storage=(params.get("EphemeralStorage") or {}).get("Size"),
        environment=dict(environment.get("Variables") or {}) if environment is not None else None,
        tracing_mode=(params.get("TracingConfig") or {}).get("Mode"),
        layers=tuple(params["Layers"]) if params.get("Layers") is not None else None,
        logging=(
            LoggingConfig(
                log_format=logging.get("LogFormat", "Text"),
                application_log_level=logging.get("ApplicationLogLevel"),
                system_log_level=logging.get("SystemLogLevel"),
                log_group=logging.get("LogGroup"),
            )
            if logging
            else None
        ),
        dead_letter_target=dead_letter.get("TargetArn", "") if dead_letter is not None else None,
        kms_key_arn=params.get("KMSKeyArn"),
        architectures=tuple(params["Architectures"]) if params.get("Architectures") else None,
        snap_start=(params.get("SnapStart") or {}).get("ApplyOn"),
    )


def zip_from(call: Call, code: dict[str, Any]) -> bytes:
    """The package bytes: inline (`ZipFile`, at most 50 MB) or read from S3 (`S3Bucket`/`S3Key`)."""
    if code.get("ImageUri"):
        raise _unsupported("Container images (ImageUri)")
    if code.get("S3Bucket") or code.get("S3Key"):
        if not (code.get("S3Bucket") and code.get("S3Key")):
            raise AwsError("InvalidParameterValueException", "Please provide both S3Bucket and S3Key.")
        return call.deps.code_source.fetch(code["S3Bucket"], code["S3Key"], code.get("S3ObjectVersion"))
    data = code.get("ZipFile")
    if not data:
        raise AwsError("InvalidParameterValueException", "Please provide a source for function code.")
    if len(data) > MAX_ZIP_BYTES:
        raise AwsError(
            "RequestEntityTooLargeException", f"Zipped size must be smaller than {MAX_ZIP_BYTES} bytes", 413
        )
    return bytes(data)


def _check_request_size(call: Call, operation: str) -> None:
    if len(call.request.body) > MAX_CREATE_REQUEST:
        raise AwsError(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_CREATE_REQUEST} bytes for the {operation} operation",
            413,
        )


async def create_function(call: Call) -> Output:
    _check_request_size(call, "CreateFunction")
    params = call.params
    if params.get("PackageType", "Zip") != "Zip":
        raise _unsupported("Container images (PackageType Image)")
    name = call.ref(qualifier_member=None)
    if name.qualifier is not None:
        raise AwsError("InvalidParameterValueException", "Function name must not contain a qualifier.")
    changes = config_changes(params)
    zip_file = await asyncio.to_thread(zip_from, call, params["Code"])
    version = await asyncio.to_thread(
        call.deps.functions.create,
        name.name,
        zip_file,
        changes,
        bool(params.get("Publish")),
        params.get("Tags") or {},
        params.get("CodeSigningConfigArn"),
    )
    return function_configuration(
        version, call.deps.account, arn_qualifier="" if version.version != LATEST else None
    )


def _config_for(call: Call) -> dict[str, Any]:
    ref = call.ref()
    resolved_qualifier = ref.qualifier
    functions = call.deps.functions
    if resolved_qualifier is None or is_version(resolved_qualifier):
        version = functions.version(ref.name, resolved_qualifier or LATEST)
        return function_configuration(version, call.deps.account, arn_qualifier=resolved_qualifier)
    alias = functions.alias(ref.name, resolved_qualifier)
    version = functions.version(ref.name, alias.function_version)
    return function_configuration(version, call.deps.account, arn_qualifier=resolved_qualifier)


def get_function_configuration(call: Call) -> Output:
    return _config_for(call)


def get_function(call: Call) -> Output:
    configuration = _config_for(call)
    name = configuration["FunctionName"]
    function = call.deps.functions.function(name)
    endpoint = f"http://{call.request.header('host') or '127.0.0.1'}"
    output: dict[str, Any] = {
        "Configuration": configuration,
        "Code": {
            "RepositoryType": "S3",
            "Location": f"{endpoint}/_lambdabox/code/{name}/{configuration['Version']}",
        },
    }
    if function.tags:
        output["Tags"] = dict(function.tags)
    if function.reserved_concurrency is not None:
        output["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
    return output


def list_functions(call: Call) -> Output:
    all_versions = call.params.get("FunctionVersion") == "ALL"
    versions = call.deps.functions.list_latest(all_versions=all_versions)
    page, marker = paginate(versions, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {
        "Functions": [function_configuration(v, call.deps.account, listing=True) for v in page]
    }
    if marker:
        output["NextMarker"] = marker
    return output


def _unqualified(call: Call) -> str:
    ref = call.ref(qualifier_member=None)
    if ref.qualifier is not None:
        raise AwsError(
            "InvalidParameterValueException",
            "Updates to function code and configuration are only supported on $LATEST. "
            "Please specify an unqualified function name or ARN.",
        )
    return ref.name


async def update_function_code(call: Call) -> Output:
    _check_request_size(call, "UpdateFunctionCode")
    params = call.params
    name = _unqualified(call)
    if params.get("ImageUri"):
        raise _unsupported("Container images (ImageUri)")
    if params.get("Architectures") and len(params["Architectures"]) != 1:
        raise AwsError("InvalidParameterValueException", "Exactly one architecture is required.")
    zip_file = await asyncio.to_thread(zip_from, call, params)
    version = await asyncio.to_thread(
        call.deps.functions.update_code,
        name,
        zip_file,
        bool(params.get("Publish")),
        bool(params.get("DryRun")),
        params.get("RevisionId"),
    )
    return function_configuration(version, call.deps.account)


def update_function_configuration(call: Call) -> Output:
    name = _unqualified(call)
    version = call.deps.functions.update_configuration(
        name, config_changes(call.params), call.params.get("RevisionId")
    )
    return function_configuration(version, call.deps.account)


def delete_function(call: Call) -> Output:
    ref = call.ref()
    call.deps.functions.delete(ref.name, ref.qualifier)
    return {"StatusCode": 204}


def publish_version(call: Call) -> Output:
    name = _unqualified(call)
    params = call.params
    version = call.deps.functions.publish(
        name, params.get("CodeSha256"), params.get("Description") or "", params.get("RevisionId")
    )
    return function_configuration(version, call.deps.account)


def list_versions_by_function(call: Call) -> Output:
    name = _unqualified(call)
    versions = call.deps.functions.list_versions(name)
    page, marker = paginate(versions, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {
        "Versions": [
            function_configuration(v, call.deps.account, arn_qualifier=v.version, listing=True) for v in page
        ]
    }
    if marker:
        output["NextMarker"] = marker
    return output
