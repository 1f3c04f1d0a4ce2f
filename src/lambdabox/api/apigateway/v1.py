"""The apigateway (REST API, v1) control plane, for the Lambda proxy setup: handlers and output shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from lambdabox.api.apigateway.common import Output, Params, date, delete, get, items, present
from lambdabox.api.apigateway.patch import Entries, Field, Items, Spec, boolean, patch_handler, patched
from lambdabox.core.apigateway.http_apis import bad_request
from lambdabox.core.apigateway.models import (
    GatewayAccount,
    IntegrationResponse,
    Method,
    MethodResponse,
    Resource,
    RestApi,
    RestAuthorizer,
    RestDeployment,
    RestIntegration,
    RestStage,
)
from lambdabox.core.apigateway.rest_apis import RestApiService

Handler = Callable[[RestApiService, Params], Output]
M = TypeVar("M")


def rest_api_shape(api: RestApi) -> dict[str, Any]:
    return present(
        {
            "id": api.api_id,
            "name": api.name,
            "createdDate": date(api.created),
            "apiKeySource": api.api_key_source,
            "endpointConfiguration": {"types": list(api.endpoint_types)},
            "disableExecuteApiEndpoint": api.disable_execute_api_endpoint,
            "rootResourceId": api.root_resource_id,
        },
        {
            "description": api.description,
            "version": api.version,
            "policy": api.policy,
            "binaryMediaTypes": list(api.binary_media_types) or None,
            "tags": dict(api.tags) or None,
        },
    )


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


# -- resources, methods, integrations -------------------------------------------------------------------
def integration_shape(integration: RestIntegration) -> dict[str, Any]:
    return present(
        {
            "type": integration.type,
            "timeoutInMillis": integration.timeout_ms,
            "passthroughBehavior": integration.passthrough_behavior,
            "cacheKeyParameters": [],
            "connectionType": "INTERNET",
        },
        {
            "httpMethod": integration.http_method,
            "uri": integration.uri,
            "cacheNamespace": integration.cache_namespace,
            "requestTemplates": dict(integration.request_templates) or None,
            "integrationResponses": {
                code: integration_response_shape(response) for code, response in integration.responses.items()
            }
            or None,
        },
    )


def integration_response_shape(response: IntegrationResponse) -> dict[str, Any]:
    return present(
        {"statusCode": response.status_code},
        {
            "selectionPattern": response.selection_pattern,
            "responseParameters": dict(response.response_parameters) or None,
            "responseTemplates": dict(response.response_templates) or None,
            "contentHandling": response.content_handling,
        },
    )


def method_response_shape(response: MethodResponse) -> dict[str, Any]:
    return present(
        {"statusCode": response.status_code},
        {
            "responseParameters": dict(response.response_parameters) or None,
            "responseModels": dict(response.response_models) or None,
        },
    )


def method_shape(method: Method) -> dict[str, Any]:
    integration = None if method.integration is None else integration_shape(method.integration)
    return present(
        {
            "httpMethod": method.http_method,
            "authorizationType": method.authorization_type,
            "apiKeyRequired": method.api_key_required,
        },
        {
            "authorizerId": method.authorizer_id,
            "operationName": method.operation_name,
            "requestParameters": dict(method.request_parameters) or None,
            "requestModels": dict(method.request_models) or None,
            "requestValidatorId": method.request_validator_id,
            "methodResponses": {
                code: method_response_shape(response) for code, response in method.responses.items()
            }
            or None,
            "methodIntegration": integration,
        },
    )


def resource_shape(resource: Resource, embed_methods: bool = True) -> dict[str, Any]:
    methods = {name: method_shape(m) if embed_methods else {} for name, m in resource.methods.items()}
    return present(
        {"id": resource.resource_id, "path": resource.path},
        {"parentId": resource.parent_id, "pathPart": resource.path_part, "resourceMethods": methods or None},
    )


def get_resources(service: RestApiService, params: Params) -> Output:
    embed = "methods" in params.get("embed", [])
    return {"items": [resource_shape(r, embed) for r in service.resources(params["restApiId"])]}


def get_resource(service: RestApiService, params: Params) -> Output:
    embed = "methods" in params.get("embed", [])
    return resource_shape(service.get_resource(params["restApiId"], params["resourceId"]), embed)


def create_resource(service: RestApiService, params: Params) -> Output:
    resource = service.create_resource(params["restApiId"], params["parentId"], params["pathPart"])
    return resource_shape(resource)


def put_method(service: RestApiService, params: Params) -> Output:
    method = Method(
        http_method=params["httpMethod"],
        authorization_type=params["authorizationType"],
        authorizer_id=params.get("authorizerId"),
        api_key_required=params.get("apiKeyRequired", False),
        operation_name=params.get("operationName"),
        request_parameters=params.get("requestParameters", {}),
        request_models=params.get("requestModels", {}),
        request_validator_id=params.get("requestValidatorId"),
    )
    return method_shape(service.put_method(params["restApiId"], params["resourceId"], method))


def put_integration(service: RestApiService, params: Params) -> Output:
    integration = RestIntegration(
        type=params["type"],
        uri=params.get("uri"),
        http_method=params.get("integrationHttpMethod"),
        timeout_ms=params.get("timeoutInMillis", 29000),
        passthrough_behavior=params.get("passthroughBehavior", "WHEN_NO_MATCH"),
        cache_namespace=params.get("cacheNamespace"),
        request_templates=params.get("requestTemplates", {}),
    )
    integration = service.put_integration(
        params["restApiId"], params["resourceId"], params["httpMethod"], integration
    )
    return integration_shape(integration)


def put_method_response(service: RestApiService, params: Params) -> Output:
    response = MethodResponse(
        status_code=params["statusCode"],
        response_parameters=params.get("responseParameters", {}),
        response_models=params.get("responseModels", {}),
    )
    return method_response_shape(
        service.put_method_response(params["restApiId"], params["resourceId"], params["httpMethod"], response)
    )


def put_integration_response(service: RestApiService, params: Params) -> Output:
    response = IntegrationResponse(
        status_code=params["statusCode"],
        selection_pattern=params.get("selectionPattern"),
        response_parameters=params.get("responseParameters", {}),
        response_templates=params.get("responseTemplates", {}),
        content_handling=params.get("contentHandling"),
    )
    return integration_response_shape(
        service.put_integration_response(
            params["restApiId"], params["resourceId"], params["httpMethod"], response
        )
    )


def account_shape(account: GatewayAccount) -> dict[str, Any]:
    return present(
        {
            "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
            "features": ["UsagePlans"],
            "apiKeyVersion": "4",
        },
        {"cloudwatchRoleArn": account.cloudwatch_role_arn},
    )


def get_account(service: RestApiService, params: Params) -> Output:
    return account_shape(service.get_account())


# -- authorizers ----------------------------------------------------------------------------------------
def authorizer_shape(authorizer: RestAuthorizer) -> dict[str, Any]:
    return present(
        {
            "id": authorizer.authorizer_id,
            "name": authorizer.name,
            "type": authorizer.authorizer_type,
            "authType": "custom",
            "authorizerResultTtlInSeconds": authorizer.result_ttl,
        },
        {
            "authorizerUri": authorizer.authorizer_uri,
            "authorizerCredentials": authorizer.authorizer_credentials,
            "identitySource": authorizer.identity_source,
            "identityValidationExpression": authorizer.identity_validation_expression,
        },
    )


def create_authorizer(service: RestApiService, params: Params) -> Output:
    authorizer = RestAuthorizer(
        authorizer_id="",
        name=params["name"],
        authorizer_type=params["type"],
        authorizer_uri=params.get("authorizerUri"),
        identity_source=params.get("identitySource"),
        identity_validation_expression=params.get("identityValidationExpression"),
        result_ttl=params.get("authorizerResultTtlInSeconds", 300),
        authorizer_credentials=params.get("authorizerCredentials"),
    )
    return authorizer_shape(service.create_authorizer(params["restApiId"], authorizer))


_AUTHORIZER_PATCHES: dict[str, Spec] = {
    "/name": Field("name"),
    "/type": Field("authorizer_type"),
    "/authorizerUri": Field("authorizer_uri"),
    "/identitySource": Field("identity_source", removable=True),
    "/identityValidationExpression": Field("identity_validation_expression", removable=True),
    "/authorizerResultTtlInSeconds": Field("result_ttl", int),
    "/authorizerCredentials": Field("authorizer_credentials", removable=True),
}
_API_PATCHES: dict[str, Spec] = {
    "/name": Field("name"),
    "/description": Field("description", removable=True),
    "/version": Field("version", removable=True),
    "/apiKeySource": Field("api_key_source"),
    "/disableExecuteApiEndpoint": Field("disable_execute_api_endpoint", boolean),
    "/policy": Field("policy", removable=True),
    "/binaryMediaTypes": Items("binary_media_types"),
}
_METHOD_PATCHES: dict[str, Spec] = {
    "/authorizationType": Field("authorization_type"),
    "/authorizerId": Field("authorizer_id", removable=True),
    "/apiKeyRequired": Field("api_key_required", boolean),
    "/operationName": Field("operation_name", removable=True),
    "/requestParameters": Entries("request_parameters", boolean),
    "/requestModels": Entries("request_models"),
    "/requestValidatorId": Field("request_validator_id", removable=True),
}
_INTEGRATION_PATCHES: dict[str, Spec] = {
    "/uri": Field("uri"),
    "/httpMethod": Field("http_method"),
    "/timeoutInMillis": Field("timeout_ms", int),
    "/passthroughBehavior": Field("passthrough_behavior"),
    "/cacheNamespace": Field("cache_namespace"),
}
_STAGE_PATCHES: dict[str, Spec] = {
    "/description": Field("description", removable=True),
    "/deploymentId": Field("deployment_id"),
    "/variables": Entries("variables"),
    "/tracingEnabled": Field("tracing_enabled", boolean),
    "/cacheClusterEnabled": Field("cache_cluster_enabled", boolean),
}
_DEPLOYMENT_PATCHES: dict[str, Spec] = {"/description": Field("description", removable=True)}
_METHOD_RESPONSE_PATCHES: dict[str, Spec] = {
    "/responseParameters": Entries("response_parameters", boolean),
    "/responseModels": Entries("response_models"),
}
_INTEGRATION_RESPONSE_PATCHES: dict[str, Spec] = {
    "/selectionPattern": Field("selection_pattern", removable=True),
    "/responseParameters": Entries("response_parameters"),
    "/responseTemplates": Entries("response_templates"),
    "/contentHandling": Field("content_handling", removable=True),
}
_ACCOUNT_PATCHES: dict[str, Spec] = {"/cloudwatchRoleArn": Field("cloudwatch_role_arn", removable=True)}


# methodSettings: `/<resource path, / as ~1, or *>/<METHOD or *>/<setting>` -> (member, its type)
_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "metrics/enabled": ("metricsEnabled", boolean),
    "logging/loglevel": ("loggingLevel", str),
    "logging/dataTrace": ("dataTraceEnabled", boolean),
    "throttling/burstLimit": ("throttlingBurstLimit", int),
    "throttling/rateLimit": ("throttlingRateLimit", float),
    "caching/enabled": ("cachingEnabled", boolean),
    "caching/ttlInSeconds": ("cacheTtlInSeconds", int),
    "caching/dataEncrypted": ("cacheDataEncrypted", boolean),
    "caching/requireAuthorizationForCacheControl": ("requireAuthorizationForCacheControl", boolean),
    "caching/unauthorizedCacheControlHeaderStrategy": ("unauthorizedCacheControlHeaderStrategy", str),
}
_SETTING_DEFAULTS: dict[str, Any] = {
    "metricsEnabled": False,
    "loggingLevel": "OFF",
    "dataTraceEnabled": False,
    "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0,
    "cachingEnabled": False,
    "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False,
    "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}


def _method_settings(
    current: dict[str, dict[str, Any]], operations: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """UpdateStage's method-settings operations: `replace` a setting of `<resource>/<method>`, or
    `remove` all of one."""
    settings = {key: dict(values) for key, values in current.items()}
    for operation in operations:
        op, path, value = operation.get("op"), str(operation.get("path", "")), operation.get("value")
        resource, method, name = [*path[1:].split("/", 2), "", ""][:3]
        key = f"{resource}/{method}"
        if op == "remove" and not name:
            settings.pop(key, None)
            continue
        member = _SETTINGS.get(name)
        if op != "replace" or member is None or value is None:
            raise bad_request(
                f"Invalid method setting path: {path}. Must be one of: [/<path>/<method>/"
                f"{', /<path>/<method>/'.join(_SETTINGS)}]"
            )
        try:
            settings.setdefault(key, {})[member[0]] = member[1](str(value))
        except ValueError:
            raise bad_request(f"Invalid value '{value}' for patch path '{path}'") from None
    return settings


def _is_method_setting(operation: dict[str, Any]) -> bool:
    parts = str(operation.get("path", "")).split("/")
    return len(parts) >= 4 or (len(parts) == 3 and parts[1] != "variables")


def update_stage(service: RestApiService, params: Params) -> Output:
    """UpdateStage: the stage's own fields through the patch engine, its methodSettings here."""
    operations = params.get("patchOperations", [])
    plain = [operation for operation in operations if not _is_method_setting(operation)]
    settings = [operation for operation in operations if _is_method_setting(operation)]

    def edit(stage: RestStage) -> RestStage:
        stage = patched(stage, plain, _STAGE_PATCHES)
        return replace(stage, method_settings=_method_settings(stage.method_settings, settings))

    return stage_shape(service.update_stage(params["restApiId"], params["stageName"], edit))


