"""API Gateway as frozen records: HTTP APIs (apigatewayv2) and REST APIs (apigateway v1).

A deployment is a snapshot of what an API serves (routes, integrations and authorizers of an HTTP API; the
resource tree of a REST API); a stage serves its deployment's snapshot, so changes reach clients only when
deployed (automatically for an HTTP API stage with AutoDeploy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# -- HTTP APIs (apigatewayv2) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool | None = None


@dataclass(frozen=True)
class HttpApi:
    api_id: str
    name: str
    created: float
    protocol_type: str = "HTTP"
    route_selection_expression: str = "${request.method} ${request.path}"
    api_key_selection_expression: str = "$request.header.x-api-key"
    description: str | None = None
    version: str | None = None
    disable_execute_api_endpoint: bool = False
    disable_schema_validation: bool | None = None
    ip_address_type: str = "ipv4"
    cors: Cors | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Integration:
    integration_id: str
    integration_type: str
    integration_uri: str | None = None
    payload_format_version: str = "2.0"
    timeout_ms: int = 30000
    integration_method: str | None = None
    connection_type: str = "INTERNET"
    description: str | None = None
    api_gateway_managed: bool = False


@dataclass(frozen=True)
class Route:
    route_id: str
    route_key: str
    target: str | None = None
    authorization_type: str = "NONE"
    authorizer_id: str | None = None
    authorization_scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    operation_name: str | None = None
    api_gateway_managed: bool = False

    @property
    def integration_id(self) -> str | None:
        if self.target and self.target.startswith("integrations/"):
            return self.target[len("integrations/") :]
        return None


@dataclass(frozen=True)
class Authorizer:
    authorizer_id: str
    name: str
    authorizer_type: str  # JWT | REQUEST
    identity_source: tuple[str, ...] = ()
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    authorizer_uri: str | None = None
    payload_format_version: str | None = None
    enable_simple_responses: bool = False
    result_ttl: int = 0
    identity_validation_expression: str | None = None


@dataclass(frozen=True)
class HttpSnapshot:
    """What a deployment of an HTTP API serves."""

    routes: tuple[Route, ...] = ()
    integrations: tuple[Integration, ...] = ()
    authorizers: tuple[Authorizer, ...] = ()


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    created: float
    snapshot: HttpSnapshot
    description: str | None = None
    auto_deployed: bool = False


@dataclass(frozen=True)
class Stage:
    name: str
    created: float
    updated: float
    auto_deploy: bool = False
    deployment_id: str | None = None
    description: str | None = None
    stage_variables: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    api_gateway_managed: bool = False
    last_deployment_status_message: str | None = None
    # DefaultRouteSettings / RouteSettings (by route key), as AWS names their members; the throttling
    # members are enforced.
    default_route_settings: dict[str, Any] = field(default_factory=dict)
    route_settings: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- REST APIs (apigateway v1) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrationResponse:
    """How a MOCK integration's status becomes the method's response: picked by `selection_pattern` (a
    regular expression over the status; None for the default), headers from `response_parameters`
    (`method.response.header.X` -> `'literal'` or `method.request.header.Y`), body from a template."""

    status_code: str
    selection_pattern: str | None = None
    response_parameters: dict[str, str] = field(default_factory=dict)
    response_templates: dict[str, str] = field(default_factory=dict)
    content_handling: str | None = None


@dataclass(frozen=True)
class MethodResponse:
    status_code: str
    response_parameters: dict[str, bool] = field(default_factory=dict)
    response_models: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RestIntegration:
    type: str  # AWS_PROXY | MOCK
    uri: str | None = None
    http_method: str | None = None
    timeout_ms: int = 29000
    passthrough_behavior: str = "WHEN_NO_MATCH"
    cache_namespace: str | None = None
    request_templates: dict[str, str] = field(default_factory=dict)
    responses: dict[str, IntegrationResponse] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    http_method: str
    authorization_type: str = "NONE"
    authorizer_id: str | None = None
    api_key_required: bool = False
    operation_name: str | None = None
    request_parameters: dict[str, bool] = field(default_factory=dict)  # name -> required
    integration: RestIntegration | None = None
    responses: dict[str, MethodResponse] = field(default_factory=dict)
    request_models: dict[str, str] = field(default_factory=dict)  # content type -> model name
    request_validator_id: str | None = None


@dataclass(frozen=True)
class RestModel:
    """A JSON Schema (draft 4) a method's request body may be validated against."""

    model_id: str
    name: str
    content_type: str = "application/json"
    schema: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class RequestValidator:
    validator_id: str
    name: str
    validate_body: bool = False
    validate_parameters: bool = False


