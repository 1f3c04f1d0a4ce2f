"""PutParameter, GetParameter(s), GetParametersByPath, DescribeParameters, GetParameterHistory, deletes."""

from __future__ import annotations

from typing import Any

from lambdabox.api.ssm.common import (
    history_shape,
    legacy_filters,
    metadata_shape,
    page,
    parameter_filters,
    parameter_shape,
)
from lambdabox.core.parameters.service import ParameterService, PutRequest
from lambdabox.errors import AwsError


def put_parameter(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("Policies"):
        raise AwsError("InvalidPolicyTypeException", "Lambdabox does not support parameter policies yet.")
    version = ssm.put(
        PutRequest(
            name=params["Name"],
            value=params["Value"],
            type=params.get("Type"),
            overwrite=bool(params.get("Overwrite")),
            description=params.get("Description"),
            key_id=params.get("KeyId"),
            allowed_pattern=params.get("AllowedPattern"),
            tier=params.get("Tier"),
            data_type=params.get("DataType"),
            tags={tag["Key"]: tag["Value"] for tag in params.get("Tags") or []},
        )
    )
    return {"Version": version.version, "Tier": version.tier}


def get_parameter(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    return {"Parameter": parameter_shape(ssm.get(params["Name"], bool(params.get("WithDecryption"))))}


def get_parameters(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    found, invalid = ssm.get_many(params["Names"], bool(params.get("WithDecryption")))
    return {"Parameters": [parameter_shape(s) for s in found], "InvalidParameters": invalid}


def get_parameters_by_path(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    found = ssm.by_path(
        params["Path"],
        bool(params.get("Recursive")),
        parameter_filters(params.get("ParameterFilters")),
        bool(params.get("WithDecryption")),
    )
    chosen, token = page("GetParametersByPath", found, params, 10)
    return {"Parameters": [parameter_shape(s) for s in chosen], "NextToken": token}


def describe_parameters(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("Filters") and params.get("ParameterFilters"):
        raise AwsError(
            "ValidationException", "You can use either Filters or ParameterFilters in a single request."
        )
    filters = legacy_filters(params.get("Filters")) + parameter_filters(params.get("ParameterFilters"))
    chosen, token = page("DescribeParameters", ssm.describe(filters), params, 50)
    return {"Parameters": [metadata_shape(ssm, p) for p in chosen], "NextToken": token}


def get_parameter_history(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Name"]
    parameter = ssm.require(name)
    decrypt = bool(params.get("WithDecryption"))
    chosen, token = page("GetParameterHistory", parameter.versions, params, 50)
    return {
        "Parameters": [history_shape(ssm, parameter.name, v, decrypt) for v in chosen],
        "NextToken": token,
    }


def delete_parameter(ssm: ParameterService, params: dict[str, Any]) -> None:
    ssm.delete(params["Name"])


def delete_parameters(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    deleted, invalid = ssm.delete_many(params["Names"])
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}
