"""Lambda authorizer policies and identity sources."""

from __future__ import annotations

from lambdabox.core.apigateway.authorizers import HTTP_SOURCES, identity_values, policy_allows, policy_denies
from lambdabox.core.apigateway.models import Authorizer
from lambdabox.core.apigateway.rest_apis import REST_SOURCES
from lambdabox.core.http.request import HttpRequest

ARN = "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/items/1"


def _policy(effect: str, resource: str, action: str = "execute-api:Invoke") -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
    }


def test_policy_allows() -> None:
    assert policy_allows(_policy("Allow", ARN), ARN)
    assert policy_allows(_policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:abc/*"), ARN)
    assert policy_allows(_policy("Allow", "*", "execute-api:*"), ARN)
    assert not policy_allows(_policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:abc/dev/*"), ARN)
    assert not policy_allows(_policy("Deny", ARN), ARN)
    assert not policy_allows(_policy("Allow", ARN, "s3:GetObject"), ARN)
    assert not policy_allows(None, ARN)
    both = {"Statement": [_policy("Allow", "*")["Statement"][0], _policy("Deny", ARN)["Statement"][0]]}  # type: ignore[index]
    assert not policy_allows(both, ARN)


def test_identity_values() -> None:
    authorizer = Authorizer(
        "a1",
        "auth",
        "REQUEST",
        identity_source=("$request.header.X-Key", "$request.querystring.user", "$stageVariables.env"),
    )
    request = HttpRequest("GET", "/", "user=bob", (("x-key", "k"),))
    sources = authorizer.identity_source
    assert identity_values(sources, HTTP_SOURCES, request, {"env": "prod"}, {}) == ["k", "bob", "prod"]
    assert identity_values(sources, HTTP_SOURCES, request, {}, {}) is None
    rest = ["method.request.header.X-Key", "method.request.querystring.user", "context.stage"]
    assert identity_values(rest, REST_SOURCES, request, {}, {"stage": "prod"}) == ["k", "bob", "prod"]
    assert identity_values(rest, REST_SOURCES, request, {}, {}) is None


def test_policy_denies_only_outright() -> None:
    assert policy_denies(_policy("Deny", "arn:aws:execute-api:us-east-1:000000000000:abc/*"), ARN)
    assert not policy_denies(_policy("Allow", ARN), ARN)
    assert not policy_denies(_policy("Deny", "arn:aws:execute-api:us-east-1:000000000000:abc/dev/*"), ARN)
    assert not policy_denies(None, ARN)
