"""Configuration-only operations: code signing configurations (and a function's), runtime management,
recursive-loop detection."""

from __future__ import annotations

from typing import Any

from lambdabox.api.lambda_ import settings
from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.shapes import paginate
from lambdabox.core.code_signing import ARN_MARK, CodeSigning, CodeSigningConfig
from lambdabox.core.function_configs import FunctionConfigs
from lambdabox.errors import AwsError


def _signing(call: Call) -> CodeSigning:
    if call.deps.code_signing is None:
        raise AwsError("ServiceException", "Code signing is not configured on this server.", 500)
    return call.deps.code_signing


def _configs(call: Call) -> FunctionConfigs:
    if call.deps.function_configs is None:
        raise AwsError("ServiceException", "Function configurations are not kept on this server.", 500)
    return call.deps.function_configs


def _csc(config: CodeSigningConfig) -> dict[str, Any]:
    return {
        "CodeSigningConfigId": config.config_id,
        "CodeSigningConfigArn": config.arn,
        "Description": config.description,
        "AllowedPublishers": {"SigningProfileVersionArns": list(config.signing_profile_version_arns)},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": config.untrusted_artifact_on_deployment},
        "LastModified": config.last_modified,
    }


# -- code signing configurations -------------------------------------------------------------------------


def create_code_signing_config(call: Call) -> Output:
    p = call.params
    config = _signing(call).create(
        p["AllowedPublishers"]["SigningProfileVersionArns"],
        (p.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment"),
        p.get("Description"),
        p.get("Tags"),
    )
    return {"CodeSigningConfig": _csc(config)}


def get_code_signing_config(call: Call) -> Output:
    return {"CodeSigningConfig": _csc(_signing(call).get(call.params["CodeSigningConfigArn"]))}


def update_code_signing_config(call: Call) -> Output:
    p = call.params
    publishers = p.get("AllowedPublishers")
    config = _signing(call).update(
        p["CodeSigningConfigArn"],
        None if publishers is None else publishers["SigningProfileVersionArns"],
        (p.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment"),
        p.get("Description"),
    )
    return {"CodeSigningConfig": _csc(config)}


def delete_code_signing_config(call: Call) -> Output:
    _signing(call).delete(call.params["CodeSigningConfigArn"])
    return None


def list_code_signing_configs(call: Call) -> Output:
    page, marker = paginate(_signing(call).all(), call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {"CodeSigningConfigs": [_csc(config) for config in page]}
    if marker:
        output["NextMarker"] = marker
    return output


def list_functions_by_code_signing_config(call: Call) -> Output:
    arns = _signing(call).functions_using(call.params["CodeSigningConfigArn"])
    page, marker = paginate(arns, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {"FunctionArns": page}
    if marker:
        output["NextMarker"] = marker
    return output


# -- tags: a code signing configuration's here, a function's in settings.py --------------------------------


def _tagged_config(call: Call) -> str | None:
    arn = str(call.params["Resource"])
    return arn if ARN_MARK in arn else None


def tag_resource(call: Call) -> Output:
    arn = _tagged_config(call)
    if arn is None:
        return settings.tag_resource(call)
    _signing(call).tag(arn, call.params["Tags"])
    return None


def untag_resource(call: Call) -> Output:
    arn = _tagged_config(call)
    if arn is None:
        return settings.untag_resource(call)
    _signing(call).untag(arn, call.params["TagKeys"])
    return None


def list_tags(call: Call) -> Output:
    arn = _tagged_config(call)
    if arn is None:
        return settings.list_tags(call)
    return {"Tags": _signing(call).tags(arn)}


# -- a function's code signing configuration -------------------------------------------------------------


def put_function_code_signing_config(call: Call) -> Output:
    name = call.unqualified_name()
    arn = call.params["CodeSigningConfigArn"]
    _signing(call).put_for_function(name, arn)
    return {"CodeSigningConfigArn": arn, "FunctionName": name}


def get_function_code_signing_config(call: Call) -> Output:
    name = call.unqualified_name()
    return {"CodeSigningConfigArn": _signing(call).of_function(name) or "", "FunctionName": name}


def delete_function_code_signing_config(call: Call) -> Output:
    _signing(call).delete_for_function(call.unqualified_name())
    return None


# -- runtime management ----------------------------------------------------------------------------------


def _runtime_management(arn: str, update_on: str, version_arn: str | None) -> dict[str, Any]:
    output: dict[str, Any] = {"UpdateRuntimeOn": update_on, "FunctionArn": arn}
    if version_arn:
        output["RuntimeVersionArn"] = version_arn
    return output


def get_runtime_management_config(call: Call) -> Output:
    ref = call.ref()
    arn, config = _configs(call).runtime_management(ref.name, ref.qualifier)
    return _runtime_management(arn, config.update_runtime_on, config.runtime_version_arn)


def put_runtime_management_config(call: Call) -> Output:
    ref = call.ref()
    arn, config = _configs(call).put_runtime_management(
        ref.name, ref.qualifier, call.params["UpdateRuntimeOn"], call.params.get("RuntimeVersionArn")
    )
    return _runtime_management(arn, config.update_runtime_on, config.runtime_version_arn)


# -- recursive loop detection ----------------------------------------------------------------------------


def get_function_recursion_config(call: Call) -> Output:
    return {"RecursiveLoop": _configs(call).recursive_loop(call.unqualified_name())}


def put_function_recursion_config(call: Call) -> Output:
    value = _configs(call).put_recursive_loop(call.unqualified_name(), call.params["RecursiveLoop"])
    return {"RecursiveLoop": value}
