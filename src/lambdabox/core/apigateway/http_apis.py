"""HTTP APIs (apigatewayv2): APIs, integrations, routes, authorizers, stages and deployments.

Route, integration and authorizer changes reach clients through deployments: every change re-deploys the
stages that have AutoDeploy (as API Gateway does), other stages serve what CreateDeployment last gave them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from lambdabox.core.apigateway.models import (
    Authorizer,
    Cors,
    Deployment,
    HttpApi,
    HttpSnapshot,
    Integration,
    Route,
    Stage,
)
from lambdabox.core.apigateway.names import GatewayNames, lambda_arn_of, new_id
from lambdabox.core.apigateway.routing import METHODS, parse_route_key
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.errors import AwsError

DEFAULT_STAGE = "$default"
INTEGRATION_TYPES = ("AWS_PROXY", "HTTP_PROXY")
PAYLOAD_VERSIONS = ("1.0", "2.0")
AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "JWT", "CUSTOM")


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequestException", message)


def not_found(message: str) -> AwsError:
    return AwsError("NotFoundException", message, 404, fields={"resourceType": message.split()[1]})


def rest_not_found(message: str) -> AwsError:
    """REST APIs' (apigateway v1) NotFoundException: without HTTP APIs' `resourceType` field."""
    return AwsError("NotFoundException", message, 404)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


def _check_cors(cors: Cors | None) -> None:
    if cors is None:
        return
    for method in cors.allow_methods:
        if method != "*" and method.upper() not in METHODS:
            raise bad_request(f"Invalid HTTP method {method} in CORS configuration's AllowMethods")
    if cors.allow_credentials and "*" in cors.allow_origins:
        raise bad_request("allow-credentials is not supported when allow-origins is a wildcard '*'")
    if cors.max_age is not None and not -1 <= cors.max_age <= 86400:
        raise bad_request("MaxAge must be between -1 and 86400")


class HttpApiService:
    def __init__(
        self, store: ApiGatewayStore, names: GatewayNames, now: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self.names = names
        self._now = now

    # -- APIs -----------------------------------------------------------------------------------------
    def create_api(
        self,
        api: HttpApi,
        *,
        target: str | None = None,
        route_key: str | None = None,
    ) -> HttpApi:
        if api.protocol_type != "HTTP":
            raise bad_request(
                f"Lambdabox serves HTTP APIs only; ProtocolType {api.protocol_type} is not supported"
            )
        if route_key is not None and target is None:
            raise bad_request("RouteKey can only be specified together with Target (quick create)")
        _check_cors(api.cors)
        if route_key is not None:
            _parse_key(route_key)
        api = replace(api, api_id=new_id(10), created=self._now())
        with self._store.transaction():
            self._store.put(api.api_id, api.api_id, api)
            if target is not None:
                self._quick_create(api.api_id, target, route_key or "$default")
        return api

    def _quick_create(self, api_id: str, target: str, route_key: str) -> None:
        """Quick create: an integration to `target`, a route to it and the auto-deployed `$default` stage,
        all managed by API Gateway."""
        is_lambda = lambda_arn_of(target) is not None
        integration = Integration(
            integration_id=new_id(7),
            integration_type="AWS_PROXY" if is_lambda else "HTTP_PROXY",
            integration_uri=target,
            payload_format_version="2.0" if is_lambda else "1.0",
            integration_method=None if is_lambda else "ANY",
            api_gateway_managed=True,
        )
        self._store.put(api_id, integration.integration_id, integration)
        route = Route(
            route_id=new_id(7),
            route_key=route_key,
            target=f"integrations/{integration.integration_id}",
            api_gateway_managed=True,
        )
        self._store.put(api_id, route.route_id, route)
        now = self._now()
        stage = Stage(
            name=DEFAULT_STAGE, created=now, updated=now, auto_deploy=True, api_gateway_managed=True
        )
        self._store.put(api_id, stage.name, stage)
        self._redeploy(api_id)

    def get_api(self, api_id: str) -> HttpApi:
        api = self._store.get(HttpApi, api_id, api_id)
        if api is None:
            raise not_found(f"Invalid API identifier specified {self.names.account.account_id}:{api_id}")
        return api

    def list_apis(self) -> list[HttpApi]:
        return self._store.list(HttpApi)

    def update_api(self, api_id: str, changes: Mapping[str, Any], target: str | None = None) -> HttpApi:
        """`target` (quick update) re-points the integration quick create made."""
        api = replace(self.get_api(api_id), **changes)
        _check_cors(api.cors)
        with self._store.transaction():
            self._store.put(api_id, api_id, api)
            if target is not None:
                managed = [i for i in self._store.list(Integration, api_id) if i.api_gateway_managed]
                if not managed:
                    raise bad_request("Target can only be updated on an API created with quick create")
                integration = replace(managed[0], integration_uri=target)
                _check_integration(integration)
                self._store.put(api_id, integration.integration_id, integration)
                self._redeploy(api_id)
        return api

    def delete_api(self, api_id: str) -> None:
        self.get_api(api_id)
        self._store.delete_api(api_id)

    def delete_cors(self, api_id: str) -> None:
        self.update_api(api_id, {"cors": None})

    # -- integrations ---------------------------------------------------------------------------------
    def create_integration(self, api_id: str, integration: Integration) -> Integration:
        self.get_api(api_id)
        integration = replace(integration, integration_id=new_id(7))
        _check_integration(integration)
        self._store.put(api_id, integration.integration_id, integration)
        self._redeploy(api_id)
        return integration

    def get_integration(self, api_id: str, integration_id: str) -> Integration:
        self.get_api(api_id)
        integration = self._store.get(Integration, api_id, integration_id)
        if integration is None:
            raise not_found(f"Invalid Integration identifier specified {integration_id}")
        return integration

    def list_integrations(self, api_id: str) -> list[Integration]:
        self.get_api(api_id)
        return self._store.list(Integration, api_id)

    def update_integration(self, api_id: str, integration_id: str, changes: Mapping[str, Any]) -> Integration:
        integration = replace(self.get_integration(api_id, integration_id), **changes)
        _check_integration(integration)
        self._store.put(api_id, integration_id, integration)
        self._redeploy(api_id)
        return integration

    def delete_integration(self, api_id: str, integration_id: str) -> None:
        self.get_integration(api_id, integration_id)
        for route in self._store.list(Route, api_id):
            if route.integration_id == integration_id:
                raise conflict(
                    f"Cannot delete Integration {integration_id} because it is used by Route {route.route_id}"
                )
        self._store.delete(Integration, api_id, integration_id)
        self._redeploy(api_id)

    # -- routes ---------------------------------------------------------------------------------------
    def create_route(self, api_id: str, route: Route) -> Route:
        self.get_api(api_id)
        route = replace(route, route_id=new_id(7))
        self._check_route(api_id, route)
        self._store.put(api_id, route.route_id, route)
        self._redeploy(api_id)
        return route

    def get_route(self, api_id: str, route_id: str) -> Route:
        self.get_api(api_id)
        route = self._store.get(Route, api_id, route_id)
        if route is None:
            raise not_found(f"Invalid Route identifier specified {route_id}")
        return route

    def list_routes(self, api_id: str) -> list[Route]:
        self.get_api(api_id)
        return self._store.list(Route, api_id)

    def update_route(self, api_id: str, route_id: str, changes: Mapping[str, Any]) -> Route:
        route = replace(self.get_route(api_id, route_id), **changes)
        if route.authorization_type in ("NONE", "AWS_IAM"):
            route = replace(route, authorizer_id=None)
        self._check_route(api_id, route)
        self._store.put(api_id, route_id, route)
        self._redeploy(api_id)
        return route

    def delete_route(self, api_id: str, route_id: str) -> None:
        self.get_route(api_id, route_id)
        self._store.delete(Route, api_id, route_id)
        self._redeploy(api_id)

    def _check_route(self, api_id: str, route: Route) -> None:
        _parse_key(route.route_key)
        for other in self._store.list(Route, api_id):
            if other.route_key == route.route_key and other.route_id != route.route_id:
                raise conflict(f"Route with key {route.route_key} already exists for this API")
        if route.target is not None:
            integration_id = route.integration_id
            if integration_id is None or self._store.get(Integration, api_id, integration_id) is None:
                raise bad_request(f"Invalid target {route.target}: no such integration")
        if route.authorization_type not in AUTHORIZATION_TYPES:
            raise bad_request(
                f"AuthorizationType {route.authorization_type} is not supported by Lambdabox "
                f"(supported: {', '.join(AUTHORIZATION_TYPES)})"
            )
        if route.authorization_type in ("NONE", "AWS_IAM"):
            if route.authorizer_id is not None:
                raise bad_request(
                    f"Unable to set an AuthorizerId when AuthorizationType is {route.authorization_type}"
                )
            return
        if route.authorizer_id is None:
            raise bad_request(f"An AuthorizerId is required for AuthorizationType {route.authorization_type}")
        authorizer = self._store.get(Authorizer, api_id, route.authorizer_id)
        if authorizer is None:
            raise bad_request(f"Invalid authorizer id specified: {route.authorizer_id}")
        expected = "JWT" if route.authorization_type == "JWT" else "REQUEST"
        if authorizer.authorizer_type != expected:
            raise bad_request(
                f"AuthorizationType {route.authorization_type} requires an authorizer of type {expected}"
            )

    # -- authorizers ----------------------------------------------------------------------------------
    def create_authorizer(self, api_id: str, authorizer: Authorizer) -> Authorizer:
        self.get_api(api_id)
        authorizer = replace(authorizer, authorizer_id=new_id(7))
        _check_authorizer(authorizer)
        self._store.put(api_id, authorizer.authorizer_id, authorizer)
        self._redeploy(api_id)
        return authorizer

    def get_authorizer(self, api_id: str, authorizer_id: str) -> Authorizer:
        self.get_api(api_id)
        authorizer = self._store.get(Authorizer, api_id, authorizer_id)
        if authorizer is None:
            raise not_found(f"Invalid Authorizer identifier specified {authorizer_id}")
        return authorizer

    def list_authorizers(self, api_id: str) -> list[Authorizer]:
        self.get_api(api_id)
        return self._store.list(Authorizer, api_id)

    def update_authorizer(self, api_id: str, authorizer_id: str, changes: Mapping[str, Any]) -> Authorizer:
        authorizer = replace(self.get_authorizer(api_id, authorizer_id), **changes)
        _check_authorizer(authorizer)
        self._store.put(api_id, authorizer_id, authorizer)
        self._redeploy(api_id)
        return authorizer

    def delete_authorizer(self, api_id: str, authorizer_id: str) -> None:
        self.get_authorizer(api_id, authorizer_id)
        for route in self._store.list(Route, api_id):
            if route.authorizer_id == authorizer_id:
                raise conflict(
                    f"Cannot delete authorizer {authorizer_id}, is referenced in route: {route.route_key}"
                )
        self._store.delete(Authorizer, api_id, authorizer_id)
        self._redeploy(api_id)

    # -- stages and deployments -------------------------------------------------------------------------
    def create_stage(self, api_id: str, stage: Stage) -> Stage:
        self.get_api(api_id)
        if self._store.get(Stage, api_id, stage.name) is not None:
            raise conflict(f"Stage {stage.name} already exists")
        if stage.deployment_id is not None:
            self.get_deployment(api_id, stage.deployment_id)
        now = self._now()
        stage = replace(stage, created=now, updated=now)
        with self._store.transaction():
            self._store.put(api_id, stage.name, stage)
            if stage.auto_deploy:
                self._redeploy(api_id)
        return self.get_stage(api_id, stage.name)

    def get_stage(self, api_id: str, name: str) -> Stage:
        self.get_api(api_id)
        stage = self._store.get(Stage, api_id, name)
        if stage is None:
            raise not_found(f"Invalid stage identifier specified {name}")
        return stage

    def list_stages(self, api_id: str) -> list[Stage]:
        self.get_api(api_id)
        return self._store.list(Stage, api_id)

    def update_stage(self, api_id: str, name: str, changes: Mapping[str, Any]) -> Stage:
        stage = self.get_stage(api_id, name)
        if changes.get("deployment_id") is not None:
            self.get_deployment(api_id, changes["deployment_id"])
        turned_on = changes.get("auto_deploy") and not stage.auto_deploy
        stage = replace(stage, **changes, updated=self._now())
        with self._store.transaction():
            self._store.put(api_id, name, stage)
            if turned_on:
                self._redeploy(api_id)
        return self.get_stage(api_id, name)

    def delete_stage(self, api_id: str, name: str) -> None:
        self.get_stage(api_id, name)
        self._store.delete(Stage, api_id, name)

    def create_deployment(self, api_id: str, stage_name: str | None, description: str | None) -> Deployment:
        self.get_api(api_id)
        stage = self.get_stage(api_id, stage_name) if stage_name is not None else None
        if stage is not None and stage.auto_deploy:
            raise bad_request(f"Stage {stage.name} has AutoDeploy enabled; it cannot be deployed manually")
        deployment = Deployment(new_id(7), self._now(), self._snapshot(api_id), description)
        with self._store.transaction():
            self._store.put(api_id, deployment.deployment_id, deployment)
            if stage is not None:
                self._store.put(
                    api_id,
                    stage.name,
                    replace(stage, deployment_id=deployment.deployment_id, updated=deployment.created),
                )
        return deployment

    def get_deployment(self, api_id: str, deployment_id: str) -> Deployment:
        self.get_api(api_id)
        deployment = self._store.get(Deployment, api_id, deployment_id)
        if deployment is None:
            raise not_found(f"Invalid Deployment identifier specified {deployment_id}")
        return deployment

    def list_deployments(self, api_id: str) -> list[Deployment]:
        self.get_api(api_id)
        return self._store.list(Deployment, api_id)

    def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        self.get_deployment(api_id, deployment_id)
        for stage in self._store.list(Stage, api_id):
            if stage.deployment_id == deployment_id:
                raise bad_request(
                    f"Deployment {deployment_id} cannot be deleted: it is used by stage {stage.name}"
                )
        self._store.delete(Deployment, api_id, deployment_id)

    def _snapshot(self, api_id: str) -> HttpSnapshot:
        return HttpSnapshot(
            tuple(self._store.list(Route, api_id)),
            tuple(self._store.list(Integration, api_id)),
            tuple(self._store.list(Authorizer, api_id)),
        )

    def _redeploy(self, api_id: str) -> None:
        """Deploy the API's current configuration to its AutoDeploy stages."""
        with self._store.transaction():
            stages = [s for s in self._store.list(Stage, api_id) if s.auto_deploy]
            if not stages:
                return
            now = self._now()
            deployment = Deployment(new_id(7), now, self._snapshot(api_id), auto_deployed=True)
            self._store.put(api_id, deployment.deployment_id, deployment)
            for stage in stages:
                message = f"Successfully deployed stage with deployment ID '{deployment.deployment_id}'"
                self._store.put(
                    api_id,
                    stage.name,
                    replace(
                        stage,
                        deployment_id=deployment.deployment_id,
                        updated=now,
                        last_deployment_status_message=message,
                    ),
                )
                if stage.deployment_id is not None and not self._in_use(
                    api_id, stage.deployment_id, stage.name
                ):
                    previous = self._store.get(Deployment, api_id, stage.deployment_id)
                    if previous is not None and previous.auto_deployed:
                        self._store.delete(Deployment, api_id, stage.deployment_id)

    def _in_use(self, api_id: str, deployment_id: str, except_stage: str) -> bool:
        return any(
            s.deployment_id == deployment_id and s.name != except_stage
            for s in self._store.list(Stage, api_id)
        )

    # -- tags -----------------------------------------------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        api_id, stage_name = self.names.parse_tagged_arn(arn)
        if stage_name is None:
            return dict(self.get_api(api_id).tags)
        return dict(self.get_stage(api_id, stage_name).tags)

    def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        self._set_tags(arn, {**self.tags(arn), **tags})

    def untag(self, arn: str, keys: list[str]) -> None:
        self._set_tags(arn, {k: v for k, v in self.tags(arn).items() if k not in keys})

    def _set_tags(self, arn: str, tags: dict[str, str]) -> None:
        api_id, stage_name = self.names.parse_tagged_arn(arn)
        if stage_name is None:
            self._store.put(api_id, api_id, replace(self.get_api(api_id), tags=tags))
        else:
            self._store.put(api_id, stage_name, replace(self.get_stage(api_id, stage_name), tags=tags))