# -- deployments and stages ----------------------------------------------------------------------------
def deployment_shape(deployment: RestDeployment) -> dict[str, Any]:
    shape: dict[str, Any] = {"id": deployment.deployment_id, "createdDate": date(deployment.created)}
    return present(shape, {"description": deployment.description})


def create_deployment(service: RestApiService, params: Params) -> Output:
    deployment = service.create_deployment(
        params["restApiId"],
        params.get("stageName"),
        params.get("description"),
        params.get("stageDescription"),
        params.get("variables", {}),
    )
    return deployment_shape(deployment)


def stage_shape(stage: RestStage) -> dict[str, Any]:
    return present(
        {
            "deploymentId": stage.deployment_id,
            "stageName": stage.name,
            "cacheClusterEnabled": stage.cache_cluster_enabled,
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {
                key: {**_SETTING_DEFAULTS, **values} for key, values in stage.method_settings.items()
            },
            "tracingEnabled": stage.tracing_enabled,
            "createdDate": date(stage.created),
            "lastUpdatedDate": date(stage.updated),
        },
        {
            "description": stage.description,
            "variables": dict(stage.variables) or None,
            "tags": dict(stage.tags) or None,
        },
    )


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


def get_stages(service: RestApiService, params: Params) -> Output:
    stages = service.list_stages(params["restApiId"], params.get("deploymentId"))
    return {"item": [stage_shape(s) for s in stages]}


