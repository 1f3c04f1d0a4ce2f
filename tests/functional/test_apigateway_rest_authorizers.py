"""REST API (apigateway v1) Lambda authorizers, TOKEN and REQUEST: the control plane through boto3, the
data plane through raw HTTP — who gets through, what reaches the function, and the cached answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, unique
from tests.functional.test_apigateway_rest import ACCOUNT, ECHO, allow, call, invocation_uri, proxy_resource

# Allows the token "allow-<anything>", denies "deny" outright, refuses "unauthorized" (401), answers a
# policy for another method for "elsewhere", a broken context for "broken"; counts its own calls.
AUTHORIZER = """
calls = []

def handler(event, context):
    calls.append(event)
    token = event.get("authorizationToken") or (event.get("headers") or {}).get("X-Token") or ""
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "count":
        return {"principalId": "counter", "policyDocument": allow(event["methodArn"]), "context": {"calls": len(calls)}}
    arn = event["methodArn"]
    if token == "elsewhere":
        arn = arn.rsplit("/", 3)[0] + "/POST/somewhere"
    effect = "Deny" if token == "deny" else "Allow"
    answer = {
        "principalId": "user-" + token,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}],
        },
        "context": {"type": event["type"], "n": 7, "ok": True},
    }
    if token == "broken":
        answer["context"] = {"nested": {"a": 1}}
    return answer


def allow(arn):
    return {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]}