def _parse_key(route_key: str) -> None:
    try:
        parse_route_key(route_key)
    except ValueError:
        raise bad_request(
            f"Unable to create route {route_key}. The route key must be '$default' or '<HTTP method> <path>', "
            "with a path of literal segments, {parameters} and a final {greedy+} parameter."
        ) from None


def _check_integration(integration: Integration) -> None:
    if integration.integration_type not in INTEGRATION_TYPES:
        raise bad_request(
            f"IntegrationType {integration.integration_type} is not supported for HTTP APIs by Lambdabox "
            f"(supported: {', '.join(INTEGRATION_TYPES)})"
        )
    if integration.integration_uri is None:
        raise bad_request("IntegrationUri is required for this integration type")
    if integration.integration_type == "AWS_PROXY" and lambda_arn_of(integration.integration_uri) is None:
        raise bad_request(f"Invalid IntegrationUri specified {integration.integration_uri}")
    if integration.payload_format_version not in PAYLOAD_VERSIONS:
        raise bad_request(
            f"Unsupported PayloadFormatVersion {integration.payload_format_version}: use 1.0 or 2.0"
        )
    if integration.integration_type == "HTTP_PROXY" and integration.payload_format_version != "1.0":
        raise bad_request("PayloadFormatVersion must be 1.0 for HTTP_PROXY integrations")
    if not 50 <= integration.timeout_ms <= 30000:
        raise bad_request("TimeoutInMillis must be between 50 and 30000 milliseconds")


