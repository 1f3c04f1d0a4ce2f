"""Identifiers, ARNs and endpoints of API Gateway resources."""

from __future__ import annotations

import base64
import os
import re
import secrets
import string
from dataclasses import dataclass

from lambdabox.core.names import Account
from lambdabox.errors import AwsError

_ALPHABET = string.ascii_lowercase + string.digits
API_ID_LENGTH = 10
_INVOCATION_URI = re.compile(
    r"arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(?P<arn>[^/]+)/invocations"
)


def new_id(length: int) -> str:
    """Lower-case alphanumerics, as API Gateway's ids (10 for APIs, 7 for routes, integrations,
    authorizers and deployments of HTTP APIs, 10 for REST resources and deployments)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def apigw_id() -> str:
    """An `x-amz-apigw-id` (and an HTTP API's request id): 10 random bytes in base64."""
    return base64.b64encode(os.urandom(10)).decode()


def lambda_arn_of(uri: str) -> str | None:
    """The function ARN an integration or authorizer URI names: a Lambda ARN itself or API Gateway's
    `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`."""
    match = _INVOCATION_URI.fullmatch(uri)
    if match is not None:
        return match.group("arn")
    if uri.startswith("arn:") and ":lambda:" in uri and ":function:" in uri:
        return uri
    return None


@dataclass(frozen=True)
class GatewayNames:
    account: Account
    port: int

    def api_endpoint(self, api_id: str) -> str:
        return f"http://{api_id}.execute-api.localhost:{self.port}"

    def api_arn(self, api_id: str) -> str:
        return f"arn:aws:apigateway:{self.account.region}::/apis/{api_id}"

    def stage_arn(self, api_id: str, stage: str) -> str:
        return f"arn:aws:apigateway:{self.account.region}::/apis/{api_id}/stages/{stage}"

    def execute_arn(self, api_id: str, tail: str) -> str:
        """`arn:aws:execute-api:<region>:<account>:<api-id>/<tail>` (tail: `<stage>/<METHOD>/<path>` or
        `authorizers/<id>`)."""
        return f"arn:aws:execute-api:{self.account.region}:{self.account.account_id}:{api_id}/{tail}"

    def parse_tagged_arn(self, arn: str) -> tuple[str, str | None]:
        """(api id, stage name or None) of a taggable HTTP API resource ARN."""
        match = re.fullmatch(r"arn:aws:apigateway:[a-z0-9-]+::/apis/([a-z0-9]+)(?:/stages/([^/]+))?", arn)
        if match is None:
            raise AwsError("BadRequestException", f"Invalid resource ARN specified {arn}")
        return match.group(1), match.group(2)
