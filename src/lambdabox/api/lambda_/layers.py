"""PublishLayerVersion, Get/List/Delete of layer versions, and each version's resource policy."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import orjson

from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.functions import zip_from
from lambdabox.api.lambda_.shapes import paginate
from lambdabox.aws.model import load_service_model
from lambdabox.core.layers.models import LayerVersion
from lambdabox.core.layers.service import LayerService, not_found
from lambdabox.errors import validation_error

MAX_LIST_ITEMS = 50


@cache
def _runtimes() -> tuple[str, ...]:
    """The model's Runtime enum (the service checks it; CONSTRAINTS lifts it for CreateFunction's wording)."""
    return tuple(load_service_model("lambda").shape_for("Runtime").enum)


def _check_runtimes(values: list[str], where: str) -> None:
    allowed = _runtimes()
    if any(value not in allowed for value in values):
        shown = values[0] if where == "compatibleRuntime" else "[" + ", ".join(values) + "]"
        constraint = f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        if where != "compatibleRuntime":
            constraint = f"Member must satisfy constraint: [{constraint}]"
        raise validation_error([f"Value '{shown}' at '{where}' failed to satisfy constraint: {constraint}"])


def _service(call: Call) -> LayerService:
    if call.deps.layers is None:
        raise not_found()
    return call.deps.layers


def _item(layers: LayerService, version: LayerVersion) -> dict[str, Any]:
    """LayerVersionsListItem; GetLayerVersion's answer adds the content and the layer's ARN."""
    item: dict[str, Any] = {
        "LayerVersionArn": layers.version_arn(version.name, version.version),
        "Version": version.version,
        "Description": version.description,
        "CreatedDate": version.created,
    }
    if version.compatible_runtimes:
        item["CompatibleRuntimes"] = list(version.compatible_runtimes)
    if version.compatible_architectures:
        item["CompatibleArchitectures"] = list(version.compatible_architectures)
    if version.license_info is not None:
        item["LicenseInfo"] = version.license_info
    return item


def _full(call: Call, version: LayerVersion) -> dict[str, Any]:
    layers = _service(call)
    endpoint = f"http://{call.request.header('host') or '127.0.0.1'}"
    return {
        **_item(layers, version),
        "LayerArn": layers.layer_arn(version.name),
        "Content": {
            "Location": f"{endpoint}/_lambdabox/code/layers/{version.name}/{version.version}",
            "CodeSha256": version.code.sha256,
            "CodeSize": version.code.size,
        },
    }


async def publish_layer_version(call: Call) -> Output:
    layers = _service(call)
    params = call.params
    runtimes = list(params.get("CompatibleRuntimes") or [])
    _check_runtimes(runtimes, "compatibleRuntimes")
    layer_name = layers.layer_name(params["LayerName"])  # before the content is read
    zip_file = await asyncio.to_thread(zip_from, call, params["Content"])
    version = await asyncio.to_thread(
        layers.publish,
        layer_name,
        zip_file,
        params.get("Description") or "",
        runtimes,
        list(params.get("CompatibleArchitectures") or []),
        params.get("LicenseInfo"),
    )
    return _full(call, version)


def get_layer_version(call: Call) -> Output:
    return _full(call, _service(call).get(call.params["LayerName"], call.params["VersionNumber"]))


def get_layer_version_by_arn(call: Call) -> Output:
    return _full(call, _service(call).get_by_arn(call.params["Arn"]))


def _filters(call: Call) -> tuple[str | None, str | None]:
    runtime = call.params.get("CompatibleRuntime")
    if runtime is not None:
        _check_runtimes([runtime], "compatibleRuntime")
    return runtime, call.params.get("CompatibleArchitecture")


def list_layers(call: Call) -> Output:
    layers = _service(call)
    latest = layers.list_layers(*_filters(call))
    page, marker = paginate(latest, call.params.get("Marker"), call.params.get("MaxItems"), MAX_LIST_ITEMS)
    output: dict[str, Any] = {
        "Layers": [
            {
                "LayerName": version.name,
                "LayerArn": layers.layer_arn(version.name),
                "LatestMatchingVersion": _item(layers, version),
            }
            for version in page
        ]
    }
    if marker:
        output["NextMarker"] = marker
    return output


def list_layer_versions(call: Call) -> Output:
    layers = _service(call)
    versions = layers.list_versions(call.params["LayerName"], *_filters(call))
    page, marker = paginate(versions, call.params.get("Marker"), call.params.get("MaxItems"), MAX_LIST_ITEMS)
    output: dict[str, Any] = {"LayerVersions": [_item(layers, version) for version in page]}
    if marker:
        output["NextMarker"] = marker
    return output


def delete_layer_version(call: Call) -> Output:
    _service(call).delete(call.params["LayerName"], call.params["VersionNumber"])
    return None


def add_layer_version_permission(call: Call) -> Output:
    p = call.params
    statement, revision = _service(call).add_permission(
        p["LayerName"],
        p["VersionNumber"],
        p["StatementId"],
        p["Action"],
        p["Principal"],
        p.get("OrganizationId"),
        p.get("RevisionId"),
    )
    return {"Statement": orjson.dumps(statement).decode(), "RevisionId": revision}


def remove_layer_version_permission(call: Call) -> Output:
    p = call.params
    _service(call).remove_permission(
        p["LayerName"], p["VersionNumber"], p["StatementId"], p.get("RevisionId")
    )
    return None


def get_layer_version_policy(call: Call) -> Output:
    policy, revision = _service(call).policy(call.params["LayerName"], call.params["VersionNumber"])
    return {"Policy": orjson.dumps(policy).decode(), "RevisionId": revision}
