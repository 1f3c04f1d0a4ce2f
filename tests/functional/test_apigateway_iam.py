"""AWS_IAM authorization of HTTP API routes and REST API methods: SigV4-signed requests (service
`execute-api`), checked against the signer's IAM policies for `execute-api:Invoke` on the route's ARN."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY, Server, raw_request, unique
from tests.functional import test_apigateway_rest as rest_helpers
from tests.functional.test_apigateway_http import ACCOUNT, apigw, echo, lambda_api  # noqa: F401 (fixtures)
from tests.functional.test_iam_enforcement import Users, allow, document

ROOT = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}


@pytest.fixture(scope="module")
def users(server: Server) -> Users:
    return Users(server)


def signed(
    server: Server,
    api_id: str,
    path: str,
    keys: dict[str, str] | None,
    method: str = "GET",
    body: bytes = b"",
) -> urllib3.BaseHTTPResponse:
    url = f"{server.endpoint}/_lambdabox/execute-api/{api_id}{path}"
    headers: dict[str, str] = {}
    if keys is not None:
        request = AWSRequest(method=method, url=url, data=body)
        credentials = Credentials(keys["aws_access_key_id"], keys["aws_secret_access_key"])
        SigV4Auth(credentials, "execute-api", REGION).add_auth(request)
        headers = dict(request.headers.items())
    return raw_request(method, url, headers=headers, body=body or None, retries=False)


def answer(response: urllib3.BaseHTTPResponse) -> tuple[int, dict[str, Any]]:
    return response.status, json.loads(response.data)


def test_http_api_route_with_aws_iam(server: Server, apigw: Any, echo: str, users: Users) -> None:  # noqa: F811
    api_id, integration_id = lambda_api(apigw, echo)
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /items/{id}",
        Target=f"integrations/{integration_id}",
        AuthorizationType="AWS_IAM",
    )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert answer(signed(server, api_id, "/items/1", None)) == (403, {"message": "Forbidden"})
    wrong = dict(ROOT, aws_secret_access_key="not-the-secret")
    assert answer(signed(server, api_id, "/items/1", wrong)) == (403, {"message": "Forbidden"})
    event = json.loads(signed(server, api_id, "/items/1", ROOT).data)
    iam = event["requestContext"]["authorizer"]["iam"]
    assert iam["userArn"] == f"arn:aws:iam::{ACCOUNT}:root" and iam["accessKey"] == ACCESS_KEY
    assert iam["accountId"] == ACCOUNT and iam["userId"] == ACCOUNT

    _, stranger = users.create()
    assert answer(signed(server, api_id, "/items/1", stranger)) == (403, {"message": "Forbidden"})
    resource = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/GET/items/*"
    user_arn, reader = users.create(inline=document(allow("execute-api:Invoke", resource)))
    event = json.loads(signed(server, api_id, "/items/7", reader).data)
    assert event["requestContext"]["authorizer"]["iam"]["userArn"] == user_arn
    assert event["pathParameters"] == {"id": "7"}

    with pytest.raises(ClientError) as excinfo:
        apigw.create_route(
            ApiId=api_id,
            RouteKey="GET /other",
            Target=f"integrations/{integration_id}",
            AuthorizationType="AWS_IAM",
            AuthorizerId="abc1234",
        )
    assert excinfo.value.response["Error"]["Message"] == (
        "Unable to set an AuthorizerId when AuthorizationType is AWS_IAM"
    )


def test_rest_api_method_with_aws_iam(server: Server, users: Users, deploy: Any) -> None:
    rest = server.client("apigateway")
    function = deploy(rest_helpers.ECHO)
    api_id = rest.create_rest_api(name=unique("rest"))["id"]
    rest_helpers.proxy_resource(rest, api_id, function, authorizationType="AWS_IAM")
    rest.create_deployment(restApiId=api_id, stageName="prod")
    rest_helpers.allow(server.client("lambda"), function, api_id)

    assert answer(signed(server, api_id, "/prod/orders/1", None)) == (
        403,
        {"message": "Missing Authentication Token"},
    )
    wrong = signed(server, api_id, "/prod/orders/1", dict(ROOT, aws_secret_access_key="nope"))
    assert wrong.status == 403 and wrong.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert "signature we calculated does not match" in json.loads(wrong.data)["message"]

    event = json.loads(signed(server, api_id, "/prod/orders/1", ROOT, "POST", b'{"a": 1}').data)
    identity = event["requestContext"]["identity"]
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:root" and identity["accessKey"] == ACCESS_KEY
    assert identity["accountId"] == ACCOUNT and event["body"] == '{"a": 1}'

    stranger_arn, stranger = users.create()
    refused = signed(server, api_id, "/prod/orders/1", stranger)
    method_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/GET/orders/1"
    assert answer(refused) == (
        403,
        {
            "Message": f"User: {stranger_arn} is not authorized to perform: execute-api:Invoke on resource: {method_arn}"
        },
    )
    assert refused.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    resource_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/GET/*"
    _, reader = users.create(inline=document(allow("execute-api:Invoke", resource_arn)))
    assert signed(server, api_id, "/prod/orders/1", reader).status == 200
    assert signed(server, api_id, "/prod/orders/1", reader, "DELETE").status == 403


def test_rest_api_resource_policy(server: Server, users: Users, deploy: Any) -> None:
    """A REST API's resource policy: anonymous callers of NONE methods need its allow (here by source
    address), an explicit deny refuses everyone, and for AWS_IAM methods it allows on its own."""
    rest = server.client("apigateway")
    function = deploy(rest_helpers.ECHO)
    api_id, _ = rest_helpers.proxy_api(rest, function, stage="prod")
    rest_helpers.allow(server.client("lambda"), function, api_id)
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}"

    def set_policy(*statements: dict[str, Any]) -> None:
        rest.update_rest_api(
            restApiId=api_id,
            patchOperations=[{"op": "replace", "path": "/policy", "value": document(*statements)}],
        )
        rest.create_deployment(restApiId=api_id, stageName="prod")

    only_from = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": f"{arn}/*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["10.1.2.0/24"]}},
    }
    set_policy(only_from)
    assert answer(signed(server, api_id, "/prod/a", None)) == (
        403,
        {
            "Message": f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn}/prod/GET/a"
        },
    )
    set_policy(dict(only_from, Condition={"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}}))
    assert signed(server, api_id, "/prod/a", None).status == 200
    deny_admin = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "execute-api:Invoke",
        "Resource": f"{arn}/*/*/admin/*",
    }
    set_policy(dict(only_from, Condition={"IpAddress": {"aws:SourceIp": ["127.0.0.0/8"]}}), deny_admin)
    assert signed(server, api_id, "/prod/admin/x", None).status == 403
    assert json.loads(signed(server, api_id, "/prod/admin/x", None).data)["Message"].endswith(
        "with an explicit deny"
    )

    # AWS_IAM: a user with no policy of its own, allowed by the API's policy; the root user by default.
    resource = next(r for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/{proxy+}")
    rest.update_method(
        restApiId=api_id,
        resourceId=resource["id"],
        httpMethod="ANY",
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}],
    )
    user_arn, keys = users.create()
    set_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": user_arn},
            "Action": "execute-api:Invoke",
            "Resource": f"{arn}/*",
        }
    )
    assert signed(server, api_id, "/prod/a", keys).status == 200
    assert signed(server, api_id, "/prod/a", ROOT).status == 200
    set_policy(deny_admin)
    assert signed(server, api_id, "/prod/a", keys).status == 403
    assert signed(server, api_id, "/prod/admin/x", ROOT).status == 403  # an explicit deny binds the root user
