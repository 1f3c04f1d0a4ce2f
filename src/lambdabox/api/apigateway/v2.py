"""The apigatewayv2 (HTTP API) control plane: operation handlers and output shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

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

Params = dict[str, Any]
Output = dict[str, Any] | None
Handler = Callable[[HttpApiService, Params], Output]


def _date(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def _changes(params: Params, mapping: Mapping[str, str]) -> dict[str, Any]:
    """Domain field → value for the model members present in `params`."""
    return {field: params[member] for member, field in mapping.items() if member in params}


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


def _cors_shape(cors: Cors) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    if cors.allow_credentials is not None:
        shape["AllowCredentials"] = cors.allow_credentials
    for member, values in (
        ("AllowHeaders", cors.allow_headers),
        ("AllowMethods", cors.allow_methods),
        ("AllowOrigins", cors.allow_origins),
        ("ExposeHeaders", cors.expose_headers),
    ):
        if values:
            shape[member] = list(values)
    if cors.max_age is not None:
        shape["MaxAge"] = cors.max_age
    return shape


def api_shape(service: HttpApiService, api: HttpApi) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ApiEndpoint": service.names.api_endpoint(api.api_id),
        "ApiId": api.api_id,
        "ApiKeySelectionExpression": api.api_key_selection_expression,
        "CreatedDate": _date(api.created),
        "DisableExecuteApiEndpoint": api.disable_execute_api_endpoint,
        "IpAddressType": api.ip_address_type,
        "Name": api.name,
        "ProtocolType": api.protocol_type,
        "RouteSelectionExpression": api.route_selection_expression,
        "Tags": dict(api.tags),
    }
    if api.cors is not None:
        shape["CorsConfiguration"] = _cors_shape(api.cors)
    if api.description is not None:
        shape["Description"] = api.description
    if api.version is not None:
        shape["Version"] = api.version
    if api.disable_schema_validation is not None:
        shape["DisableSchemaValidation"] = api.disable_schema_validation
    return shape


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


def delete_api(service: HttpApiService, params: Params) -> Output:
    service.delete_api(params["ApiId"])
    return None


def delete_cors_configuration(service: HttpApiService, params: Params) -> Output:
    service.delete_cors(params["ApiId"])
    return None


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
    if integration.integration_uri is not None:
        shape["IntegrationUri"] = integration.integration_uri
    if integration.integration_method is not None:
        shape["IntegrationMethod"] = integration.integration_method
    elif integration.integration_type == "AWS_PROXY":
        shape["IntegrationMethod"] = "POST"
    if integration.description is not None:
        shape["Description"] = integration.description
    return shape


_INTEGRATION_FIELDS = {
    "IntegrationType": "integration_type",
    "IntegrationUri": "integration_uri",
    "PayloadFormatVersion": "payload_format_version",
    "TimeoutInMillis": "timeout_ms",
    "IntegrationMethod": "integration_method",
    "ConnectionType": "connection_type",
    "Description": "description",
}


def create_integration(service: HttpApiService, params: Params) -> Output:
    if "PayloadFormatVersion" not in params and params.get("IntegrationType") == "AWS_PROXY":
        raise bad_request("PayloadFormatVersion is required for AWS_PROXY integrations of HTTP APIs")
    integration = Integration("", **_changes(params, _INTEGRATION_FIELDS))
    return integration_shape(service.create_integration(params["ApiId"], integration))


def get_integration(service: HttpApiService, params: Params) -> Output:
    return integration_shape(service.get_integration(params["ApiId"], params["IntegrationId"]))


def get_integrations(service: HttpApiService, params: Params) -> Output:
    return {"Items": [integration_shape(i) for i in service.list_integrations(params["ApiId"])]}


def update_integration(service: HttpApiService, params: Params) -> Output:
    changes = _changes(params, _INTEGRATION_FIELDS)
    return integration_shape(service.update_integration(params["ApiId"], params["IntegrationId"], changes))


def delete_integration(service: HttpApiService, params: Params) -> Output:
    service.delete_integration(params["ApiId"], params["IntegrationId"])
    return None


# -- routes --------------------------------------------------------------------------------------------
def route_shape(route: Route) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ApiGatewayManaged": route.api_gateway_managed,
        "ApiKeyRequired": route.api_key_required,
        "AuthorizationType": route.authorization_type,
        "RouteId": route.route_id,
        "RouteKey": route.route_key,
    }
    if route.authorization_scopes:
        shape["AuthorizationScopes"] = list(route.authorization_scopes)
    if route.authorizer_id is not None:
        shape["AuthorizerId"] = route.authorizer_id
    if route.target is not None:
        shape["Target"] = route.target
    if route.operation_name is not None:
        shape["OperationName"] = route.operation_name
    return shape


_ROUTE_FIELDS = {
    "RouteKey": "route_key",
    "Target": "target",
    "AuthorizationType": "authorization_type",
    "AuthorizerId": "authorizer_id",
    "ApiKeyRequired": "api_key_required",
    "OperationName": "operation_name",
}


def _route_changes(params: Params) -> dict[str, Any]:
    changes = _changes(params, _ROUTE_FIELDS)
    if "AuthorizationScopes" in params:
        changes["authorization_scopes"] = tuple(params["AuthorizationScopes"])
    return changes


def create_route(service: HttpApiService, params: Params) -> Output:
    route = Route("", **_route_changes(params))
    return route_shape(service.create_route(params["ApiId"], route))


def get_route(service: HttpApiService, params: Params) -> Output:
    return route_shape(service.get_route(params["ApiId"], params["RouteId"]))


def get_routes(service: HttpApiService, params: Params) -> Output:
    return {"Items": [route_shape(r) for r in service.list_routes(params["ApiId"])]}


def update_route(service: HttpApiService, params: Params) -> Output:
    return route_shape(service.update_route(params["ApiId"], params["RouteId"], _route_changes(params)))


def delete_route(service: HttpApiService, params: Params) -> Output:
    service.delete_route(params["ApiId"], params["RouteId"])
    return None


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
    if authorizer.identity_validation_expression is not None:
        shape["IdentityValidationExpression"] = authorizer.identity_validation_expression
    return shape


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
    changes = _changes(params, _AUTHORIZER_FIELDS)
    if "IdentitySource" in params:
        changes["identity_source"] = tuple(params["IdentitySource"])
    jwt = params.get("JwtConfiguration")
    if jwt is not None:
        changes["jwt_issuer"] = jwt.get("Issuer")
        changes["jwt_audience"] = tuple(jwt.get("Audience", ()))
    return changes


def create_authorizer(service: HttpApiService, params: Params) -> Output:
    authorizer = Authorizer(authorizer_id="", **_authorizer_changes(params))
    return authorizer_shape(service.create_authorizer(params["ApiId"], authorizer))


def get_authorizer(service: HttpApiService, params: Params) -> Output:
    return authorizer_shape(service.get_authorizer(params["ApiId"], params["AuthorizerId"]))


def get_authorizers(service: HttpApiService, params: Params) -> Output:
    return {"Items": [authorizer_shape(a) for a in service.list_authorizers(params["ApiId"])]}


def update_authorizer(service: HttpApiService, params: Params) -> Output:
    changes = _authorizer_changes(params)
    return authorizer_shape(service.update_authorizer(params["ApiId"], params["AuthorizerId"], changes))


def delete_authorizer(service: HttpApiService, params: Params) -> Output:
    service.delete_authorizer(params["ApiId"], params["AuthorizerId"])
    return None


# -- stages and deployments -----------------------------------------------------------------------------
def stage_shape(stage: Stage) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "ApiGatewayManaged": stage.api_gateway_managed,
        "AutoDeploy": stage.auto_deploy,
        "CreatedDate": _date(stage.created),
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
        "LastUpdatedDate": _date(stage.updated),
        "RouteSettings": {},
        "StageName": stage.name,
        "StageVariables": dict(stage.stage_variables),
        "Tags": dict(stage.tags),
    }
    if stage.deployment_id is not None:
        shape["DeploymentId"] = stage.deployment_id
    if stage.description is not None:
        shape["Description"] = stage.description
    if stage.last_deployment_status_message is not None:
        shape["LastDeploymentStatusMessage"] = stage.last_deployment_status_message
    return shape


_STAGE_FIELDS = {"AutoDeploy": "auto_deploy", "DeploymentId": "deployment_id", "Description": "description"}


def _stage_changes(params: Params) -> dict[str, Any]:
    changes = _changes(params, _STAGE_FIELDS)
    if "StageVariables" in params:
        changes["stage_variables"] = dict(params["StageVariables"])
    return changes


def create_stage(service: HttpApiService, params: Params) -> Output:
    stage = Stage(params["StageName"], 0.0, 0.0, tags=params.get("Tags", {}), **_stage_changes(params))
    return stage_shape(service.create_stage(params["ApiId"], stage))


def get_stage(service: HttpApiService, params: Params) -> Output:
    return stage_shape(service.get_stage(params["ApiId"], params["StageName"]))


def get_stages(service: HttpApiService, params: Params) -> Output:
    return {"Items": [stage_shape(s) for s in service.list_stages(params["ApiId"])]}


def update_stage(service: HttpApiService, params: Params) -> Output:
    return stage_shape(service.update_stage(params["ApiId"], params["StageName"], _stage_changes(params)))


def delete_stage(service: HttpApiService, params: Params) -> Output:
    service.delete_stage(params["ApiId"], params["StageName"])
    return None


def deployment_shape(deployment: Deployment) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "AutoDeployed": deployment.auto_deployed,
        "CreatedDate": _date(deployment.created),
        "DeploymentId": deployment.deployment_id,
        "DeploymentStatus": "DEPLOYED",
    }
    if deployment.description is not None:
        shape["Description"] = deployment.description
    return shape


def create_deployment(service: HttpApiService, params: Params) -> Output:
    deployment = service.create_deployment(
        params["ApiId"], params.get("StageName"), params.get("Description")
    )
    return deployment_shape(deployment)


def get_deployment(service: HttpApiService, params: Params) -> Output:
    return deployment_shape(service.get_deployment(params["ApiId"], params["DeploymentId"]))


def get_deployments(service: HttpApiService, params: Params) -> Output:
    return {"Items": [deployment_shape(d) for d in service.list_deployments(params["ApiId"])]}


def delete_deployment(service: HttpApiService, params: Params) -> Output:
    service.delete_deployment(params["ApiId"], params["DeploymentId"])
    return None


# -- tags ----------------------------------------------------------------------------------------------
def get_tags(service: HttpApiService, params: Params) -> Output:
    return {"Tags": service.tags(params["ResourceArn"])}


def tag_resource(service: HttpApiService, params: Params) -> Output:
    service.tag(params["ResourceArn"], params.get("Tags", {}))
    return {}


def untag_resource(service: HttpApiService, params: Params) -> Output:
    service.untag(params["ResourceArn"], params.get("TagKeys", []))
    return None


HANDLERS: dict[str, Handler] = {
    "CreateApi": create_api,
    "GetApi": get_api,
    "GetApis": get_apis,
    "UpdateApi": update_api,
    "DeleteApi": delete_api,
    "DeleteCorsConfiguration": delete_cors_configuration,
    "CreateIntegration": create_integration,
    "GetIntegration": get_integration,
    "GetIntegrations": get_integrations,
    "UpdateIntegration": update_integration,
    "DeleteIntegration": delete_integration,
    "CreateRoute": create_route,
    "GetRoute": get_route,
    "GetRoutes": get_routes,
    "UpdateRoute": update_route,
    "DeleteRoute": delete_route,
    "CreateAuthorizer": create_authorizer,
    "GetAuthorizer": get_authorizer,
    "GetAuthorizers": get_authorizers,
    "UpdateAuthorizer": update_authorizer,
    "DeleteAuthorizer": delete_authorizer,
    "CreateStage": create_stage,
    "GetStage": get_stage,
    "GetStages": get_stages,
    "UpdateStage": update_stage,
    "DeleteStage": delete_stage,
    "CreateDeployment": create_deployment,
    "GetDeployment": get_deployment,
    "GetDeployments": get_deployments,
    "DeleteDeployment": delete_deployment,
    "GetTags": get_tags,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
}
