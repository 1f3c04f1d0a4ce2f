"""What the data planes of both API types are made of (gateway.py builds one of each)."""

from __future__ import annotations

from collections.abc import Callable

from lambdabox.core.apigateway.access import ExecuteAccess
from lambdabox.core.apigateway.authorizers import RouteAuthorizer
from lambdabox.core.apigateway.integration import LambdaIntegration
from lambdabox.core.apigateway.names import GatewayNames
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.apigateway.throttle import Buckets


class DataPlane:
    def __init__(
        self,
        store: ApiGatewayStore,
        names: GatewayNames,
        integration: LambdaIntegration,
        access: ExecuteAccess,
        authorizer: RouteAuthorizer,
        now: Callable[[], float],
    ) -> None:
        """`integration`, `access` and `authorizer` (with its answer cache) are shared by both planes."""
        self._store = store
        self._names = names
        self._integration = integration
        self._access = access
        self._authorizer = authorizer
        self._now = now
        self._buckets = Buckets()  # the stages' throttling, by (API, stage, route key or method setting)
