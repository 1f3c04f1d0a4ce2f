"""REST APIs (apigateway v1), as far as the Lambda proxy setup goes: the resource tree, methods with
AWS_PROXY integrations and Lambda (TOKEN or REQUEST) authorizers, deployments (snapshots of the tree, the
authorizers and the resource policy) and stages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from lambdabox.core.apigateway.http_apis import bad_request, conflict, rest_not_found
from lambdabox.core.apigateway.models import (
    ACCOUNT_RECORDS,
    GatewayAccount,
    IntegrationResponse,
    Method,
    MethodResponse,
    RequestValidator,
    Resource,
    RestApi,
    RestAuthorizer,
    RestDeployment,
    RestIntegration,
    RestModel,
    RestStage,
)
from lambdabox.core.apigateway.names import GatewayNames, lambda_arn_of, new_id
from lambdabox.core.apigateway.rest_models import api_methods, check_method_references, default_models
from lambdabox.core.apigateway.routing import ANY, METHODS
from lambdabox.core.apigateway.store import ApiGatewayStore

_PATH_PART = re.compile(r"[A-Za-z0-9._:@~!$&'()*+,;=-]+|\{[A-Za-z0-9._-]+\+?\}")
_STAGE_NAME = re.compile(r"[A-Za-z0-9_]{1,128}")
_STAGE_VARIABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_STATUS_CODE = re.compile(r"[1-5]\d\d")


class RestApiService:
    def __init__(
        self, store: ApiGatewayStore, names: GatewayNames, now: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self.names = names
        self._now = now

    # -- APIs -----------------------------------------------------------------------------------------
    def create_api(self, api: RestApi) -> RestApi:
        for kind in api.endpoint_types:
            if kind not in ("EDGE", "REGIONAL", "PRIVATE"):
                raise bad_request(f"Invalid endpoint type {kind}")
        api = replace(api, api_id=new_id(10), created=self._now(), root_resource_id=new_id(10))
        with self._store.transaction():
            self._store.put(api.api_id, api.api_id, api)
            root = Resource(api.root_resource_id, "/")
            self._store.put(api.api_id, root.resource_id, root)
            for model in default_models():
                self._store.put(api.api_id, model.name, model)
        return api

    def get_api(self, api_id: str) -> RestApi:
        api = self._store.get(RestApi, api_id, api_id)
        if api is None:
            raise rest_not_found("Invalid API identifier specified")
        return api

    def list_apis(self) -> list[RestApi]:
        return self._store.list(RestApi)

    def update_api(self, api_id: str, change: Callable[[RestApi], RestApi]) -> RestApi:
        with self._store.transaction():
            api = change(self.get_api(api_id))
            if api.api_key_source not in ("HEADER", "AUTHORIZER"):
                raise bad_request(
                    f"Invalid API key source {api.api_key_source}. Must be HEADER or AUTHORIZER"
                )
            if not api.name:
                raise bad_request("Name is required")
            self._store.put(api_id, api_id, api)
        return api

    def delete_api(self, api_id: str) -> None:
        self.get_api(api_id)
        self._store.delete_api(api_id)

    # -- resources ------------------------------------------------------------------------------------
    def resources(self, api_id: str) -> list[Resource]:
        self.get_api(api_id)
        return self._store.list(Resource, api_id)

    def get_resource(self, api_id: str, resource_id: str) -> Resource:
        self.get_api(api_id)
        resource = self._store.get(Resource, api_id, resource_id)
        if resource is None:
            raise rest_not_found("Invalid Resource identifier specified")
        return resource

    def create_resource(self, api_id: str, parent_id: str, path_part: str) -> Resource:
        parent = self.get_resource(api_id, parent_id)
        if _PATH_PART.fullmatch(path_part) is None:
            raise bad_request(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end "
                "and an optional plus sign before the closing brace."
            )
        if parent.path_part is not None and parent.path_part.endswith("+}"):
            raise bad_request(
                f"Cannot create a child of a resource with a greedy path variable: {parent.path_part}"
            )
        siblings = [r for r in self._store.list(Resource, api_id) if r.parent_id == parent_id]
        for sibling in siblings:
            if sibling.path_part == path_part:
                raise conflict(f"Another resource with the same parent already has this name: {path_part}")
            if path_part.startswith("{") and (sibling.path_part or "").startswith("{"):
                raise bad_request(
                    f"A sibling ({sibling.path_part}) of this resource already has a variable path part "
                    "-- only one is allowed"
                )
        path = f"/{path_part}" if parent.path == "/" else f"{parent.path}/{path_part}"
        resource = Resource(new_id(6), path, parent_id, path_part)
        self._store.put(api_id, resource.resource_id, resource)
        return resource

    def delete_resource(self, api_id: str, resource_id: str) -> None:
        resource = self.get_resource(api_id, resource_id)
        if resource.parent_id is None:
            raise bad_request("Cannot delete the root resource")
        with self._store.transaction():
            doomed = {resource_id}
            everything = self._store.list(Resource, api_id)
            grew = True
            while grew:
                more = {r.resource_id for r in everything if r.parent_id in doomed} - doomed
                grew = bool(more)
                doomed |= more
            for key in doomed:
                self._store.delete(Resource, api_id, key)

    # -- methods and integrations ---------------------------------------------------------------------
    def put_method(self, api_id: str, resource_id: str, method: Method) -> Method:
        resource = self.get_resource(api_id, resource_id)
        _check_method_name(method.http_method)
        self._check_authorization(api_id, method)
        check_method_references(self._store, api_id, method)
        if method.http_method in resource.methods:
            raise conflict("Method already exists for this resource")
        self._put_method(api_id, resource_id, method)
        return method

    def _check_authorization(self, api_id: str, method: Method) -> None:
        if method.authorization_type in ("NONE", "AWS_IAM"):
            return
        if method.authorization_type != "CUSTOM":
            raise bad_request(
                "Lambdabox REST APIs support authorizationType NONE, AWS_IAM and CUSTOM (Lambda "
                f"authorizers), not {method.authorization_type}"
            )
        if (
            method.authorizer_id is None
            or self._store.get(RestAuthorizer, api_id, method.authorizer_id) is None
        ):
            raise bad_request(
                "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                "COGNITO_USER_POOLS requires a valid authorizer."
            )

    def get_method(self, api_id: str, resource_id: str, http_method: str) -> Method:
        resource = self.get_resource(api_id, resource_id)
        method = resource.methods.get(http_method.upper())
        if method is None:
            raise rest_not_found("Invalid Method identifier specified")
        return method

    def update_method(
        self, api_id: str, resource_id: str, http_method: str, change: Callable[[Method], Method]
    ) -> Method:
        with self._store.transaction():
            method = change(self.get_method(api_id, resource_id, http_method))
            if method.authorization_type in ("NONE", "AWS_IAM"):
                method = replace(method, authorizer_id=None)
            self._check_authorization(api_id, method)
            check_method_references(self._store, api_id, method)
            self._put_method(api_id, resource_id, method)
        return method

    def _put_method(self, api_id: str, resource_id: str, method: Method) -> None:
        resource = self.get_resource(api_id, resource_id)
        self._store.put(
            api_id, resource_id, replace(resource, methods={**resource.methods, method.http_method: method})
        )

    def delete_method(self, api_id: str, resource_id: str, http_method: str) -> None:
        resource = self.get_resource(api_id, resource_id)
        self.get_method(api_id, resource_id, http_method)
        methods = {k: v for k, v in resource.methods.items() if k != http_method.upper()}
        self._store.put(api_id, resource_id, replace(resource, methods=methods))

    def put_integration(
        self, api_id: str, resource_id: str, http_method: str, integration: RestIntegration
    ) -> RestIntegration:
        method = self.get_method(api_id, resource_id, http_method)
        _check_integration(integration)
        integration = replace(integration, cache_namespace=integration.cache_namespace or resource_id)
        self._put_integration(api_id, resource_id, method.http_method, integration)
        return integration

    def update_integration(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        change: Callable[[RestIntegration], RestIntegration],
    ) -> RestIntegration:
        with self._store.transaction():
            integration = change(self.get_integration(api_id, resource_id, http_method))
            _check_integration(integration)
            self._put_integration(api_id, resource_id, http_method, integration)
        return integration

    def get_integration(self, api_id: str, resource_id: str, http_method: str) -> RestIntegration:
        integration = self.get_method(api_id, resource_id, http_method).integration
        if integration is None:
            raise rest_not_found("No integration defined for method")
        return integration

    def delete_integration(self, api_id: str, resource_id: str, http_method: str) -> None:
        method = self.get_method(api_id, resource_id, http_method)
        self.get_integration(api_id, resource_id, http_method)
        self._put_method(api_id, resource_id, replace(method, integration=None))

    # -- method and integration responses -------------------------------------------------------------
    def put_method_response(
        self, api_id: str, resource_id: str, http_method: str, response: MethodResponse
    ) -> MethodResponse:
        _check_status(response.status_code)
        with self._store.transaction():
            if response.status_code in self.get_method(api_id, resource_id, http_method).responses:
                raise conflict("Response already exists for this resource")
            self._edit_method_responses(api_id, resource_id, http_method, response.status_code, response)
        return response

    def get_method_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> MethodResponse:
        response = self.get_method(api_id, resource_id, http_method).responses.get(status_code)
        if response is None:
            raise rest_not_found("Invalid Response status code specified")
        return response

    def update_method_response(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        change: Callable[[MethodResponse], MethodResponse],
    ) -> MethodResponse:
        with self._store.transaction():
            response = change(self.get_method_response(api_id, resource_id, http_method, status_code))
            self._edit_method_responses(api_id, resource_id, http_method, status_code, response)
        return response

    def delete_method_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> None:
        with self._store.transaction():
            self.get_method_response(api_id, resource_id, http_method, status_code)
            self._edit_method_responses(api_id, resource_id, http_method, status_code, None)

    def _edit_method_responses(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        response: MethodResponse | None,
    ) -> None:
        """The method's response for `status_code` set to `response` (None: removed)."""
        method = self.get_method(api_id, resource_id, http_method)
        self._put_method(
            api_id, resource_id, replace(method, responses=_with(method.responses, status_code, response))
        )

    def put_integration_response(
        self, api_id: str, resource_id: str, http_method: str, response: IntegrationResponse
    ) -> IntegrationResponse:
        with self._store.transaction():
            declared = self.get_method_response(api_id, resource_id, http_method, response.status_code)
            self.get_integration(api_id, resource_id, http_method)
            _check_integration_response(response, declared)
            self._edit_integration_responses(api_id, resource_id, http_method, response.status_code, response)
        return response

    def get_integration_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> IntegrationResponse:
        response = self.get_integration(api_id, resource_id, http_method).responses.get(status_code)
        if response is None:
            raise rest_not_found("Invalid Response status code specified")
        return response

    def update_integration_response(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        change: Callable[[IntegrationResponse], IntegrationResponse],
    ) -> IntegrationResponse:
        with self._store.transaction():
            response = change(self.get_integration_response(api_id, resource_id, http_method, status_code))
            declared = self.get_method_response(api_id, resource_id, http_method, status_code)
            _check_integration_response(response, declared)
            self._edit_integration_responses(api_id, resource_id, http_method, status_code, response)
        return response

    def delete_integration_response(
        self, api_id: str, resource_id: str, http_method: str, status_code: str
    ) -> None:
        with self._store.transaction():
            self.get_integration_response(api_id, resource_id, http_method, status_code)
            self._edit_integration_responses(api_id, resource_id, http_method, status_code, None)

    def _edit_integration_responses(
        self,
        api_id: str,
        resource_id: str,
        http_method: str,
        status_code: str,
        response: IntegrationResponse | None,
    ) -> None:
        """The integration's response for `status_code` set to `response` (None: removed)."""
        integration = self.get_integration(api_id, resource_id, http_method)
        responses = _with(integration.responses, status_code, response)
        self._put_integration(api_id, resource_id, http_method, replace(integration, responses=responses))

    def _put_integration(
        self, api_id: str, resource_id: str, http_method: str, integration: RestIntegration
    ) -> None:
        method = self.get_method(api_id, resource_id, http_method)
        self._put_method(api_id, resource_id, replace(method, integration=integration))

    # -- the account ----------------------------------------------------------------------------------
    def get_account(self) -> GatewayAccount:
        return self._store.get(GatewayAccount, ACCOUNT_RECORDS, "account") or GatewayAccount()

    def update_account(self, change: Callable[[GatewayAccount], GatewayAccount]) -> GatewayAccount:
        with self._store.transaction():
            account = change(self.get_account())
            self._store.put(ACCOUNT_RECORDS, "account", account)
        return account

    # -- authorizers ----------------------------------------------------------------------------------
    def create_authorizer(self, api_id: str, authorizer: RestAuthorizer) -> RestAuthorizer:
        self.get_api(api_id)
        authorizer = replace(authorizer, authorizer_id=new_id(6))
        _check_authorizer(authorizer)
        self._store.put(api_id, authorizer.authorizer_id, authorizer)
        return authorizer

    def get_authorizer(self, api_id: str, authorizer_id: str) -> RestAuthorizer:
        self.get_api(api_id)
        authorizer = self._store.get(RestAuthorizer, api_id, authorizer_id)
        if authorizer is None:
            raise rest_not_found("Invalid authorizer identifier specified")
        return authorizer

    def list_authorizers(self, api_id: str) -> list[RestAuthorizer]:
        self.get_api(api_id)
        return self._store.list(RestAuthorizer, api_id)

    def update_authorizer(
        self, api_id: str, authorizer_id: str, change: Callable[[RestAuthorizer], RestAuthorizer]
    ) -> RestAuthorizer:
        with self._store.transaction():
            authorizer = change(self.get_authorizer(api_id, authorizer_id))
            _check_authorizer(authorizer)
            self._store.put(api_id, authorizer_id, authorizer)
        return authorizer

    def delete_authorizer(self, api_id: str, authorizer_id: str) -> None:
        authorizer = self.get_authorizer(api_id, authorizer_id)
        for resource, method in api_methods(self._store, api_id):
            if method.authorizer_id == authorizer_id:
                raise bad_request(
                    f"Cannot delete authorizer '{authorizer.name}', is referenced in method: "
                    f"{method.http_method} {resource.path}"
                )
        self._store.delete(RestAuthorizer, api_id, authorizer_id)

    # -- deployments and stages -----------------------------------------------------------------------
    def create_deployment(
        self,
        api_id: str,
        stage_name: str | None,
        description: str | None,
        stage_description: str | None,
        variables: dict[str, str],
    ) -> RestDeployment:
        resources = tuple(self.resources(api_id))
        if not any(r.methods for r in resources):
            raise bad_request("The REST API doesn't contain any methods")
        for resource in resources:
            for method in resource.methods.values():
                if method.integration is None:
                    raise bad_request("No integration defined for method")
        if stage_name is not None:
            _check_stage_name(stage_name)
        authorizers = tuple(self._store.list(RestAuthorizer, api_id))
        deployment = RestDeployment(
            new_id(6),
            self._now(),
            resources,
            description,
            authorizers,
            self.get_api(api_id).policy,
            tuple(self._store.list(RestModel, api_id)),
            tuple(self._store.list(RequestValidator, api_id)),
        )
        with self._store.transaction():
            self._store.put(api_id, deployment.deployment_id, deployment)
            if stage_name is not None:
                stage = self._store.get(RestStage, api_id, stage_name)
                now = deployment.created
                if stage is None:
                    stage = RestStage(
                        stage_name, deployment.deployment_id, now, now, stage_description, variables
                    )
                else:
                    stage = replace(
                        stage,
                        deployment_id=deployment.deployment_id,
                        updated=now,
                        variables={**stage.variables, **variables},
                    )
                self._store.put(api_id, stage_name, stage)
        return deployment

    def list_deployments(self, api_id: str) -> list[RestDeployment]:
        self.get_api(api_id)
        return self._store.list(RestDeployment, api_id)

    def get_deployment(self, api_id: str, deployment_id: str) -> RestDeployment:
        self.get_api(api_id)
        deployment = self._store.get(RestDeployment, api_id, deployment_id)
        if deployment is None:
            raise rest_not_found("Invalid Deployment identifier specified")
        return deployment

    def update_deployment(
        self, api_id: str, deployment_id: str, change: Callable[[RestDeployment], RestDeployment]
    ) -> RestDeployment:
        with self._store.transaction():
            deployment = change(self.get_deployment(api_id, deployment_id))
            self._store.put(api_id, deployment_id, deployment)
        return deployment

    def create_stage(self, api_id: str, stage: RestStage) -> RestStage:
        self.get_deployment(api_id, stage.deployment_id)
        _check_stage_name(stage.name)
        if self._store.get(RestStage, api_id, stage.name) is not None:
            raise conflict("Stage already exists")
        now = self._now()
        stage = replace(stage, created=now, updated=now)
        self._store.put(api_id, stage.name, stage)
        return stage

    def get_stage(self, api_id: str, name: str) -> RestStage:
        self.get_api(api_id)
        stage = self._store.get(RestStage, api_id, name)
        if stage is None:
            raise rest_not_found("Invalid Stage identifier specified")
        return stage

    def list_stages(self, api_id: str, deployment_id: str | None = None) -> list[RestStage]:
        self.get_api(api_id)
        stages = self._store.list(RestStage, api_id)
        return [s for s in stages if deployment_id is None or s.deployment_id == deployment_id]

    def update_stage(self, api_id: str, name: str, change: Callable[[RestStage], RestStage]) -> RestStage:
        """A stage changed (its variables, description, the deployment it serves)."""
        with self._store.transaction():
            stage = change(self.get_stage(api_id, name))
            self.get_deployment(api_id, stage.deployment_id)
            for variable in stage.variables:
                if _STAGE_VARIABLE_NAME.fullmatch(variable) is None:
                    raise bad_request("Stage variable names only allow a-zA-Z0-9_")
            stage = replace(stage, updated=self._now())
            self._store.put(api_id, name, stage)
        return stage

    def delete_stage(self, api_id: str, name: str) -> None:
        self.get_stage(api_id, name)
        self._store.delete(RestStage, api_id, name)


