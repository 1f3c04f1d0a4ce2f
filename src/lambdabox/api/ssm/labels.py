"""Version labels and tags."""

from __future__ import annotations

from typing import Any

from lambdabox.core.parameters.service import ParameterService


def label_parameter_version(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    invalid, version = ssm.label(params["Name"], params.get("ParameterVersion"), params["Labels"])
    return {"InvalidLabels": invalid, "ParameterVersion": version}


def unlabel_parameter_version(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    removed, invalid = ssm.unlabel(params["Name"], params["ParameterVersion"], params["Labels"])
    return {"RemovedLabels": removed, "InvalidLabels": invalid}


def add_tags_to_resource(ssm: ParameterService, params: dict[str, Any]) -> None:
    tags = {tag["Key"]: tag["Value"] for tag in params["Tags"]}
    ssm.add_tags(params["ResourceType"], params["ResourceId"], tags)


def remove_tags_from_resource(ssm: ParameterService, params: dict[str, Any]) -> None:
    ssm.remove_tags(params["ResourceType"], params["ResourceId"], params["TagKeys"])


def list_tags_for_resource(ssm: ParameterService, params: dict[str, Any]) -> dict[str, Any]:
    tags = ssm.tags(params["ResourceType"], params["ResourceId"])
    return {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}