"""


@pytest.fixture(scope="module")
def rest(server: Server) -> Any:
    return server.client("apigateway")


def guarded_api(rest: Any, lambda_client: Any, echo: str, guard: str, **authorizer: Any) -> tuple[str, str]:
    """`/{proxy+}` ANY behind a Lambda authorizer; returns (api id, authorizer id)."""
    api_id = rest.create_rest_api(name=unique("rest"))["id"]
    created = rest.create_authorizer(
        restApiId=api_id, name=unique("guard"), authorizerUri=invocation_uri(guard), **authorizer
    )
    proxy_resource(rest, api_id, echo, authorizationType="CUSTOM", authorizerId=created["id"])
    rest.create_deployment(restApiId=api_id, stageName="test", variables={"tenant": "t1"})
    allow(lambda_client, echo, api_id)
    lambda_client.add_permission(
        FunctionName=guard,
        StatementId=unique("auth"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/authorizers/{created['id']}",
    )
    return api_id, created["id"]


def test_token_authorizer(server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]) -> None:
    echo, guard = deploy(ECHO), deploy(AUTHORIZER)
    api_id, _ = guarded_api(
        rest,
        lambda_client,
        echo,
        guard,
        type="TOKEN",
        identitySource="method.request.header.Authorization",
        identityValidationExpression="[a-z]+(-[a-z0-9]+)?",
        authorizerResultTtlInSeconds=0,
    )
    response = call(server, api_id, "GET", "/test/orders/12", headers={"Authorization": "allow-me"})
    assert response.status == 200, response.data
    context = json.loads(response.data)["requestContext"]["authorizer"]
    assert context["principalId"] == "user-allow-me"
    assert (context["type"], context["n"], context["ok"]) == ("TOKEN", 7, True)
    assert isinstance(context["integrationLatency"], int)

    def refused(headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
        answer = call(server, api_id, "GET", "/test/orders/12", headers=headers)
        return answer.status, json.loads(answer.data), answer.headers.get("x-amzn-ErrorType", "")

    assert refused({}) == (401, {"message": "Unauthorized"}, "UnauthorizedException")
    assert refused({"Authorization": "NOT VALID"})[0] == 401  # fails the validation expression
    assert refused({"Authorization": "unauthorized"}) == (
        401,
        {"message": "Unauthorized"},
        "UnauthorizedException",
    )
    assert refused({"Authorization": "deny"}) == (
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
        "AccessDeniedException",
    )
    assert refused({"Authorization": "elsewhere"}) == (
        403,
        {"Message": "User is not authorized to access this resource"},
        "AccessDeniedException",
    )
    assert refused({"Authorization": "broken"}) == (
        500,
        {"message": None},
        "AuthorizerConfigurationException",
    )


def test_request_authorizer_gets_the_request_and_its_answer_is_cached(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    echo, guard = deploy(ECHO), deploy(AUTHORIZER)
    api_id, authorizer_id = guarded_api(
        rest,
        lambda_client,
        echo,
        guard,
        type="REQUEST",
        identitySource="method.request.header.X-Token, method.request.querystring.tenant",
        authorizerResultTtlInSeconds=300,
    )
    first = call(server, api_id, "POST", "/test/a?tenant=t1", headers={"X-Token": "count"}, body=b"{}")
    assert first.status == 200, first.data
    assert json.loads(first.data)["requestContext"]["authorizer"]["calls"] == 1
    # The same identity on another path: the cached answer (its policy allowed only the first ARN).
    second = call(server, api_id, "POST", "/test/a?tenant=t1", headers={"X-Token": "count"}, body=b"{}")
    assert json.loads(second.data)["requestContext"]["authorizer"]["calls"] == 1
    elsewhere = call(server, api_id, "GET", "/test/b?tenant=t1", headers={"X-Token": "count"})
    assert elsewhere.status == 403  # the cached policy names POST /a only, as on AWS
    other = call(server, api_id, "GET", "/test/b?tenant=t2", headers={"X-Token": "count"})
    assert other.status == 200 and json.loads(other.data)["requestContext"]["authorizer"]["calls"] == 2
    missing = call(server, api_id, "GET", "/test/b", headers={"X-Token": "count"})
    assert missing.status == 401  # an identity source is missing: refused without asking the function
    event = json.loads(
        call(server, api_id, "GET", "/test/c/d?tenant=t9", headers={"X-Token": "allow-x"}).data
    )
    assert event["requestContext"]["authorizer"]["type"] == "REQUEST"
    described = rest.get_authorizer(restApiId=api_id, authorizerId=authorizer_id)
    assert described["type"] == "REQUEST" and described["authorizerResultTtlInSeconds"] == 300
    assert described["identitySource"] == "method.request.header.X-Token, method.request.querystring.tenant"


def test_authorizer_control_plane(rest: Any, deploy: Callable[..., str]) -> None:
    guard = deploy(AUTHORIZER)
    api_id = rest.create_rest_api(name=unique("rest"))["id"]
    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    created = rest.create_authorizer(
        restApiId=api_id,
        name="guard",
        type="TOKEN",
        authorizerUri=invocation_uri(guard),
        identitySource="method.request.header.Authorization",
    )
    assert created["authorizerResultTtlInSeconds"] == 300 and created["authType"] == "custom"
    assert [a["id"] for a in rest.get_authorizers(restApiId=api_id)["items"]] == [created["id"]]
    updated = rest.update_authorizer(
        restApiId=api_id,
        authorizerId=created["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "0"},
        ],
    )
    assert (updated["name"], updated["authorizerResultTtlInSeconds"]) == ("renamed", 0)
    rest.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="CUSTOM",
        authorizerId=created["id"],
    )

    def error(call: Callable[[], Any]) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            call()
        return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]

    assert error(lambda: rest.delete_authorizer(restApiId=api_id, authorizerId=created["id"])) == (
        "BadRequestException",
        "Cannot delete authorizer 'renamed', is referenced in method: GET /",
    )
    assert error(
        lambda: rest.put_method(
            restApiId=api_id,
            resourceId=root,
            httpMethod="POST",
            authorizationType="CUSTOM",
            authorizerId="nope",
        )
    ) == (
        "BadRequestException",
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS "
        "requires a valid authorizer.",
    )
    assert (
        error(
            lambda: rest.create_authorizer(
                restApiId=api_id, name="c", type="COGNITO_USER_POOLS", providerARNs=["arn:aws:cognito-idp:x"]
            )
        )[0]
        == "BadRequestException"
    )
    assert (
        error(
            lambda: rest.create_authorizer(
                restApiId=api_id,
                name="t",
                type="TOKEN",
                authorizerUri=invocation_uri(guard),
                identitySource="method.request.querystring.token",
            )
        )[0]
        == "BadRequestException"
    )
    assert (
        error(
            lambda: rest.update_authorizer(
                restApiId=api_id,
                authorizerId=created["id"],
                patchOperations=[{"op": "replace", "path": "/nope", "value": "x"}],
            )
        )[0]
        == "BadRequestException"
    )
    assert (
        error(lambda: rest.get_authorizer(restApiId=api_id, authorizerId="missing"))[0] == "NotFoundException"
    )
    rest.delete_method(restApiId=api_id, resourceId=root, httpMethod="GET")
    rest.delete_authorizer(restApiId=api_id, authorizerId=created["id"])
    assert rest.get_authorizers(restApiId=api_id)["items"] == []
