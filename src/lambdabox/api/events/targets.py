"""Targets of a rule: put, remove, list."""

from __future__ import annotations

from typing import Any

from lambdabox.api.events.common import compact, page
from lambdabox.core.events.models import InputTransformer, Target
from lambdabox.core.events.service import EventsService, FailedTarget

_OWN_MEMBERS = ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer")


def target_of(shape: dict[str, Any]) -> Target:
    transformer = shape.get("InputTransformer")
    return Target(
        id=shape["Id"],
        arn=shape["Arn"],
        role_arn=shape.get("RoleArn"),
        input=shape.get("Input"),
        input_path=shape.get("InputPath"),
        input_transformer=(
            None
            if transformer is None
            else InputTransformer(transformer["InputTemplate"], dict(transformer.get("InputPathsMap") or {}))
        ),
        parameters={k: v for k, v in shape.items() if k not in _OWN_MEMBERS},
    )


def target_shape(target: Target) -> dict[str, Any]:
    transformer = target.input_transformer
    return compact(
        {
            "Id": target.id,
            "Arn": target.arn,
            "RoleArn": target.role_arn,
            "Input": target.input,
            "InputPath": target.input_path,
            "InputTransformer": (
                None
                if transformer is None
                else compact(
                    {"InputPathsMap": transformer.paths or None, "InputTemplate": transformer.template}
                )
            ),
            **target.parameters,
        }
    )


def _failures(failed: list[FailedTarget]) -> dict[str, Any]:
    return {
        "FailedEntryCount": len(failed),
        "FailedEntries": [
            {"TargetId": f.target_id, "ErrorCode": f.error_code, "ErrorMessage": f.error_message}
            for f in failed
        ],
    }


def put_targets(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    targets = [target_of(shape) for shape in params["Targets"]]
    return _failures(events.put_targets(params["Rule"], params.get("EventBusName"), targets))


def remove_targets(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    return _failures(events.remove_targets(params["Rule"], params.get("EventBusName"), params["Ids"]))


def list_targets_by_rule(events: EventsService, params: dict[str, Any]) -> dict[str, Any]:
    targets = events.targets(params["Rule"], params.get("EventBusName"))
    chosen, token = page("ListTargetsByRule", targets, lambda t: t.id, params)
    return compact({"Targets": [target_shape(t) for t in chosen], "NextToken": token})