def _check_method_name(method: str) -> None:
    if method not in (*METHODS, ANY):
        raise bad_request(f"Invalid HttpMethod specified. Valid options are {','.join((*METHODS, ANY))}")


def _check_integration(integration: RestIntegration) -> None:
    if integration.type == "MOCK":
        return
    if integration.type != "AWS_PROXY":
        raise bad_request(
            f"Lambdabox REST APIs support integration types AWS_PROXY and MOCK, not {integration.type}"
        )
    if integration.http_method is None:
        raise bad_request("Enumeration value for HttpMethod must be non-empty")
    _check_method_name(integration.http_method)
    if integration.uri is None:
        raise bad_request("Integrations of type 'AWS_PROXY' must include a URI")
    if lambda_arn_of(integration.uri) is None or not integration.uri.startswith("arn:aws:apigateway:"):
        raise bad_request("AWS ARN for integration must contain path or action")
    if not 50 <= integration.timeout_ms <= 29000:
        raise bad_request("Timeout should be between 50 ms and 29000 ms")


R = TypeVar("R")


def _with(responses: dict[str, R], status_code: str, response: R | None) -> dict[str, R]:
    """`responses` with the one for `status_code` set to `response` (in its place), or without it (None)."""
    if response is None:
        return {code: other for code, other in responses.items() if code != status_code}
    return {**responses, status_code: response}


