"""What Lambda operation handlers receive: the core services and the call being answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lambdabox.aws.wire import WireRequest
from lambdabox.core.aliases import AliasService
from lambdabox.core.code_signing import CodeSigning
from lambdabox.core.code_source import CodeSource
from lambdabox.core.function_configs import FunctionConfigs
from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.function_urls import FunctionUrls
from lambdabox.core.functions import FunctionService
from lambdabox.core.invoke import InvokeService
from lambdabox.core.layers.service import LayerService
from lambdabox.core.names import Account, FunctionRef, parse_function_ref
from lambdabox.core.provisioned import ProvisionedConcurrency
from lambdabox.errors import AwsError


@dataclass(frozen=True)
class LambdaDeps:
    account: Account
    functions: FunctionService
    aliases: AliasService
    settings: FunctionSettings
    invoker: InvokeService
    code_source: CodeSource
    provisioned: ProvisionedConcurrency
    function_urls: FunctionUrls | None = None
    layers: LayerService | None = None
    code_signing: CodeSigning | None = None
    function_configs: FunctionConfigs | None = None


@dataclass
class Call:
    deps: LambdaDeps
    params: dict[str, Any]
    request: WireRequest
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)
    body_stream: AsyncIterator[bytes] | None = None  # a response body sent as it is produced

    def ref(self, member: str = "FunctionName", qualifier_member: str | None = "Qualifier") -> FunctionRef:
        qualifier = self.params.get(qualifier_member) if qualifier_member else None
        return parse_function_ref(self.deps.account, self.params[member], qualifier)

    def unqualified_name(self) -> str:
        """The function's name, for operations that refuse a qualified name or ARN."""
        ref = self.ref(qualifier_member=None)
        if ref.qualifier is not None:
            raise AwsError(
                "InvalidParameterValueException", "Please specify an unqualified function name or ARN."
            )
        return ref.name


Output = dict[str, Any] | None
Handler = Callable[[Call], Output | Awaitable[Output]]
