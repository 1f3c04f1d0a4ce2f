"""API Gateway HTTP APIs end to end: the apigatewayv2 control plane through boto3, the data plane through
raw HTTP (by `<api-id>.execute-api.localhost` host and by the `/_lambdabox/execute-api/` path form)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.conftest import REGION, Server, raw_request, unique

ACCOUNT = "000000000000"

ECHO = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-echo": "yes"},
        "body": json.dumps(event),
    }
"""


@pytest.fixture(scope="module")
def apigw(server: Server) -> Any:
    return server.client("apigatewayv2")


@pytest.fixture(scope="module")
def echo(server: Server) -> str:
    """An echo function any API of this account may invoke."""
    from tests.conftest import create_function

    client = server.client("lambda")
    name = create_function(client, ECHO)
    allow(client, name)
    return name


def allow(lambda_client: Any, name: str, source_arn: str | None = None) -> None:
    lambda_client.add_permission(
        FunctionName=name,
        StatementId=unique("apigw"),
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source_arn or f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*",
    )


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def call(
    server: Server, api_id: str, method: str, path: str, *, by_host: bool = False, **kwargs: Any
) -> urllib3.BaseHTTPResponse:
    if by_host:
        headers = {**kwargs.pop("headers", {}), "Host": f"{api_id}.execute-api.localhost:{server.port}"}
        return raw_request(method, f"{server.endpoint}{path}", headers=headers, retries=False, **kwargs)
    url = f"{server.endpoint}/_lambdabox/execute-api/{api_id}{path}"
    return raw_request(method, url, retries=False, **kwargs)


def event_of(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    assert response.status == 200, (response.status, response.data)
    event: dict[str, Any] = json.loads(response.data)
    return event


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def lambda_api(apigw: Any, function: str, version: str = "2.0", **extra: Any) -> tuple[str, str]:
    """An HTTP API with one Lambda integration; returns (api id, integration id)."""
    api_id = apigw.create_api(Name=unique("api"), ProtocolType="HTTP", **extra)["ApiId"]
    integration = apigw.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=fn_arn(function),
        PayloadFormatVersion=version,
    )
    return api_id, integration["IntegrationId"]


# -- control plane ----------------------------------------------------------------------------------------
def test_quick_create_makes_integration_default_route_and_auto_deployed_stage(
    server: Server, apigw: Any, echo: str
) -> None:
    created = apigw.create_api(Name=unique("quick"), ProtocolType="HTTP", Target=fn_arn(echo))
    api_id = created["ApiId"]
    assert len(api_id) == 10 and api_id.isalnum() and api_id.islower()
    assert created["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{server.port}"
    assert created["RouteSelectionExpression"] == "${request.method} ${request.path}"
    [integration] = apigw.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "2.0"
    assert integration["ApiGatewayManaged"] is True
    [route] = apigw.get_routes(ApiId=api_id)["Items"]
    assert route["RouteKey"] == "$default"
    assert route["Target"] == f"integrations/{integration['IntegrationId']}"
    [stage] = apigw.get_stages(ApiId=api_id)["Items"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True and stage["DeploymentId"]

    event = event_of(call(server, api_id, "GET", "/any/path?a=1&a=2&b=x", headers={"Cookie": "c=1; d=2"}))
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/any/path"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c=1", "d=2"]
    assert event["requestContext"]["apiId"] == api_id
    assert event["requestContext"]["accountId"] == ACCOUNT
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert "pathParameters" not in event

    by_host = call(
        server,
        api_id,
        "POST",
        "/x",
        by_host=True,
        body=b'{"k": 1}',
        headers={"Content-Type": "application/json"},
    )
    assert by_host.headers["x-echo"] == "yes" and by_host.headers["apigw-requestid"]
    event = event_of(by_host)
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["domainName"] == f"{api_id}.execute-api.localhost"


def test_control_plane_errors_and_lifecycle(server: Server, apigw: Any, echo: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        apigw.get_api(ApiId="nosuchapi1")
    assert _error(excinfo) == ("NotFoundException", 404)
    api_id, integration_id = lambda_api(apigw, echo)
    route = apigw.create_route(ApiId=api_id, RouteKey="GET /a", Target=f"integrations/{integration_id}")
    with pytest.raises(ClientError) as excinfo:
        apigw.create_route(ApiId=api_id, RouteKey="GET /a")
    assert _error(excinfo) == ("ConflictException", 409)
    for bad in ("FETCH /a", "GET a", "GET /{proxy+}/x"):
        with pytest.raises(ClientError) as excinfo:
            apigw.create_route(ApiId=api_id, RouteKey=bad)
        assert _error(excinfo) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as excinfo:
        apigw.create_route(ApiId=api_id, RouteKey="GET /b", Target="integrations/nope123")
    assert _error(excinfo) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as excinfo:
        apigw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=fn_arn(echo), PayloadFormatVersion="3.0"
        )
    assert _error(excinfo) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as excinfo:
        apigw.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert _error(excinfo) == ("ConflictException", 409)

    updated = apigw.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="POST /a")
    assert updated["RouteKey"] == "POST /a"
    assert apigw.get_route(ApiId=api_id, RouteId=route["RouteId"])["RouteKey"] == "POST /a"
    integration = apigw.update_integration(ApiId=api_id, IntegrationId=integration_id, TimeoutInMillis=5000)
    assert integration["TimeoutInMillis"] == 5000
    api = apigw.update_api(ApiId=api_id, Description="described")
    assert api["Description"] == "described"
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert call(server, api_id, "POST", "/a").status == 200
    apigw.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    response = call(server, api_id, "POST", "/a")
    assert response.status == 403 and json.loads(response.data) == {"message": "Forbidden"}
    assert api_id in [item["ApiId"] for item in apigw.get_apis()["Items"]]

    arn = f"arn:aws:apigateway:{REGION}::/apis/{api_id}"
    apigw.tag_resource(ResourceArn=arn, Tags={"team": "a", "env": "dev"})
    apigw.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert apigw.get_tags(ResourceArn=arn)["Tags"] == {"team": "a"}
    assert apigw.get_api(ApiId=api_id)["Tags"] == {"team": "a"}

    apigw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    apigw.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    apigw.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as excinfo:
        apigw.get_routes(ApiId=api_id)
    assert _error(excinfo) == ("NotFoundException", 404)