def _check_status(status_code: str) -> None:
    if _STATUS_CODE.fullmatch(status_code) is None:
        raise bad_request(f"Invalid status code {status_code}: a status code is [1-5]xx")


def _check_integration_response(response: IntegrationResponse, declared: MethodResponse) -> None:
    """A header mapping needs its header declared by the method response of the same status."""
    _check_status(response.status_code)
    if response.selection_pattern:
        try:
            re.compile(response.selection_pattern)
        except re.error:
            raise bad_request(f"Invalid selection pattern {response.selection_pattern}") from None
    for target, source in response.response_parameters.items():
        literal = len(source) >= 2 and source.startswith("'") and source.endswith("'")
        if not target.startswith(RESPONSE_HEADER) or not (literal or source.startswith(REQUEST_SOURCES)):
            raise bad_request(f"Invalid mapping expression specified: {target} = {source}")
        if target not in declared.response_parameters:
            raise bad_request(
                f"Invalid mapping expression specified: Validation Result: warnings : [], errors : "
                f"[Invalid mapping expression specified: {target}]"
            )


RESPONSE_HEADER = "method.response.header."
REQUEST_SOURCES = ("method.request.header.", "method.request.querystring.", "method.request.path.")


def _check_authorizer(authorizer: RestAuthorizer) -> None:
    kind = authorizer.authorizer_type
    if kind not in ("TOKEN", "REQUEST"):
        raise bad_request(
            f"Lambdabox REST APIs support authorizers of type TOKEN and REQUEST (Lambda), not {kind}"
        )
    uri = authorizer.authorizer_uri
    if uri is None or lambda_arn_of(uri) is None:
        raise bad_request(f"Invalid Authorizer URI: {uri}. Authorizer URI should be a valid API Gateway ARN")
    if not 0 <= authorizer.result_ttl <= 3600:
        raise bad_request("Authorizer result TTL must be between 0 and 3600 seconds")
    sources = identity_sources(authorizer.identity_source)
    if kind == "TOKEN" and (len(sources) != 1 or not sources[0].startswith(HEADER_SOURCE)):
        raise bad_request(
            f"Invalid identity source: {authorizer.identity_source}. A TOKEN authorizer's identity source "
            f"must be one header ({HEADER_SOURCE}<name>)"
        )
    if kind == "REQUEST" and authorizer.result_ttl > 0 and not sources:
        raise bad_request("Identity sources are required for REQUEST authorizers that cache their results")
    for source in sources:
        if not source.startswith(REST_SOURCES) or source.endswith("."):
            raise bad_request(f"Invalid identity source: {source}")
    if authorizer.identity_validation_expression is not None:
        try:
            re.compile(authorizer.identity_validation_expression)
        except re.error:
            raise bad_request(
                f"Invalid identity validation expression: {authorizer.identity_validation_expression}"
            ) from None


HEADER_SOURCE = "method.request.header."
# Where a REST authorizer's identity sources point: header, query string, stage variable, request context.
REST_SOURCES = (HEADER_SOURCE, "method.request.querystring.", "stageVariables.", "context.")


def identity_sources(text: str | None) -> list[str]:
    """A REST authorizer's comma-separated identity sources."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _check_stage_name(name: str) -> None:
    if _STAGE_NAME.fullmatch(name) is None:
        raise bad_request("Stage name only allows a-zA-Z0-9_")