def _check_authorizer(authorizer: Authorizer) -> None:
    if authorizer.authorizer_type == "JWT":
        if not authorizer.jwt_issuer:
            raise bad_request("JwtConfiguration.Issuer is required for JWT authorizers")
        if not authorizer.jwt_audience:
            raise bad_request("JwtConfiguration.Audience is required for JWT authorizers")
        if len(authorizer.identity_source) != 1:
            raise bad_request("A JWT authorizer takes exactly one identity source")
        if authorizer.authorizer_uri is not None:
            raise bad_request("AuthorizerUri is not supported for JWT authorizers")
    elif authorizer.authorizer_type == "REQUEST":
        if authorizer.authorizer_uri is None or lambda_arn_of(authorizer.authorizer_uri) is None:
            raise bad_request(
                "AuthorizerUri must be a Lambda function invocation URI for REQUEST authorizers"
            )
        if authorizer.payload_format_version not in PAYLOAD_VERSIONS:
            raise bad_request("AuthorizerPayloadFormatVersion is required: 1.0 or 2.0")
        if authorizer.enable_simple_responses and authorizer.payload_format_version != "2.0":
            raise bad_request(
                "EnableSimpleResponses is only supported with AuthorizerPayloadFormatVersion 2.0"
            )
        if authorizer.result_ttl > 0 and not authorizer.identity_source:
            raise bad_request("IdentitySource is required when authorizer caching is enabled")
        if authorizer.jwt_issuer is not None:
            raise bad_request("JwtConfiguration is supported only for JWT authorizers")
    else:
        raise bad_request(f"Invalid AuthorizerType {authorizer.authorizer_type}: use JWT or REQUEST")
    for source in authorizer.identity_source:
        if not source.startswith(
            ("$request.header.", "$request.querystring.", "$context.", "$stageVariables.")
        ):
            raise bad_request(f"Invalid identity source {source}")
    if not 0 <= authorizer.result_ttl <= 3600:
        raise bad_request("AuthorizerResultTtlInSeconds must be between 0 and 3600")
