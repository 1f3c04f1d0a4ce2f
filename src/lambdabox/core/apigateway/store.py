"""What the API Gateway domain needs from storage: records of one kind, filed under the API they belong
to (an API itself is filed under its own id)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from lambdabox.core.apigateway.models import (
    ApiKey,
    Authorizer,
    DailyUsage,
    Deployment,
    GatewayAccount,
    HttpApi,
    Integration,
    QuotaGrant,
    RequestValidator,
    Resource,
    RestApi,
    RestAuthorizer,
    RestDeployment,
    RestModel,
    RestStage,
    Route,
    Stage,
    UsagePlan,
)

Record = (
    HttpApi
    | Integration
    | Route
    | Stage
    | Deployment
    | Authorizer
    | RestApi
    | Resource
    | RestAuthorizer
    | RestDeployment
    | RestStage
    | ApiKey
    | UsagePlan
    | GatewayAccount
    | RestModel
    | RequestValidator
    | DailyUsage
    | QuotaGrant
)
R = TypeVar(
    "R",
    HttpApi,
    Integration,
    Route,
    Stage,
    Deployment,
    Authorizer,
    RestApi,
    Resource,
    RestAuthorizer,
    RestDeployment,
    RestStage,
    ApiKey,
    UsagePlan,
    GatewayAccount,
    RestModel,
    RequestValidator,
    DailyUsage,
    QuotaGrant,
)


class ApiGatewayStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...

    def get(self, kind: type[R], api_id: str, key: str) -> R | None: ...

    def list(self, kind: type[R], api_id: str | None = None) -> list[R]:
        """Every record of `kind` under `api_id` (every API's, when None), in creation order."""
        ...

    def put(self, api_id: str, key: str, record: Record) -> None: ...

    def delete(self, kind: type[Record], api_id: str, key: str) -> None: ...

    def delete_api(self, api_id: str) -> None:
        """The API and every record filed under it."""
        ...