_API = ("restApiId",)
_RESOURCE = ("restApiId", "resourceId")
_METHOD = ("restApiId", "resourceId", "httpMethod")
_AUTHORIZER = ("restApiId", "authorizerId")
_RESPONSE = ("restApiId", "resourceId", "httpMethod", "statusCode")
S = RestApiService  # the core methods the table names

HANDLERS: dict[str, Handler] = {
    "CreateRestApi": create_rest_api,
    "GetRestApi": get(_API, S.get_api, rest_api_shape),
    "GetRestApis": items("items", (), S.list_apis, rest_api_shape),
    "DeleteRestApi": delete(_API, S.delete_api),
    "GetResources": get_resources,
    "GetResource": get_resource,
    "CreateResource": create_resource,
    "DeleteResource": delete(_RESOURCE, S.delete_resource),
    "PutMethod": put_method,
    "GetMethod": get(_METHOD, S.get_method, method_shape),
    "DeleteMethod": delete(_METHOD, S.delete_method),
    "PutIntegration": put_integration,
    "GetIntegration": get(_METHOD, S.get_integration, integration_shape),
    "DeleteIntegration": delete(_METHOD, S.delete_integration),
    "CreateAuthorizer": create_authorizer,
    "GetAuthorizer": get(_AUTHORIZER, S.get_authorizer, authorizer_shape),
    "GetAuthorizers": items("items", _API, S.list_authorizers, authorizer_shape),
    "UpdateAuthorizer": patch_handler(
        _AUTHORIZER, S.update_authorizer, _AUTHORIZER_PATCHES, authorizer_shape
    ),
    "UpdateRestApi": patch_handler(_API, S.update_api, _API_PATCHES, rest_api_shape),
    "UpdateMethod": patch_handler(_METHOD, S.update_method, _METHOD_PATCHES, method_shape),
    "UpdateIntegration": patch_handler(
        _METHOD, S.update_integration, _INTEGRATION_PATCHES, integration_shape
    ),
    "UpdateStage": update_stage,
    "UpdateDeployment": patch_handler(
        ("restApiId", "deploymentId"), S.update_deployment, _DEPLOYMENT_PATCHES, deployment_shape
    ),
    "DeleteAuthorizer": delete(_AUTHORIZER, S.delete_authorizer),
    "PutMethodResponse": put_method_response,
    "GetMethodResponse": get(_RESPONSE, S.get_method_response, method_response_shape),
    "UpdateMethodResponse": patch_handler(
        _RESPONSE, S.update_method_response, _METHOD_RESPONSE_PATCHES, method_response_shape
    ),
    "DeleteMethodResponse": delete(_RESPONSE, S.delete_method_response),
    "PutIntegrationResponse": put_integration_response,
    "GetIntegrationResponse": get(_RESPONSE, S.get_integration_response, integration_response_shape),
    "UpdateIntegrationResponse": patch_handler(
        _RESPONSE, S.update_integration_response, _INTEGRATION_RESPONSE_PATCHES, integration_response_shape
    ),
    "DeleteIntegrationResponse": delete(_RESPONSE, S.delete_integration_response),
    "GetAccount": get_account,
    "UpdateAccount": patch_handler((), S.update_account, _ACCOUNT_PATCHES, account_shape),
    "CreateDeployment": create_deployment,
    "GetDeployments": items("items", _API, S.list_deployments, deployment_shape),
    "GetDeployment": get(("restApiId", "deploymentId"), S.get_deployment, deployment_shape),
    "CreateStage": create_stage,
    "GetStage": get(("restApiId", "stageName"), S.get_stage, stage_shape),
    "GetStages": get_stages,
    "DeleteStage": delete(("restApiId", "stageName"), S.delete_stage),
}
