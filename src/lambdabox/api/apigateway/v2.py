"""The apigatewayv2 (HTTP API) control plane: operation handlers and output shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lambdabox.api.apigateway.common import Output, Params, date, delete, get, items, present, update
from lambdabox.api.cors_shape import cors_shape
from lambdabox.core.apigateway.http_apis import HttpApiService, bad_request
from lambdabox.core.apigateway.models import (
    Authorizer,
    Cors,
    Deployment,
    HttpApi,
    Integration,
    Route,
    Stage,
)

Handler = Callable[[HttpApiService, Params], Output]


def _changes(
    params: Params,
    mapping: Mapping[str, str],
    converted: Mapping[str, tuple[str, Callable[[Any], Any]]] | None = None,
) -> dict[str, Any]:
    """Domain field → value for the model members present in `params`; `converted` members map to a
    field and a conversion (a list to a tuple)."""
    changes = {field: params[member] for member, field in mapping.items() if member in params}
    for member, (field, convert) in (converted or {}).items():
        if member in params:
            changes[field] = convert(params[member])
    return changes


# -- APIs ---------------------------------------------------------------------------------------------
def _cors(value: Mapping[str, Any] | None) -> Cors | None:
    if value is None:
        return None
    return Cors(
        allow_origins=tuple(value.get("AllowOrigins", ())),
        allow_methods=tuple(m.upper() for m in value.get("AllowMethods", ())),
        allow_headers=tuple(h.lower() for h in value.get("AllowHeaders", ())),
        expose_headers=tuple(h.lower() for h in value.get("ExposeHeaders", ())),
        max_age=value.get("MaxAge"),
        allow_credentials=value.get("AllowCredentials"),
    )


def api_shape(service: HttpApiService, api: HttpApi) -> dict[str, Any]:
    return present(
        {
            "ApiEndpoint": service.names.api_endpoint(api.api_id),
            "ApiId": api.api_id,
            "ApiKeySelectionExpression": api.api_key_selection_expression,
            "CreatedDate": date(api.created),
            "DisableExecuteApiEndpoint": api.disable_execute_api_endpoint,
            "IpAddressType": api.ip_address_type,
            "Name": api.name,
            "ProtocolType": api.protocol_type,
            "RouteSelectionExpression": api.route_selection_expression,
            "Tags": dict(api.tags),
        },
        {
            "CorsConfiguration": None if api.cors is None else cors_shape(api.cors, omit_empty=True),
            "Description": api.description,
            "Version": api.version,
            "DisableSchemaValidation": api.disable_schema_validation,
        },
    )


def create_api(service: HttpApiService, params: Params) -> Output:
    api = HttpApi(
        api_id="",
        name=params["Name"],
        created=0.0,
        protocol_type=params["ProtocolType"],
        route_selection_expression=params.get(
            "RouteSelectionExpression", "${request.method} ${request.path}"
        ),
        api_key_selection_expression=params.get("ApiKeySelectionExpression", "$request.header.x-api-key"),
        description=params.get("Description"),
        version=params.get("Version"),
        disable_execute_api_endpoint=params.get("DisableExecuteApiEndpoint", False),
        disable_schema_validation=params.get("DisableSchemaValidation"),
        ip_address_type=params.get("IpAddressType", "ipv4"),
        cors=_cors(params.get("CorsConfiguration")),
        tags=params.get("Tags", {}),
    )
    api = service.create_api(api, target=params.get("Target"), route_key=params.get("RouteKey"))
    return api_shape(service, api)


def get_api(service: HttpApiService, params: Params) -> Output:
    return api_shape(service, service.get_api(params["ApiId"]))


def get_apis(service: HttpApiService, params: Params) -> Output:
    return {"Items": [api_shape(service, api) for api in service.list_apis()]}


_API_FIELDS = {
    "Name": "name",
    "Description": "description",
    "Version": "version",
    "RouteSelectionExpression": "route_selection_expression",
    "ApiKeySelectionExpression": "api_key_selection_expression",
    "DisableExecuteApiEndpoint": "disable_execute_api_endpoint",
    "DisableSchemaValidation": "disable_schema_validation",
    "IpAddressType": "ip_address_type",
}


def update_api(service: HttpApiService, params: Params) -> Output:
    changes = _changes(params, _API_FIELDS)
    if "CorsConfiguration" in params:
        changes["cors"] = _cors(params["CorsConfiguration"])
    return api_shape(service, service.update_api(params["ApiId"], changes, params.get("Target")))


# -- integrations --------------------------------------------------------------------------------------
def integration_shape(integration: Integration) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ApiGatewayManaged": integration.api_gateway_managed,
        "ConnectionType": integration.connection_type,
        "IntegrationId": integration.integration_id,
        "IntegrationType": integration.integration_type,
        "PayloadFormatVersion": integration.payload_format_version,
        "TimeoutInMillis": integration.timeout_ms,
    }
    method = integration.integration_method
    if method is None and integration.integration_type == "AWS_PROXY":
        method = "POST"
    return present(
        shape,
        {
            "IntegrationUri": integration.integration_uri,
            "IntegrationMethod": method,
            "Description": integration.description,
        },
    )


_INTEGRATION_FIELDS = {
    "IntegrationType": "integration_type",
    "IntegrationUri": "integration_uri",
    "PayloadFormatVersion": "payload_format_version",
    "TimeoutInMillis": "timeout_ms",
    "IntegrationMethod": "integration_method",
    "ConnectionType": "connection_type",
    "Description": "description",
}


def _integration_changes(params: Params) -> dict[str, Any]:
    return _changes(params, _INTEGRATION_FIELDS)


def create_integration(service: HttpApiService, params: Params) -> Output:
    if "PayloadFormatVersion" not in params and params.get("IntegrationType") == "AWS_PROXY":
        raise bad_request("PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs")
    integration = Integration("", **_integration_changes(params))
    return integration_shape(service.create_integration(params["ApiId"], integration))


# -- routes --------------------------------------------------------------------------------------------
def route_shape(route: Route) -> dict[str, Any]:
    return present(
        {
            "ApiGatewayManaged": route.api_gateway_managed,
            "ApiKeyRequired": route.api_key_required,
            "AuthorizationType": route.authorization_type,
            "RouteId": route.route_id,
            "RouteKey": route.route_key,
        },
        {
            "AuthorizationScopes": list(route.authorization_scopes) or None,
            "AuthorizerId": route.authorizer_id,
            "Target": route.target,
            "OperationName": route.operation_name,
        },
    )


_ROUTE_FIELDS = {
    "RouteKey": "route_key",
    "Target": "target",
    "AuthorizationType": "authorization_type",
    "AuthorizerId": "authorizer_id",
    "ApiKeyRequired": "api_key_required",
    "OperationName": "operation_name",
}


def _route_changes(params: Params) -> dict[str, Any]:
    return _changes(params, _ROUTE_FIELDS, {"AuthorizationScopes": ("authorization_scopes", tuple)})


def create_route(service: HttpApiService, params: Params) -> Output:
    route = Route("", **_route_changes(params))
    return route_shape(service.create_route(params["ApiId"], route))


# -- authorizers ---------------------------------------------------------------------------------------
def authorizer_shape(authorizer: Authorizer) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AuthorizerId": authorizer.authorizer_id,
        "AuthorizerType": authorizer.authorizer_type,
        "IdentitySource": list(authorizer.identity_source),
        "Name": authorizer.name,
    }
    if authorizer.authorizer_type == "JWT":
        shape["JwtConfiguration"] = {
            "Audience": list(authorizer.jwt_audience),
            "Issuer": authorizer.jwt_issuer,
        }
    else:
        shape["AuthorizerUri"] = authorizer.authorizer_uri
        shape["AuthorizerPayloadFormatVersion"] = authorizer.payload_format_version
        shape["AuthorizerResultTtlInSeconds"] = authorizer.result_ttl
        shape["EnableSimpleResponses"] = authorizer.enable_simple_responses
    return present(shape, {"IdentityValidationExpression": authorizer.identity_validation_expression})


_AUTHORIZER_FIELDS = {
    "Name": "name",
    "AuthorizerType": "authorizer_type",
    "AuthorizerUri": "authorizer_uri",
    "AuthorizerPayloadFormatVersion": "payload_format_version",
    "EnableSimpleResponses": "enable_simple_responses",
    "AuthorizerResultTtlInSeconds": "result_ttl",
    "IdentityValidationExpression": "identity_validation_expression",
}


def _authorizer_changes(params: Params) -> dict[str, Any]:
    changes = _changes(params, _AUTHORIZER_FIELDS, {"IdentitySource": ("identity_source", tuple)})
    jwt = params.get("JwtConfiguration")
    if jwt is not None:
        changes["jwt_issuer"] = jwt.get("Issuer")
        changes["jwt_audience"] = tuple(jwt.get("Audience", ()))
    return changes


def create_authorizer(service: HttpApiService, params: Params) -> Output:
    authorizer = Authorizer(authorizer_id="", **_authorizer_changes(params))
    return authorizer_shape(service.create_authorizer(params["ApiId"], authorizer))


# -- stages and deployments -----------------------------------------------------------------------------
def stage_shape(stage: Stage) -> dict[str, Any]:
    return present(
        {
            "ApiGatewayManaged": stage.api_gateway_managed,
            "AutoDeploy": stage.auto_deploy,
            "CreatedDate": date(stage.created),
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False, **stage.default_route_settings},
            "LastUpdatedDate": date(stage.updated),
            "RouteSettings": dict(stage.route_settings),
            "StageName": stage.name,
            "StageVariables": dict(stage.stage_variables),
            "Tags": dict(stage.tags),
        },
        {
            "DeploymentId": stage.deployment_id,
            "Description": stage.description,
            "LastDeploymentStatusMessage": stage.last_deployment_status_message,
        },
    )


_STAGE_FIELDS = {"AutoDeploy": "auto_deploy", "DeploymentId": "deployment_id", "Description": "description"}


def _stage_changes(params: Params) -> dict[str, Any]:
    return _changes(
        params,
        _STAGE_FIELDS,
        {
            "StageVariables": ("stage_variables", dict),
            "DefaultRouteSettings": ("default_route_settings", dict),
            "RouteSettings": ("route_settings", dict),
        },
    )


def create_stage(service: HttpApiService, params: Params) -> Output:
    stage = Stage(params["StageName"], 0.0, 0.0, tags=params.get("Tags", {}), **_stage_changes(params))
    return stage_shape(service.create_stage(params["ApiId"], stage))


def deployment_shape(deployment: Deployment) -> dict[str, Any]:
    return present(
        {
            "AutoDeployed": deployment.auto_deployed,
            "CreatedDate": date(deployment.created),
            "DeploymentId": deployment.deployment_id,
            "DeploymentStatus": "DEPLOYED",
        },
        {"Description": deployment.description},
    )


def create_deployment(service: HttpApiService, params: Params) -> Output:
    deployment = service.create_deployment(
        params["ApiId"], params.get("StageName"), params.get("Description")
    )
    return deployment_shape(deployment)


# -- tags ----------------------------------------------------------------------------------------------
def get_tags(service: HttpApiService, params: Params) -> Output:
    return {"Tags": service.tags(params["ResourceArn"])}


def tag_resource(service: HttpApiService, params: Params) -> Output:
    service.tag(params["ResourceArn"], params.get("Tags", {}))
    return {}


def untag_resource(service: HttpApiService, params: Params) -> Output:
    service.untag(params["ResourceArn"], params.get("TagKeys", []))
    return None


_API = ("ApiId",)
_INTEGRATION = ("ApiId", "IntegrationId")
_ROUTE = ("ApiId", "RouteId")
_AUTHORIZER = ("ApiId", "AuthorizerId")
_STAGE = ("ApiId", "StageName")
_DEPLOYMENT = ("ApiId", "DeploymentId")
S = HttpApiService  # the core methods the table names

HANDLERS: dict[str, Handler] = {
    "CreateApi": create_api,
    "GetApi": get_api,
    "GetApis": get_apis,
    "UpdateApi": update_api,
    "DeleteApi": delete(_API, S.delete_api),
    "DeleteCorsConfiguration": delete(_API, S.delete_cors),
    "CreateIntegration": create_integration,
    "GetIntegration": get(_INTEGRATION, S.get_integration, integration_shape),
    "GetIntegrations": items("Items", _API, S.list_integrations, integration_shape),
    "UpdateIntegration": update(_INTEGRATION, S.update_integration, _integration_changes, integration_shape),
    "DeleteIntegration": delete(_INTEGRATION, S.delete_integration),
    "CreateRoute": create_route,
    "GetRoute": get(_ROUTE, S.get_route, route_shape),
    "GetRoutes": items("Items", _API, S.list_routes, route_shape),
    "UpdateRoute": update(_ROUTE, S.update_route, _route_changes, route_shape),
    "DeleteRoute": delete(_ROUTE, S.delete_route),
    "CreateAuthorizer": create_authorizer,
    "GetAuthorizer": get(_AUTHORIZER, S.get_authorizer, authorizer_shape),
    "GetAuthorizers": items("Items", _API, S.list_authorizers, authorizer_shape),
    "UpdateAuthorizer": update(_AUTHORIZER, S.update_authorizer, _authorizer_changes, authorizer_shape),
    "DeleteAuthorizer": delete(_AUTHORIZER, S.delete_authorizer),
    "CreateStage": create_stage,
    "GetStage": get(_STAGE, S.get_stage, stage_shape),
    "GetStages": items("Items", _API, S.list_stages, stage_shape),
    "UpdateStage": update(_STAGE, S.update_stage, _stage_changes, stage_shape),
    "DeleteStage": delete(_STAGE, S.delete_stage),
    "CreateDeployment": create_deployment,
    "GetDeployment": get(_DEPLOYMENT, S.get_deployment, deployment_shape),
    "GetDeployments": items("Items", _API, S.list_deployments, deployment_shape),
    "DeleteDeployment": delete(_DEPLOYMENT, S.delete_deployment),
    "GetTags": get_tags,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
