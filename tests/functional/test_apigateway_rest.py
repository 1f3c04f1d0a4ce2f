"""API Gateway REST APIs (apigateway v1) with a Lambda proxy integration end to end: the control plane
through boto3, the data plane at `/<stage>/<path>` through raw HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, raw_request, unique

ACCOUNT = "000000000000"

ECHO = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(event),
    }
"""


@pytest.fixture(scope="module")
def rest(server: Server) -> Any:
    return server.client("apigateway")


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def invocation_uri(name: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn(name)}/invocations"


def allow(lambda_client: Any, name: str, api_id: str) -> None:
    lambda_client.add_permission(
        FunctionName=name,
        StatementId=unique("rest"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/*/*",
    )


def proxy_resource(rest: Any, api_id: str, function: str, **method: Any) -> str:
    """`/{proxy+}` ANY of the API → function (PutMethod's `method` arguments: no authorization unless
    given); returns the resource's id."""
    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    resource = rest.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    rest.put_method(
        restApiId=api_id, resourceId=resource, httpMethod="ANY", **{"authorizationType": "NONE", **method}
    )
    rest.put_integration(
        restApiId=api_id,
        resourceId=resource,
        httpMethod="ANY",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invocation_uri(function),
    )
    return str(resource)


def proxy_api(rest: Any, function: str, stage: str = "test", **deployment: Any) -> tuple[str, str]:
    """The common Lambda proxy setup: `/{proxy+}` ANY → function; returns (api id, proxy resource id)."""
    api = rest.create_rest_api(name=unique("rest"))
    api_id = api["id"]
    [root] = rest.get_resources(restApiId=api_id)["items"]
    assert root["path"] == "/" and root["id"] == api["rootResourceId"]
    resource = proxy_resource(rest, api_id, function)
    rest.create_deployment(restApiId=api_id, stageName=stage, **deployment)
    return api_id, resource


def call(server: Server, api_id: str, method: str, path: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    url = f"{server.endpoint}/_lambdabox/execute-api/{api_id}{path}"
    return raw_request(method, url, retries=False, **kwargs)


def test_proxy_plus_any_with_payload_1_0(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    echo = deploy(ECHO)
    api_id, resource_id = proxy_api(rest, echo, variables={"color": "blue"})
    allow(lambda_client, echo, api_id)

    response = call(
        server,
        api_id,
        "POST",
        "/test/orders/12/items?tag=a&tag=b&single=1",
        body=b'{"n": 1}',
        headers={"Content-Type": "application/json", "X-Custom": "v"},
    )
    assert response.status == 200, response.data
    assert response.headers["x-multi"] == "a, b"
    assert response.headers["x-amzn-requestid"]
    event = json.loads(response.data)
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/orders/12/items"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "orders/12/items"}
    assert event["queryStringParameters"] == {"tag": "b", "single": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "single": ["1"]}
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["X-Custom"] == "v"
    assert event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] == '{"n": 1}' and event["isBase64Encoded"] is False
    assert "version" not in event
    context = event["requestContext"]
    assert context["stage"] == "test"
    assert context["path"] == "/test/orders/12/items"
    assert context["resourcePath"] == "/{proxy+}"
    assert context["resourceId"] == resource_id
    assert context["httpMethod"] == "POST"
    assert context["apiId"] == api_id and context["accountId"] == ACCOUNT
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-requestid"]
    assert isinstance(context["requestTimeEpoch"], int)

    # GET without query or body: nulls as API Gateway sends them; also by host name.
    host = {"Host": f"{api_id}.execute-api.localhost:{server.port}"}
    response = raw_request("GET", f"{server.endpoint}/test/x", headers=host, retries=False)
    event = json.loads(response.data)
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["body"] is None and event["pathParameters"] == {"proxy": "x"}

    # The root has no method, the stage does not exist: API Gateway's answer for an unknown resource;
    # the bare endpoint without a stage: Forbidden.
    response = call(server, api_id, "GET", "/test/")
    assert response.status == 403 and json.loads(response.data) == {"message": "Missing Authentication Token"}
    response = call(server, api_id, "GET", "/nostage/x")
    assert response.status == 403 and json.loads(response.data) == {"message": "Missing Authentication Token"}
    response = call(server, api_id, "GET", "/")
    assert response.status == 403 and json.loads(response.data) == {"message": "Forbidden"}


def test_specific_resources_and_path_parameters(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    echo = deploy(ECHO)
    api = rest.create_rest_api(name=unique("rest"), binaryMediaTypes=["image/png"])
    api_id = api["id"]
    items = rest.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="items")
    item = rest.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    assert item["path"] == "/items/{id}"
    for resource_id in (items["id"], item["id"]):
        rest.put_method(restApiId=api_id, resourceId=resource_id, httpMethod="GET", authorizationType="NONE")
        rest.put_integration(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod="GET",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=invocation_uri(echo),
        )
    rest.put_method(restApiId=api_id, resourceId=item["id"], httpMethod="PUT", authorizationType="NONE")
    rest.put_integration(
        restApiId=api_id,
        resourceId=item["id"],
        httpMethod="PUT",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invocation_uri(echo),
    )
    rest.create_deployment(restApiId=api_id, stageName="v1")
    allow(lambda_client, echo, api_id)

    event = json.loads(call(server, api_id, "GET", "/v1/items/a%20b").data)
    assert event["resource"] == "/items/{id}" and event["pathParameters"] == {"id": "a b"}
    assert json.loads(call(server, api_id, "GET", "/v1/items").data)["resource"] == "/items"
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    event = json.loads(
        call(server, api_id, "PUT", "/v1/items/7", body=png, headers={"Content-Type": "image/png"}).data
    )
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == png
    assert call(server, api_id, "DELETE", "/v1/items/7").status == 403
    assert call(server, api_id, "GET", "/v1/items/7/more").status == 403

    method = rest.get_method(restApiId=api_id, resourceId=item["id"], httpMethod="GET")
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert method["methodIntegration"]["uri"] == invocation_uri(echo)
    embedded = rest.get_resources(restApiId=api_id, embed=["methods"])["items"]
    assert {r["path"]: sorted(r.get("resourceMethods", {})) for r in embedded} == {
        "/": [],
        "/items": ["GET"],
        "/items/{id}": ["GET", "PUT"],
    }


def test_function_errors_and_bad_responses_are_502_missing_permission_500(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    failing = deploy("def handler(event, context):\n    raise RuntimeError('no')\n")
    api_id, _ = proxy_api(rest, failing)
    response = call(server, api_id, "GET", "/test/x")
    assert response.status == 500 and json.loads(response.data) == {"message": "Internal server error"}
    allow(lambda_client, failing, api_id)
    response = call(server, api_id, "GET", "/test/x")
    assert response.status == 502 and json.loads(response.data) == {"message": "Internal server error"}

    for result in ("{'body': 'no status'}", "{'statusCode': 200, 'body': {'not': 'a string'}}", "'text'"):
        bad = deploy(f"def handler(event, context):\n    return {result}\n")
        api_id, _ = proxy_api(rest, bad)
        allow(lambda_client, bad, api_id)
        response = call(server, api_id, "GET", "/test/x")
        assert response.status == 502, result
        assert json.loads(response.data) == {"message": "Internal server error"}


def test_control_plane(rest: Any, deploy: Callable[..., str]) -> None:
    echo = deploy(ECHO)
    api_id, resource_id = proxy_api(rest, echo, stage="prod", variables={"a": "1"})
    assert rest.get_rest_api(restApiId=api_id)["name"].startswith("rest-")
    assert api_id in [api["id"] for api in rest.get_rest_apis()["items"]]
    stage = rest.get_stage(restApiId=api_id, stageName="prod")
    assert stage["variables"] == {"a": "1"} and stage["deploymentId"]
    assert [s["stageName"] for s in rest.get_stages(restApiId=api_id)["item"]] == ["prod"]
    assert stage["deploymentId"] in [d["id"] for d in rest.get_deployments(restApiId=api_id)["items"]]
    integration = rest.get_integration(restApiId=api_id, resourceId=resource_id, httpMethod="ANY")
    assert integration["type"] == "AWS_PROXY" and integration["timeoutInMillis"] == 29000

    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    with pytest.raises(ClientError) as excinfo:
        rest.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert excinfo.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        rest.create_resource(restApiId=api_id, parentId=resource_id, pathPart="child")
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as excinfo:
        rest.put_method(restApiId=api_id, resourceId=resource_id, httpMethod="ANY", authorizationType="NONE")
    assert excinfo.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as excinfo:
        rest.put_integration(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=fn_arn(echo),
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"

    rest.delete_stage(restApiId=api_id, stageName="prod")
    with pytest.raises(ClientError) as excinfo:
        rest.get_stage(restApiId=api_id, stageName="prod")
    assert excinfo.value.response["Error"]["Code"] == "NotFoundException"
    empty = rest.create_rest_api(name=unique("empty"))["id"]
    with pytest.raises(ClientError) as excinfo:
        rest.create_deployment(restApiId=empty, stageName="x")
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"
    rest.delete_rest_api(restApiId=api_id)
    with pytest.raises(ClientError) as excinfo:
        rest.get_rest_api(restApiId=api_id)
    assert excinfo.value.response["Error"]["Code"] == "NotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_integration_timeout_is_504_and_throttle_is_500(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    slow = deploy("import time\ndef handler(event, context):\n    time.sleep(2)\n    return {}\n", Timeout=5)
    api = rest.create_rest_api(name=unique("slow"))
    api_id = api["id"]
    root = api["rootResourceId"]
    rest.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    rest.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invocation_uri(slow),
        timeoutInMillis=300,
    )
    rest.create_deployment(restApiId=api_id, stageName="s")
    allow(lambda_client, slow, api_id)
    response = call(server, api_id, "GET", "/s")
    assert response.status == 504 and json.loads(response.data) == {"message": "Endpoint request timed out"}

    throttled = deploy(ECHO)
    lambda_client.put_function_concurrency(FunctionName=throttled, ReservedConcurrentExecutions=0)
    api_id, _ = proxy_api(rest, throttled)
    allow(lambda_client, throttled, api_id)
    response = call(server, api_id, "GET", "/test/x")
    assert response.status == 500 and json.loads(response.data) == {"message": "Internal server error"}


def test_stage_variables_in_the_integration_uri(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    blue = deploy("def handler(event, context):\n    return {'statusCode': 200, 'body': 'blue'}\n")
    green = deploy("def handler(event, context):\n    return {'statusCode': 200, 'body': 'green'}\n")
    api = rest.create_rest_api(name=unique("vars"))
    api_id, root = api["id"], api["rootResourceId"]
    rest.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    rest.put_integration(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invocation_uri("${stageVariables.fn}"),
    )
    rest.create_deployment(restApiId=api_id, stageName="blue", variables={"fn": blue})
    rest.create_deployment(restApiId=api_id, stageName="green", variables={"fn": green})
    for name in (blue, green):
        allow(lambda_client, name, api_id)
    assert call(server, api_id, "GET", "/blue").data == b"blue"
    assert call(server, api_id, "GET", "/green/").data == b"green"


def test_body_over_10_mb_is_413_in_rest_api_words(
    server: Server, rest: Any, deploy: Callable[..., str]
) -> None:
    api_id, _ = proxy_api(rest, deploy("def handler(event, context):\n    return {'statusCode': 200}\n"))
    response = call(server, api_id, "POST", "/test/x", body=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status == 413
    assert json.loads(response.data) == {"message": "Request Too Long"}
    assert response.headers["x-amzn-ErrorType"] == "RequestTooLargeException"


def test_updates_with_patch_operations(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    """UpdateRestApi, UpdateMethod, UpdateIntegration, UpdateStage and UpdateDeployment, as Terraform and
    the console change an API in place; a stage's changes reach the next request."""
    echo = deploy(ECHO)
    api_id, resource_id = proxy_api(rest, echo, stage="dev", variables={"color": "blue"})
    allow(lambda_client, echo, api_id)
    api = rest.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "replace", "path": "/description", "value": "orders"},
            {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        ],
    )
    assert (api["name"], api["description"], api["binaryMediaTypes"]) == ("renamed", "orders", ["image/png"])
    api = rest.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
            {"op": "remove", "path": "/description"},
        ],
    )
    assert "binaryMediaTypes" not in api and "description" not in api

    method = rest.update_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod="ANY",
        patchOperations=[
            {"op": "add", "path": "/requestParameters/method.request.header.X-Tenant", "value": "true"},
            {"op": "replace", "path": "/operationName", "value": "Proxy"},
        ],
    )
    assert method["requestParameters"] == {"method.request.header.X-Tenant": True}
    assert method["operationName"] == "Proxy"
    integration = rest.update_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod="ANY",
        patchOperations=[{"op": "replace", "path": "/timeoutInMillis", "value": "5000"}],
    )
    assert integration["timeoutInMillis"] == 5000

    stage = rest.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/variables/color", "value": "green"},
            {"op": "add", "path": "/variables/size", "value": "xl"},
            {"op": "replace", "path": "/description", "value": "development"},
        ],
    )
    assert stage["variables"] == {"color": "green", "size": "xl"} and stage["description"] == "development"
    event = json.loads(call(server, api_id, "GET", "/dev/anything").data)
    assert event["stageVariables"] == {"color": "green", "size": "xl"}
    deployment_id = stage["deploymentId"]
    deployment = rest.update_deployment(
        restApiId=api_id,
        deploymentId=deployment_id,
        patchOperations=[{"op": "replace", "path": "/description", "value": "first"}],
    )
    assert deployment["description"] == "first"

    def refusal(patch: list[dict[str, str]]) -> tuple[str, str]:
        with pytest.raises(ClientError) as excinfo:
            rest.update_stage(restApiId=api_id, stageName="dev", patchOperations=patch)
        return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]

    code, message = refusal([{"op": "replace", "path": "/nope", "value": "x"}])
    assert code == "BadRequestException" and message.startswith(
        "Invalid patch path '/nope' specified for op 'replace'"
    )
    assert refusal([{"op": "replace", "path": "/deploymentId", "value": "missing"}])[0] == "NotFoundException"
    with pytest.raises(ClientError) as excinfo:
        rest.update_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod="ANY",
            patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "COGNITO_USER_POOLS"}],
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"


def test_mock_integrations_answer_cors_preflights(server: Server, rest: Any) -> None:
    """The usual REST API CORS setup: OPTIONS with a MOCK integration whose integration response maps
    static headers (and one from the request) onto the declared method response headers."""
    api_id = rest.create_rest_api(name=unique("rest"))["id"]
    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    items = rest.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    cors = {
        "method.response.header.Access-Control-Allow-Origin": "'*'",
        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
        "method.response.header.Access-Control-Allow-Headers": "method.request.header.Access-Control-Request-Headers",
    }
    for verb, template in (("OPTIONS", '{"statusCode": 200}'), ("GET", '{"statusCode": 404}')):
        rest.put_method(restApiId=api_id, resourceId=items, httpMethod=verb, authorizationType="NONE")
        rest.put_integration(
            restApiId=api_id,
            resourceId=items,
            httpMethod=verb,
            type="MOCK",
            requestTemplates={"application/json": template},
        )
        for status in ("200", "404"):
            rest.put_method_response(
                restApiId=api_id,
                resourceId=items,
                httpMethod=verb,
                statusCode=status,
                responseParameters={name: True for name in cors},
            )
    rest.put_integration_response(
        restApiId=api_id,
        resourceId=items,
        httpMethod="OPTIONS",
        statusCode="200",
        responseParameters=cors,
        responseTemplates={"application/json": ""},
    )
    for status, pattern, body in (("200", None, '{"ok": true}'), ("404", "4\\d\\d", '{"error": "no items"}')):
        rest.put_integration_response(
            restApiId=api_id,
            resourceId=items,
            httpMethod="GET",
            statusCode=status,
            responseTemplates={"application/json": body},
            **({"selectionPattern": pattern} if pattern else {}),
        )
    method = rest.get_method(restApiId=api_id, resourceId=items, httpMethod="OPTIONS")
    assert set(method["methodResponses"]) == {"200", "404"}
    assert method["methodIntegration"]["type"] == "MOCK"
    assert method["methodIntegration"]["integrationResponses"]["200"]["responseParameters"] == cors
    rest.create_deployment(restApiId=api_id, stageName="live")

    preflight = call(
        server, api_id, "OPTIONS", "/live/items", headers={"Access-Control-Request-Headers": "x-token"}
    )
    assert preflight.status == 200, preflight.data
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET,OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "x-token"
    selected = call(server, api_id, "GET", "/live/items")
    assert (selected.status, json.loads(selected.data)) == (404, {"error": "no items"})

    def error(call: Callable[[], Any]) -> str:
        with pytest.raises(ClientError) as excinfo:
            call()
        return str(excinfo.value.response["Error"]["Code"])

    assert (
        error(
            lambda: rest.put_integration_response(
                restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="500"
            )
        )
        == "NotFoundException"  # no method response 500
    )
    assert (
        error(
            lambda: rest.put_integration_response(
                restApiId=api_id,
                resourceId=items,
                httpMethod="GET",
                statusCode="200",
                responseParameters={"method.response.header.X-Undeclared": "'v'"},
            )
        )
        == "BadRequestException"
    )
    updated = rest.update_integration_response(
        restApiId=api_id,
        resourceId=items,
        httpMethod="GET",
        statusCode="404",
        patchOperations=[{"op": "replace", "path": "/selectionPattern", "value": "5\\d\\d"}],
    )
    assert updated["selectionPattern"] == "5\\d\\d"
    rest.delete_integration_response(restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="404")
    rest.delete_method_response(restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="404")
    assert (
        error(
            lambda: rest.get_method_response(
                restApiId=api_id, resourceId=items, httpMethod="GET", statusCode="404"
            )
        )
        == "NotFoundException"
    )


def test_account(rest: Any) -> None:
    account = rest.get_account()
    assert account["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}
    role = f"arn:aws:iam::{ACCOUNT}:role/apigw-logs"
    updated = rest.update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]
    )
    assert updated["cloudwatchRoleArn"] == role == rest.get_account()["cloudwatchRoleArn"]


def test_stage_method_settings_throttle(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    """UpdateStage's methodSettings (as aws_api_gateway_method_settings writes them): kept with AWS's
    defaults for the rest, and their throttling enforced (429)."""
    echo = deploy(ECHO)
    api_id, _ = proxy_api(rest, echo, stage="live")
    allow(lambda_client, echo, api_id)
    stage = rest.update_stage(
        restApiId=api_id,
        stageName="live",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "2"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"},
            {"op": "replace", "path": "/*/*/metrics/enabled", "value": "true"},
            {"op": "replace", "path": "/description", "value": "throttled"},
        ],
    )
    settings = stage["methodSettings"]["*/*"]
    assert (settings["throttlingBurstLimit"], settings["throttlingRateLimit"]) == (2, 0.01)
    assert settings["metricsEnabled"] is True and settings["loggingLevel"] == "OFF"
    assert stage["description"] == "throttled"
    statuses = [call(server, api_id, "GET", "/live/a").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert json.loads(call(server, api_id, "GET", "/live/a").data) == {"message": "Too Many Requests"}
    # A method's own setting wins over */*; removing */* lifts the rest.
    rest.update_stage(
        restApiId=api_id,
        stageName="live",
        patchOperations=[
            {"op": "replace", "path": "/~1{proxy+}/ANY/throttling/burstLimit", "value": "100"},
            {"op": "replace", "path": "/~1{proxy+}/ANY/throttling/rateLimit", "value": "100"},
        ],
    )
    assert all(call(server, api_id, "GET", "/live/b").status == 200 for _ in range(5))
    stage = rest.update_stage(
        restApiId=api_id, stageName="live", patchOperations=[{"op": "remove", "path": "/*/*"}]
    )
    assert set(stage["methodSettings"]) == {"~1{proxy+}/ANY"}
    with pytest.raises(ClientError) as excinfo:
        rest.update_stage(
            restApiId=api_id,
            stageName="live",
            patchOperations=[{"op": "replace", "path": "/*/*/throttling/nope", "value": "1"}],
        )
    assert excinfo.value.response["Error"]["Code"] == "BadRequestException"


def test_request_validators_and_models(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    """A method's request validator refuses a request missing required parameters, or whose body does not
    match the method's model, with 400 before the function runs."""
    echo = deploy(ECHO)
    api_id = rest.create_rest_api(name=unique("rest"))["id"]
    assert {m["name"] for m in rest.get_models(restApiId=api_id)["items"]} == {"Empty", "Error"}
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
    }
    model = rest.create_model(
        restApiId=api_id, name="Order", contentType="application/json", schema=json.dumps(schema)
    )
    assert model["name"] == "Order" and json.loads(model["schema"]) == schema
    validator = rest.create_request_validator(
        restApiId=api_id, name="all", validateRequestBody=True, validateRequestParameters=True
    )
    root = rest.get_rest_api(restApiId=api_id)["rootResourceId"]
    orders = rest.create_resource(restApiId=api_id, parentId=root, pathPart="orders")["id"]
    rest.put_method(
        restApiId=api_id,
        resourceId=orders,
        httpMethod="POST",
        authorizationType="NONE",
        requestParameters={"method.request.header.X-Tenant": True, "method.request.querystring.trace": False},
        requestModels={"application/json": "Order"},
        requestValidatorId=validator["id"],
    )
    rest.put_integration(
        restApiId=api_id,
        resourceId=orders,
        httpMethod="POST",
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=invocation_uri(echo),
    )
    rest.create_deployment(restApiId=api_id, stageName="v1")
    allow(lambda_client, echo, api_id)

    def post(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        response = call(server, api_id, "POST", "/v1/orders", body=body, headers=headers)
        return response.status, json.loads(response.data)

    json_type = {"Content-Type": "application/json"}
    good = json.dumps({"sku": "a1", "quantity": 2}).encode()
    assert post(good, json_type) == (400, {"message": "Missing required request parameters: [X-Tenant]"})
    tenant = {**json_type, "X-Tenant": "t1"}
    assert post(b'{"sku": "a1", "quantity": 0}', tenant) == (400, {"message": "Invalid request body"})
    assert post(b"not json", tenant) == (400, {"message": "Invalid request body"})
    status, event = post(good, tenant)
    assert status == 200 and json.loads(event["body"]) == {"sku": "a1", "quantity": 2}
    method = rest.get_method(restApiId=api_id, resourceId=orders, httpMethod="POST")
    assert method["requestModels"] == {"application/json": "Order"}
    assert method["requestValidatorId"] == validator["id"]

    # Only parameters: the body is no longer checked once the validator says so (after a deployment).
    rest.update_request_validator(
        restApiId=api_id,
        requestValidatorId=validator["id"],
        patchOperations=[{"op": "replace", "path": "/validateRequestBody", "value": "false"}],
    )
    rest.create_deployment(restApiId=api_id, stageName="v1")
    assert post(b'{"sku": 5}', tenant)[0] == 200

    def error(call: Callable[[], Any]) -> str:
        with pytest.raises(ClientError) as excinfo:
            call()
        return str(excinfo.value.response["Error"]["Code"])

    assert error(lambda: rest.delete_model(restApiId=api_id, modelName="Order")) == "BadRequestException"
    assert (
        error(
            lambda: rest.create_model(
                restApiId=api_id, name="Order", contentType="application/json", schema="{}"
            )
        )
        == "ConflictException"
    )
    assert (
        error(
            lambda: rest.create_model(
                restApiId=api_id, name="Bad", contentType="application/json", schema='{"type": 5}'
            )
        )
        == "BadRequestException"
    )
    assert (
        error(
            lambda: rest.put_method(
                restApiId=api_id,
                resourceId=orders,
                httpMethod="PUT",
                authorizationType="NONE",
                requestValidatorId="missing",
            )
        )
        == "BadRequestException"
    )
    assert error(lambda: rest.get_model(restApiId=api_id, modelName="Nope")) == "NotFoundException"
    updated = rest.update_model(
        restApiId=api_id,
        modelName="Order",
        patchOperations=[{"op": "replace", "path": "/description", "value": "d"}],
    )
    assert updated["description"] == "d"
