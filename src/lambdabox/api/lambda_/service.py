"""The Lambda front end: model-driven routing and (de)serialization around the operation handlers."""

from __future__ import annotations

from collections.abc import Coroutine
from functools import partial
from typing import Any

from botocore.model import OperationModel

from lambdabox.api.lambda_ import configs, functions, invoke, layers, provisioned, settings, streaming, urls
from lambdabox.api.lambda_.context import Call, Handler, LambdaDeps
from lambdabox.aws.model import load_service_model
from lambdabox.aws.rest_json import RestJsonProtocol
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import Check, lambda_checks
from lambdabox.core.iam.authorizer import Authorizer

ROUTE_CACHE_SIZE = 4096  # (method, path, query) -> operation: warm invokes repeat the same few paths

# Where the published model is looser than the service: the API refuses these values.
CONSTRAINTS: dict[str, dict[str, Any]] = {
    "MemorySize": {"max": 10240},
    "Timeout": {"max": 900},
    "EphemeralStorageSize": {"max": 10240},
    "Runtime": {"enum": []},  # checked by the core, with AWS's own wording for deprecated runtimes
}

HANDLERS: dict[str, Handler] = {
    "CreateFunction": functions.create_function,
    "GetFunction": functions.get_function,
    "GetFunctionConfiguration": functions.get_function_configuration,
    "ListFunctions": functions.list_functions,
    "UpdateFunctionCode": functions.update_function_code,
    "UpdateFunctionConfiguration": functions.update_function_configuration,
    "DeleteFunction": functions.delete_function,
    "PublishVersion": functions.publish_version,
    "ListVersionsByFunction": functions.list_versions_by_function,
    "Invoke": invoke.invoke,
    "InvokeAsync": invoke.invoke_async,
    "InvokeWithResponseStream": streaming.invoke_with_response_stream,
    "CreateAlias": settings.create_alias,
    "GetAlias": settings.get_alias,
    "UpdateAlias": settings.update_alias,
    "DeleteAlias": settings.delete_alias,
    "ListAliases": settings.list_aliases,
    "PutFunctionConcurrency": settings.put_function_concurrency,
    "GetFunctionConcurrency": settings.get_function_concurrency,
    "DeleteFunctionConcurrency": settings.delete_function_concurrency,
    "AddPermission": settings.add_permission,
    "RemovePermission": settings.remove_permission,
    "GetPolicy": settings.get_policy,
    "TagResource": configs.tag_resource,  # a code signing configuration's, else settings.tag_resource
    "UntagResource": configs.untag_resource,
    "ListTags": configs.list_tags,
    "PutFunctionEventInvokeConfig": settings.put_function_event_invoke_config,
    "UpdateFunctionEventInvokeConfig": settings.update_function_event_invoke_config,
    "GetFunctionEventInvokeConfig": settings.get_function_event_invoke_config,
    "DeleteFunctionEventInvokeConfig": settings.delete_function_event_invoke_config,
    "ListFunctionEventInvokeConfigs": settings.list_function_event_invoke_configs,
    "GetAccountSettings": settings.get_account_settings,
    "CreateFunctionUrlConfig": urls.create_function_url_config,
    "GetFunctionUrlConfig": urls.get_function_url_config,
    "UpdateFunctionUrlConfig": urls.update_function_url_config,
    "DeleteFunctionUrlConfig": urls.delete_function_url_config,
    "ListFunctionUrlConfigs": urls.list_function_url_configs,
    "PutProvisionedConcurrencyConfig": provisioned.put_provisioned_concurrency_config,
    "GetProvisionedConcurrencyConfig": provisioned.get_provisioned_concurrency_config,
    "DeleteProvisionedConcurrencyConfig": provisioned.delete_provisioned_concurrency_config,
    "ListProvisionedConcurrencyConfigs": provisioned.list_provisioned_concurrency_configs,
    "PublishLayerVersion": layers.publish_layer_version,
    "GetLayerVersion": layers.get_layer_version,
    "GetLayerVersionByArn": layers.get_layer_version_by_arn,
    "ListLayers": layers.list_layers,
    "ListLayerVersions": layers.list_layer_versions,
    "DeleteLayerVersion": layers.delete_layer_version,
    "AddLayerVersionPermission": layers.add_layer_version_permission,
    "RemoveLayerVersionPermission": layers.remove_layer_version_permission,
    "GetLayerVersionPolicy": layers.get_layer_version_policy,
    "CreateCodeSigningConfig": configs.create_code_signing_config,
    "GetCodeSigningConfig": configs.get_code_signing_config,
    "UpdateCodeSigningConfig": configs.update_code_signing_config,
    "DeleteCodeSigningConfig": configs.delete_code_signing_config,
    "ListCodeSigningConfigs": configs.list_code_signing_configs,
    "ListFunctionsByCodeSigningConfig": configs.list_functions_by_code_signing_config,
    "PutFunctionCodeSigningConfig": configs.put_function_code_signing_config,
    "GetFunctionCodeSigningConfig": configs.get_function_code_signing_config,
    "DeleteFunctionCodeSigningConfig": configs.delete_function_code_signing_config,
    "GetRuntimeManagementConfig": configs.get_runtime_management_config,
    "PutRuntimeManagementConfig": configs.put_runtime_management_config,
    "GetFunctionRecursionConfig": configs.get_function_recursion_config,
    "PutFunctionRecursionConfig": configs.put_function_recursion_config,
}


class LambdaService:
    def __init__(self, deps: LambdaDeps, authorizer: Authorizer | None = None) -> None:
        self._deps = deps
        self.protocol = RestJsonProtocol(load_service_model("lambda", CONSTRAINTS))
        self._routes: dict[tuple[str, str, str], tuple[OperationModel, dict[str, str]]] = {}
        # The loop's hooks, bound once so that a warm Invoke allocates nothing more for them.
        self._call = partial(Call, deps)
        self._router = self._route
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)

    def _checks(self, operation: str, params: dict[str, Any]) -> list[Check]:
        return lambda_checks(self._deps.account, operation, params)

    def _route(self, request: WireRequest) -> tuple[OperationModel, dict[str, str]]:
        """`protocol.route`, remembered: routing depends on the method, path and query string only."""
        key = (request.method, request.raw_path, request.query_string)
        found = self._routes.get(key)
        if found is None:
            found = self.protocol.route(request)  # an unknown path raises: not remembered
            if len(self._routes) >= ROUTE_CACHE_SIZE:
                self._routes.clear()
            self._routes[key] = found
        return found[0], dict(found[1])

    def handle(self, request: WireRequest) -> Coroutine[Any, Any, WireResponse]:
        # Not a coroutine of its own: the warm Invoke path awaits the shared loop directly.
        return self.protocol.answer(
            request,
            HANDLERS,
            self._call,
            service="Lambda",
            internal_code="ServiceException",
            route=self._router,
            authorize=None
            if self._authorizer is None
            else self._authorizer.hook(request.principal_arn, request.client_host, "lambda", self._checks),
            finish=_finish,
        )


def _finish(call: Call, response: WireResponse) -> str:
    """What an operation set besides its output: headers, a streamed body, its own request id."""
    response.headers.update(call.headers)
    response.stream = call.body_stream
    return call.request_id