# -- routing ---------------------------------------------------------------------------------------------
def test_routes_path_parameters_stage_variables_and_not_found(server: Server, apigw: Any, echo: str) -> None:
    api_id, integration_id = lambda_api(apigw, echo)
    target = f"integrations/{integration_id}"
    for key in ("GET /items/{id}", "GET /items/special", "ANY /files/{proxy+}", "GET /files/{proxy+}"):
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=target)
    stage = apigw.create_stage(
        ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"table": "items-prod"}
    )
    assert stage["StageVariables"] == {"table": "items-prod"}

    event = event_of(call(server, api_id, "GET", "/prod/items/42"))
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"table": "items-prod"}
    assert event["rawPath"] == "/prod/items/42"
    assert event["requestContext"]["stage"] == "prod"
    assert event_of(call(server, api_id, "GET", "/prod/items/special"))["routeKey"] == "GET /items/special"
    event = event_of(call(server, api_id, "GET", "/prod/files/a/b%20c.txt"))
    assert event["routeKey"] == "GET /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c.txt"}
    assert event_of(call(server, api_id, "DELETE", "/prod/files/x"))["routeKey"] == "ANY /files/{proxy+}"

    for method, path in (
        ("GET", "/prod/nothing"),
        ("POST", "/prod/items/42"),
        ("GET", "/items/42"),
        ("GET", "/prod/items/42/more"),
        ("GET", "/nostage/items/1"),
    ):
        response = call(server, api_id, method, path)
        assert response.status == 404, (method, path)
        assert json.loads(response.data) == {"message": "Not Found"}

    # A $default route catches what nothing else matches (auto-deployed: visible at once).
    apigw.create_route(ApiId=api_id, RouteKey="$default", Target=target)
    assert event_of(call(server, api_id, "GET", "/prod/nothing"))["routeKey"] == "$default"


def test_stage_without_auto_deploy_serves_its_deployment(server: Server, apigw: Any, echo: str) -> None:
    api_id, integration_id = lambda_api(apigw, echo)
    apigw.create_stage(ApiId=api_id, StageName="manual")
    apigw.create_route(ApiId=api_id, RouteKey="GET /one", Target=f"integrations/{integration_id}")
    assert call(server, api_id, "GET", "/manual/one").status == 404  # not deployed yet
    deployment = apigw.create_deployment(ApiId=api_id, StageName="manual", Description="first")
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    assert apigw.get_stage(ApiId=api_id, StageName="manual")["DeploymentId"] == deployment["DeploymentId"]
    assert event_of(call(server, api_id, "GET", "/manual/one"))["routeKey"] == "GET /one"
    apigw.create_route(ApiId=api_id, RouteKey="GET /two", Target=f"integrations/{integration_id}")
    assert call(server, api_id, "GET", "/manual/two").status == 404  # changes need a new deployment
    ids = [d["DeploymentId"] for d in apigw.get_deployments(ApiId=api_id)["Items"]]
    assert deployment["DeploymentId"] in ids


