"""The apigateway (REST API, v1) control plane, for the Lambda proxy setup: handlers and output shapes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from lambdabox.core.apigateway.models import (
    Method,
    Resource,
    RestApi,
    RestDeployment,
    RestIntegration,
    RestStage,
)
from lambdabox.core.apigateway.rest_apis import RestApiService

Params = dict[str, Any]
Output = dict[str, Any] | None
Handler = Callable[[RestApiService, Params], Output]


def _date(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def rest_api_shape(api: RestApi) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "id": api.api_id,
        "name": api.name,
        "createdDate": _date(api.created),
        "apiKeySource": api.api_key_source,
        "endpointConfiguration": {"types": list(api.endpoint_types)},
        "disableExecuteApiEndpoint": api.disable_execute_api_endpoint,
        "rootResourceId": api.root_resource_id,
    }
    for member, value in (("description", api.description), ("version", api.version), ("policy", api.policy)):
        if value is not None:
            shape[member] = value
    if api.binary_media_types:
        shape["binaryMediaTypes"] = list(api.binary_media_types)
    if api.tags:
        shape["tags"] = dict(api.tags)
    return shape


def create_rest_api(service: RestApiService, params: Params) -> Output:
    endpoint = params.get("endpointConfiguration") or {}
    api = RestApi(
        api_id="",
        name=params["name"],
        created=0.0,
        root_resource_id="",
        description=params.get("description"),
        version=params.get("version"),
        binary_media_types=tuple(params.get("binaryMediaTypes", ())),
        endpoint_types=tuple(endpoint.get("types", ("EDGE",))),
        api_key_source=params.get("apiKeySource", "HEADER"),
        disable_execute_api_endpoint=params.get("disableExecuteApiEndpoint", False),
        policy=params.get("policy"),
        tags=params.get("tags", {}),
    )
    return rest_api_shape(service.create_api(api))


def get_rest_api(service: RestApiService, params: Params) -> Output:
    return rest_api_shape(service.get_api(params["restApiId"]))


def get_rest_apis(service: RestApiService, params: Params) -> Output:
    return {"items": [rest_api_shape(api) for api in service.list_apis()]}


def delete_rest_api(service: RestApiService, params: Params) -> Output:
    service.delete_api(params["restApiId"])
    return None


# -- resources, methods, integrations -------------------------------------------------------------------
def integration_shape(integration: RestIntegration) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "type": integration.type,
        "timeoutInMillis": integration.timeout_ms,
        "passthroughBehavior": integration.passthrough_behavior,
        "cacheKeyParameters": [],
        "connectionType": "INTERNET",
    }
    if integration.http_method is not None:
        shape["httpMethod"] = integration.http_method
    if integration.uri is not None:
        shape["uri"] = integration.uri
    if integration.cache_namespace is not None:
        shape["cacheNamespace"] = integration.cache_namespace
    return shape


def method_shape(method: Method) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "httpMethod": method.http_method,
        "authorizationType": method.authorization_type,
        "apiKeyRequired": method.api_key_required,
    }
    if method.authorizer_id is not None:
        shape["authorizerId"] = method.authorizer_id
    if method.operation_name is not None:
        shape["operationName"] = method.operation_name
    if method.request_parameters:
        shape["requestParameters"] = dict(method.request_parameters)
    if method.integration is not None:
        shape["methodIntegration"] = integration_shape(method.integration)
    return shape


def resource_shape(resource: Resource, embed_methods: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {"id": resource.resource_id, "path": resource.path}
    if resource.parent_id is not None:
        shape["parentId"] = resource.parent_id
    if resource.path_part is not None:
        shape["pathPart"] = resource.path_part
    if resource.methods:
        shape["resourceMethods"] = {
            name: method_shape(method) if embed_methods else {} for name, method in resource.methods.items()
        }
    return shape


def get_resources(service: RestApiService, params: Params) -> Output:
    embed = "methods" in params.get("embed", [])
    return {"items": [resource_shape(r, embed) for r in service.resources(params["restApiId"])]}


def get_resource(service: RestApiService, params: Params) -> Output:
    embed = "methods" in params.get("embed", [])
    return resource_shape(service.get_resource(params["restApiId"], params["resourceId"]), embed)


def create_resource(service: RestApiService, params: Params) -> Output:
    resource = service.create_resource(params["restApiId"], params["parentId"], params["pathPart"])
    return resource_shape(resource)


def delete_resource(service: RestApiService, params: Params) -> Output:
    service.delete_resource(params["restApiId"], params["resourceId"])
    return None


def put_method(service: RestApiService, params: Params) -> Output:
    method = Method(
        http_method=params["httpMethod"],
        authorization_type=params["authorizationType"],
        authorizer_id=params.get("authorizerId"),
        api_key_required=params.get("apiKeyRequired", False),
        operation_name=params.get("operationName"),
        request_parameters=params.get("requestParameters", {}),
    )
    return method_shape(service.put_method(params["restApiId"], params["resourceId"], method))


def get_method(service: RestApiService, params: Params) -> Output:
    return method_shape(service.get_method(params["restApiId"], params["resourceId"], params["httpMethod"]))


def delete_method(service: RestApiService, params: Params) -> Output:
    service.delete_method(params["restApiId"], params["resourceId"], params["httpMethod"])
    return None


def put_integration(service: RestApiService, params: Params) -> Output:
    integration = RestIntegration(
        type=params["type"],
        uri=params.get("uri"),
        http_method=params.get("integrationHttpMethod"),
        timeout_ms=params.get("timeoutInMillis", 29000),
        passthrough_behavior=params.get("passthroughBehavior", "WHEN_NO_MATCH"),
        cache_namespace=params.get("cacheNamespace"),
    )
    integration = service.put_integration(
        params["restApiId"], params["resourceId"], params["httpMethod"], integration
    )
    return integration_shape(integration)


def get_integration(service: RestApiService, params: Params) -> Output:
    integration = service.get_integration(params["restApiId"], params["resourceId"], params["httpMethod"])
    return integration_shape(integration)


def delete_integration(service: RestApiService, params: Params) -> Output:
    service.delete_integration(params["restApiId"], params["resourceId"], params["httpMethod"])
    return None


# -- deployments and stages ----------------------------------------------------------------------------
def deployment_shape(deployment: RestDeployment) -> dict[str, Any]:
    shape: dict[str, Any] = {"id": deployment.deployment_id, "createdDate": _date(deployment.created)}
    if deployment.description is not None:
        shape["description"] = deployment.description
    return shape


def create_deployment(service: RestApiService, params: Params) -> Output:
    deployment = service.create_deployment(
        params["restApiId"],
        params.get("stageName"),
        params.get("description"),
        params.get("stageDescription"),
        params.get("variables", {}),
    )
    return deployment_shape(deployment)


def get_deployments(service: RestApiService, params: Params) -> Output:
    return {"items": [deployment_shape(d) for d in service.list_deployments(params["restApiId"])]}


def get_deployment(service: RestApiService, params: Params) -> Output:
    return deployment_shape(service.get_deployment(params["restApiId"], params["deploymentId"]))


def stage_shape(stage: RestStage) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "deploymentId": stage.deployment_id,
        "stageName": stage.name,
        "cacheClusterEnabled": stage.cache_cluster_enabled,
        "cacheClusterStatus": "NOT_AVAILABLE",
        "methodSettings": {},
        "tracingEnabled": stage.tracing_enabled,
        "createdDate": _date(stage.created),
        "lastUpdatedDate": _date(stage.updated),
    }
    if stage.description is not None:
        shape["description"] = stage.description
    if stage.variables:
        shape["variables"] = dict(stage.variables)
    if stage.tags:
        shape["tags"] = dict(stage.tags)
    return shape


def create_stage(service: RestApiService, params: Params) -> Output:
    stage = RestStage(
        name=params["stageName"],
        deployment_id=params["deploymentId"],
        created=0.0,
        updated=0.0,
        description=params.get("description"),
        variables=params.get("variables", {}),
        tags=params.get("tags", {}),
        tracing_enabled=params.get("tracingEnabled", False),
    )
    return stage_shape(service.create_stage(params["restApiId"], stage))


def get_stage(service: RestApiService, params: Params) -> Output:
    return stage_shape(service.get_stage(params["restApiId"], params["stageName"]))


def get_stages(service: RestApiService, params: Params) -> Output:
    stages = service.list_stages(params["restApiId"], params.get("deploymentId"))
    return {"item": [stage_shape(s) for s in stages]}


def delete_stage(service: RestApiService, params: Params) -> Output:
    service.delete_stage(params["restApiId"], params["stageName"])
    return None


HANDLERS: dict[str, Handler] = {
    "CreateRestApi": create_rest_api,
    "GetRestApi": get_rest_api,
    "GetRestApis": get_rest_apis,
    "DeleteRestApi": delete_rest_api,
    "GetResources": get_resources,
    "GetResource": get_resource,
    "CreateResource": create_resource,
    "DeleteResource": delete_resource,
    "PutMethod": put_method,
    "GetMethod": get_method,
    "DeleteMethod": delete_method,
    "PutIntegration": put_integration,
    "GetIntegration": get_integration,
    "DeleteIntegration": delete_integration,
    "CreateDeployment": create_deployment,
    "GetDeployments": get_deployments,
    "GetDeployment": get_deployment,
    "CreateStage": create_stage,
    "GetStage": get_stage,
    "GetStages": get_stages,
    "DeleteStage": delete_stage,
}
