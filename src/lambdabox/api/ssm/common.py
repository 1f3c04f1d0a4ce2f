"""What the Parameter Store handlers share: output shapes, filters and pagination tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from lambdabox.aws.pagination import page_by_index
from lambdabox.core.parameters.models import Parameter, ParameterVersion, Selected
from lambdabox.core.parameters.service import Filter, ParameterService, check_filter
from lambdabox.errors import AwsError

T = TypeVar("T")


def parameter_shape(selected: Selected) -> dict[str, Any]:
    version = selected.version
    return {
        "Name": selected.name,
        "Type": version.type,
        "Value": selected.value,
        "Version": version.version,
        "Selector": selected.selector,
        "SourceResult": selected.source_result,
        "LastModifiedDate": version.modified,
        "ARN": selected.arn,
        "DataType": version.data_type,
    }


def metadata_shape(ssm: ParameterService, parameter: Parameter) -> dict[str, Any]:
    current = parameter.current
    return {
        "Name": parameter.name,
        "ARN": ssm.arn(parameter.name),
        "Type": current.type,
        "KeyId": current.key_id,
        "LastModifiedDate": current.modified,
        "LastModifiedUser": current.modified_by,
        "Description": current.description,
        "AllowedPattern": current.allowed_pattern,
        "Version": current.version,
        "Tier": current.tier,
        "Policies": [],
        "DataType": current.data_type,
    }


def history_shape(
    ssm: ParameterService, name: str, version: ParameterVersion, decrypt: bool
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": version.type,
        "KeyId": version.key_id,
        "LastModifiedDate": version.modified,
        "LastModifiedUser": version.modified_by,
        "Description": version.description,
        "Value": ssm.reveal(name, version, decrypt),
        "AllowedPattern": version.allowed_pattern,
        "Version": version.version,
        "Labels": list(version.labels),
        "Tier": version.tier,
        "Policies": [],
        "DataType": version.data_type,
    }


def parameter_filters(shapes: Sequence[dict[str, Any]] | None) -> list[Filter]:
    filters = []
    for shape in shapes or []:
        key = shape["Key"]
        default = "OneLevel" if key == "Path" else "Equals"
        chosen = Filter(key, shape.get("Option") or default, tuple(shape.get("Values") or ()))
        check_filter(chosen)
        filters.append(chosen)
    return filters


def legacy_filters(shapes: Sequence[dict[str, Any]] | None) -> list[Filter]:
    """DescribeParameters' older `Filters` (Name, Type, KeyId): Name matches by prefix."""
    return [
        Filter(shape["Key"], "BeginsWith" if shape["Key"] == "Name" else "Equals", tuple(shape["Values"]))
        for shape in shapes or []
    ]


def _invalid_token() -> AwsError:
    return AwsError("InvalidNextToken", "The specified token isn't valid.")


def page(kind: str, items: Sequence[T], params: dict[str, Any], default: int) -> tuple[list[T], str | None]:
    """One page of `items` from the position `NextToken` names, at most `MaxResults` long."""
    return page_by_index(kind, items, params, default, _invalid_token)