@dataclass(frozen=True)
class Resource:
    resource_id: str
    path: str
    parent_id: str | None = None
    path_part: str | None = None
    methods: dict[str, Method] = field(default_factory=dict)


@dataclass(frozen=True)
class RestApi:
    api_id: str
    name: str
    created: float
    root_resource_id: str
    description: str | None = None
    version: str | None = None
    binary_media_types: tuple[str, ...] = ()
    endpoint_types: tuple[str, ...] = ("EDGE",)
    api_key_source: str = "HEADER"
    disable_execute_api_endpoint: bool = False
    policy: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RestAuthorizer:
    """A REST API's Lambda authorizer: TOKEN (one header, checked against `identity_validation_expression`
    before the function runs) or REQUEST (headers, query string, stage variables, context)."""

    authorizer_id: str
    name: str
    authorizer_type: str  # TOKEN | REQUEST
    authorizer_uri: str | None = None
    identity_source: str | None = None  # "method.request.header.Authorization, method.request.querystring.x"
    identity_validation_expression: str | None = None
    result_ttl: int = 300
    authorizer_credentials: str | None = None


@dataclass(frozen=True)
class RestDeployment:
    deployment_id: str
    created: float
    resources: tuple[Resource, ...]
    description: str | None = None
    authorizers: tuple[RestAuthorizer, ...] = ()
    policy: str | None = None  # the API's resource policy when it was deployed
    models: tuple[RestModel, ...] = ()
    validators: tuple[RequestValidator, ...] = ()


@dataclass(frozen=True)
class RestStage:
    name: str
    deployment_id: str
    created: float
    updated: float
    description: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    tracing_enabled: bool = False
    cache_cluster_enabled: bool = False
    # methodSettings by "<resource path with / as ~1>/<METHOD>" or "*/*", as AWS names their members; the
    # throttling members are enforced.
    method_settings: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- API keys and usage plans (REST APIs; account-wide, filed under ACCOUNT_RECORDS) --------------------
ACCOUNT_RECORDS = "-"  # the store's API id for records that belong to no API


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    value: str
    created: float
    updated: float
    enabled: bool = False
    description: str | None = None
    customer_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Throttle:
    rate_limit: float | None = None  # requests per second, refilled continuously
    burst_limit: int | None = None  # the bucket's size


@dataclass(frozen=True)
class Quota:
    limit: int
    period: str  # DAY | WEEK | MONTH
    offset: int = 0


@dataclass(frozen=True)
class PlanStage:
    api_id: str
    stage: str


@dataclass(frozen=True)
class UsagePlan:
    plan_id: str
    name: str
    created: float = 0.0
    api_stages: tuple[PlanStage, ...] = ()
    throttle: Throttle | None = None
    quota: Quota | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    key_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DailyUsage:
    """The requests a usage plan admitted with one API key on one UTC day (filed under the plan's id)."""

    key_id: str
    day: str  # YYYY-MM-DD
    used: int


@dataclass(frozen=True)
class QuotaGrant:
    """Quota UpdateUsage added to (or took from) a plan's limit for one key in one quota period (filed
    under the plan's id)."""

    key_id: str
    period: str  # the period's first day, YYYY-MM-DD
    extra: int


@dataclass(frozen=True)
class GatewayAccount:
    """GetAccount / UpdateAccount: the role API Gateway would log to CloudWatch with (kept, not used)."""

    cloudwatch_role_arn: str | None = None