def test_payload_format_1_0_on_http_api(server: Server, apigw: Any, echo: str) -> None:
    api_id, integration_id = lambda_api(apigw, echo, version="1.0")
    apigw.create_route(ApiId=api_id, RouteKey="POST /orders/{id}", Target=f"integrations/{integration_id}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    response = call(
        server, api_id, "POST", "/orders/7?x=1&x=2", body=b"hello", headers={"Content-Type": "text/plain"}
    )
    event = event_of(response)
    assert event["version"] == "1.0"
    assert event["resource"] == "/orders/{id}"
    assert event["path"] == "/orders/7"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["headers"]["content-type"] == "text/plain"
    assert event["multiValueHeaders"]["content-type"] == ["text/plain"]
    assert event["body"] == "hello" and event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["httpMethod"] == "POST" and context["stage"] == "$default" and context["apiId"] == api_id
    assert context["identity"]["sourceIp"] == "127.0.0.1"


# -- failures --------------------------------------------------------------------------------------------
def test_function_error_bad_response_and_missing_permission_are_500(
    server: Server, apigw: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    failing = deploy("def handler(event, context):\n    raise ValueError('boom')\n")
    allow(lambda_client, failing)
    api_id = apigw.create_api(Name=unique("fail"), ProtocolType="HTTP", Target=fn_arn(failing))["ApiId"]
    response = call(server, api_id, "GET", "/")
    assert response.status == 500
    assert json.loads(response.data) == {"message": "Internal Server Error"}

    bad = deploy("def handler(event, context):\n    return {'statusCode': 'abc'}\n")
    allow(lambda_client, bad)
    api_id = apigw.create_api(Name=unique("bad"), ProtocolType="HTTP", Target=fn_arn(bad))["ApiId"]
    response = call(server, api_id, "GET", "/")
    assert response.status == 500 and json.loads(response.data) == {"message": "Internal Server Error"}

    # Quick create adds no permission: until the user adds one, the integration fails.
    private = deploy("def handler(event, context):\n    return {'statusCode': 204}\n")
    api_id = apigw.create_api(Name=unique("private"), ProtocolType="HTTP", Target=fn_arn(private))["ApiId"]
    response = call(server, api_id, "GET", "/")
    assert response.status == 500 and json.loads(response.data) == {"message": "Internal Server Error"}
    allow(lambda_client, private, f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/$default")
    assert call(server, api_id, "GET", "/").status == 204

    # Quick update: the API-managed integration follows the new target.
    apigw.update_api(ApiId=api_id, Target=fn_arn(failing))
    [integration] = apigw.get_integrations(ApiId=api_id)["Items"]
    assert integration["IntegrationUri"] == fn_arn(failing)
    assert call(server, api_id, "GET", "/").status == 500


def test_integration_timeout_is_503(
    server: Server, apigw: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    slow = deploy("import time\ndef handler(event, context):\n    time.sleep(2)\n    return {}\n", Timeout=5)
    allow(lambda_client, slow)
    api_id, integration_id = lambda_api(apigw, slow)
    apigw.update_integration(ApiId=api_id, IntegrationId=integration_id, TimeoutInMillis=300)
    apigw.create_route(ApiId=api_id, RouteKey="$default", Target=f"integrations/{integration_id}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    started = time.monotonic()
    response = call(server, api_id, "GET", "/")
    assert response.status == 503 and json.loads(response.data) == {"message": "Service Unavailable"}
    assert time.monotonic() - started < 1.8


def test_body_over_10_mb_is_413(server: Server, apigw: Any, echo: str) -> None:
    api_id = apigw.create_api(Name=unique("big"), ProtocolType="HTTP", Target=fn_arn(echo))["ApiId"]
    response = call(server, api_id, "POST", "/", body=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status == 413
    assert json.loads(response.data) == {"message": "Request Entity Too Large"}


def test_plain_result_becomes_json_body(
    server: Server, apigw: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    plain = deploy("def handler(event, context):\n    return {'hello': event['pathParameters']['name']}\n")
    allow(lambda_client, plain)
    api_id, integration_id = lambda_api(apigw, plain)
    apigw.create_route(ApiId=api_id, RouteKey="GET /hello/{name}", Target=f"integrations/{integration_id}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    response = call(server, api_id, "GET", "/hello/world")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.data) == {"hello": "world"}


# -- CORS ------------------------------------------------------------------------------------------------
def test_cors_preflight_and_response_headers(server: Server, apigw: Any, echo: str) -> None:
    cors = {
        "AllowOrigins": ["https://app.example"],
        "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["content-type", "x-token"],
        "ExposeHeaders": ["x-echo"],
        "MaxAge": 600,
        "AllowCredentials": True,
    }
    created = apigw.create_api(
        Name=unique("cors"), ProtocolType="HTTP", Target=fn_arn(echo), CorsConfiguration=cors
    )
    assert created["CorsConfiguration"]["AllowOrigins"] == ["https://app.example"]
    api_id = created["ApiId"]
    preflight = call(
        server,
        api_id,
        "OPTIONS",
        "/things",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, X-Token",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "GET,POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type,x-token"
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["access-control-allow-credentials"] == "true"

    refused = call(
        server,
        api_id,
        "OPTIONS",
        "/things",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert refused.status == 204 and "access-control-allow-origin" not in refused.headers

    actual = call(server, api_id, "GET", "/things", headers={"Origin": "https://app.example"})
    assert actual.status == 200
    assert actual.headers["access-control-allow-origin"] == "https://app.example"
    assert actual.headers["access-control-expose-headers"] == "x-echo"

    apigw.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in apigw.get_api(ApiId=api_id)
    actual = call(server, api_id, "GET", "/things", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in actual.headers


# -- authorizers -----------------------------------------------------------------------------------------
class _Issuer:
    """A tiny OpenID issuer on 127.0.0.1: its configuration and JWKS, and tokens signed by its key."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
        self.requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests += 1
                if self.path == "/.well-known/openid-configuration":
                    document: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks.json"}
                elif self.path == "/jwks.json":
                    document = {"keys": [issuer.key.as_dict(private=False)]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def token(self, key: RSAKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": "my-app", "sub": "user-1", "iat": now, "exp": now + 300, **claims}
        return jwt.encode({"alg": "RS256", "kid": "key-1"}, body, key or self.key)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def issuer() -> Iterator[_Issuer]:
    instance = _Issuer()
    yield instance
    instance.close()


def test_jwt_authorizer_refuses_bad_tokens_and_passes_claims(
    server: Server, apigw: Any, echo: str, issuer: _Issuer
) -> None:
    api_id, integration_id = lambda_api(apigw, echo)
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": issuer.url, "Audience": ["my-app"]},
    )
    assert apigw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer["AuthorizerId"])[
        "JwtConfiguration"
    ] == {
        "Audience": ["my-app"],
        "Issuer": issuer.url,
    }
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /me",
        Target=f"integrations/{integration_id}",
        AuthorizationType="JWT",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    apigw.create_route(
        ApiId=api_id,
        RouteKey="GET /admin",
        Target=f"integrations/{integration_id}",
        AuthorizationType="JWT",
        AuthorizerId=authorizer["AuthorizerId"],
        AuthorizationScopes=["admin"],
    )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    good = issuer.token(scope="read write", groups=["a", "b"])
    event = event_of(call(server, api_id, "GET", "/me", headers={"Authorization": f"Bearer {good}"}))
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "user-1" and claims["iss"] == issuer.url and claims["groups"] == "[a b]"
    assert isinstance(claims["exp"], str)
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read", "write"]
    assert call(server, api_id, "GET", "/me", headers={"Authorization": good}).status == 200

    other_key = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
    bad_tokens = {
        "missing": None,
        "garbage": "Bearer not-a-jwt",
        "forged": f"Bearer {issuer.token(key=other_key)}",
        "expired": f"Bearer {issuer.token(exp=int(time.time()) - 10)}",
        "wrong audience": f"Bearer {issuer.token(aud='someone-else')}",
        "wrong issuer": f"Bearer {issuer.token(iss='https://other.example')}",
        "not yet valid": f"Bearer {issuer.token(nbf=int(time.time()) + 600)}",
    }
    for case, header in bad_tokens.items():
        headers = {"Authorization": header} if header else {}
        response = call(server, api_id, "GET", "/me", headers=headers)
        assert response.status == 401, case
        assert json.loads(response.data) == {"message": "Unauthorized"}, case

    response = call(server, api_id, "GET", "/admin", headers={"Authorization": f"Bearer {good}"})
    assert response.status == 403 and json.loads(response.data) == {"message": "Forbidden"}
    admin = issuer.token(scope="admin")
    assert call(server, api_id, "GET", "/admin", headers={"Authorization": f"Bearer {admin}"}).status == 200
    assert issuer.requests == 2  # configuration and key set, fetched once and cached

    with pytest.raises(ClientError) as excinfo:
        apigw.delete_authorizer(ApiId=api_id, AuthorizerId=authorizer["AuthorizerId"])
    assert _error(excinfo) == ("ConflictException", 409)


AUTHORIZER = """
def handler(event, context):
    allowed = event["headers"].get("x-key") == "open-sesame"
    return {"isAuthorized": allowed, "context": {"user": "alice", "route": event["routeArn"]}}
"""


def test_lambda_request_authorizer_with_simple_responses(
    server: Server, apigw: Any, echo: str, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    gatekeeper = deploy(AUTHORIZER)
    allow(lambda_client, gatekeeper)
    api_id, integration_id = lambda_api(apigw, echo)
    authorizer = apigw.create_authorizer(
        ApiId=api_id,
        Name="lambda",
        AuthorizerType="REQUEST",
        AuthorizerUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn_arn(gatekeeper)}/invocations",
        AuthorizerPayloadFormatVersion="2.0",
        EnableSimpleResponses=True,
        IdentitySource=["$request.header.x-key"],
    )
    apigw.create_route(
        ApiId=api_id,
        RouteKey="ANY /secret",
        Target=f"integrations/{integration_id}",
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer["AuthorizerId"],
    )
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    event = event_of(call(server, api_id, "GET", "/secret", headers={"x-key": "open-sesame"}))
    context = event["requestContext"]["authorizer"]["lambda"]
    assert context["user"] == "alice"
    assert context["route"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/$default/GET/secret"
    response = call(server, api_id, "GET", "/secret", headers={"x-key": "wrong"})
    assert response.status == 403 and json.loads(response.data) == {"message": "Forbidden"}
    response = call(server, api_id, "GET", "/secret")
    assert response.status == 401 and json.loads(response.data) == {"message": "Unauthorized"}


def test_throttled_function_is_429(
    server: Server, apigw: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    throttled = deploy("def handler(event, context):\n    return {}\n")
    allow(lambda_client, throttled)
    lambda_client.put_function_concurrency(FunctionName=throttled, ReservedConcurrentExecutions=0)
    api_id = apigw.create_api(Name=unique("throttled"), ProtocolType="HTTP", Target=fn_arn(throttled))[
        "ApiId"
    ]
    response = call(server, api_id, "GET", "/")
    assert response.status == 429 and json.loads(response.data) == {"message": "Too Many Requests"}


def test_wire_dates_are_iso8601(server: Server, apigw: Any) -> None:
    api_id = apigw.create_api(Name=unique("dates"), ProtocolType="HTTP")["ApiId"]
    stage = apigw.create_stage(ApiId=api_id, StageName="s")
    assert stage["CreatedDate"].tzinfo is not None
    # What the SDKs of other languages parse: an ISO 8601 string, as the model declares.
    response = raw_request(
        "GET", f"{server.endpoint}/v2/apis/{api_id}", headers=_signed_headers(server, api_id)
    )
    assert response.status == 200, response.data
    created = json.loads(response.data)["createdDate"]
    assert isinstance(created, str) and created.endswith("Z") and "T" in created


def _signed_headers(server: Server, api_id: str) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.conftest import ACCESS_KEY, SECRET_KEY

    request = AWSRequest(method="GET", url=f"{server.endpoint}/v2/apis/{api_id}")
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "apigateway", REGION).add_auth(request)
    return dict(request.headers.items())


def test_apis_survive_a_restart(server_factory: Callable[..., Server]) -> None:
    from tests.conftest import create_function

    own = server_factory()
    client = own.client("lambda")
    name = create_function(client, ECHO)
    allow(client, name)
    api_id = own.client("apigatewayv2").create_api(Name="kept", ProtocolType="HTTP", Target=fn_arn(name))[
        "ApiId"
    ]
    assert call(own, api_id, "GET", "/before").status == 200
    own.close_clients()
    own.stop()
    own.start()
    assert event_of(call(own, api_id, "GET", "/after"))["rawPath"] == "/after"
    assert own.client("apigatewayv2").get_api(ApiId=api_id)["Name"] == "kept"


def test_stage_updates_and_authorizer_listing(server: Server, apigw: Any, echo: str) -> None:
    api_id, integration_id = lambda_api(apigw, echo)
    apigw.create_route(ApiId=api_id, RouteKey="GET /v", Target=f"integrations/{integration_id}")
    apigw.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True, StageVariables={"n": "1"})
    assert event_of(call(server, api_id, "GET", "/live/v"))["stageVariables"] == {"n": "1"}
    updated = apigw.update_stage(ApiId=api_id, StageName="live", StageVariables={"n": "2"}, Description="d")
    assert updated["StageVariables"] == {"n": "2"} and updated["Description"] == "d"
    assert event_of(call(server, api_id, "GET", "/live/v"))["stageVariables"] == {"n": "2"}
    apigw.delete_stage(ApiId=api_id, StageName="live")
    assert call(server, api_id, "GET", "/live/v").status == 404
    with pytest.raises(ClientError) as excinfo:
        apigw.get_stage(ApiId=api_id, StageName="live")
    assert _error(excinfo) == ("NotFoundException", 404)

    created = apigw.create_authorizer(
        ApiId=api_id,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["a"]},
    )
    assert [a["AuthorizerId"] for a in apigw.get_authorizers(ApiId=api_id)["Items"]] == [
        created["AuthorizerId"]
    ]
    with pytest.raises(ClientError) as excinfo:  # a JWT authorizer needs an audience
        apigw.create_authorizer(
            ApiId=api_id,
            Name="bad",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": "https://issuer.example"},
        )
    assert _error(excinfo) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as excinfo:  # JWT routes need a JWT authorizer
        apigw.create_route(ApiId=api_id, RouteKey="GET /j", AuthorizationType="JWT")
    assert _error(excinfo) == ("BadRequestException", 400)
    apigw.delete_authorizer(ApiId=api_id, AuthorizerId=created["AuthorizerId"])
    assert apigw.get_authorizers(ApiId=api_id)["Items"] == []


def test_aws_cli_quick_create_and_call(server: Server, echo: str, tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    aws = Path(sys.executable).parent / "aws"
    env = {
        **server.client_env(),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    created = subprocess.run(
        [str(aws), "apigatewayv2", "create-api", "--name", "cli", "--protocol-type", "HTTP",
         "--target", fn_arn(echo), "--output", "json"],
        env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    api = json.loads(created.stdout)
    assert api["ApiEndpoint"].endswith(f":{server.port}") and "T" in api["CreatedDate"]
    assert event_of(call(server, api["ApiId"], "GET", "/via-cli"))["rawPath"] == "/via-cli"


def test_repeated_headers_both_ways(server: Server, apigw: Any) -> None:
    from tests.conftest import create_function

    client = server.client("lambda")
    name = create_function(
        client,
        "def handler(event, context):\n"
        "    return {'statusCode': 200, 'cookies': ['a=1', 'b=2'], 'body': event['headers']['x-multi']}\n",
    )
    allow(client, name)
    api_id = apigw.create_api(Name=unique("cookies"), ProtocolType="HTTP", Target=fn_arn(name))["ApiId"]
    response = call(
        server, api_id, "GET", "/", headers=urllib3.HTTPHeaderDict([("X-Multi", "one"), ("X-Multi", "two")])
    )
    assert response.status == 200 and response.data == b"one,two"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_stage_route_settings_throttle(server: Server, apigw: Any, echo: str) -> None:
    """DefaultRouteSettings and RouteSettings throttle each route (429 past the burst), a route's own
    settings over the default ones."""
    api_id, integration_id = lambda_api(apigw, echo)
    for key in ("GET /tight", "GET /loose"):
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration_id}")
    stage = apigw.create_stage(
        ApiId=api_id,
        StageName="$default",
        AutoDeploy=True,
        DefaultRouteSettings={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.01},
        RouteSettings={"GET /loose": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 100.0}},
    )
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 2
    assert stage["RouteSettings"]["GET /loose"]["ThrottlingRateLimit"] == 100.0
    assert [call(server, api_id, "GET", "/tight").status for _ in range(3)] == [200, 200, 429]
    assert json.loads(call(server, api_id, "GET", "/tight").data) == {"message": "Too Many Requests"}
    assert all(call(server, api_id, "GET", "/loose").status == 200 for _ in range(5))
    apigw.update_stage(
        ApiId=api_id, StageName="$default", DefaultRouteSettings={"ThrottlingBurstLimit": 1000}
    )
    assert call(server, api_id, "GET", "/tight").status == 200
