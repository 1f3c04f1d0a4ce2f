"""REST API keys and usage plans: the control plane through boto3, and methods with apiKeyRequired
through raw HTTP — the key, its plan's stages, its throttle and its quota."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, create_function, unique
from tests.functional.test_apigateway_rest import ECHO, allow, call, proxy_resource


@pytest.fixture(scope="module")
def rest(server: Server) -> Any:
    return server.client("apigateway")


def keyed_api(rest: Any, lambda_client: Any, echo: str, source: str = "HEADER") -> str:
    """`/{proxy+}` ANY requiring an API key, deployed to `prod` and `dev`."""
    api_id = rest.create_rest_api(name=unique("rest"), apiKeySource=source)["id"]
    proxy_resource(rest, api_id, echo, apiKeyRequired=True)
    rest.create_deployment(restApiId=api_id, stageName="prod")
    rest.create_deployment(restApiId=api_id, stageName="dev")
    allow(lambda_client, echo, api_id)
    return api_id


def answer(server: Server, api_id: str, path: str, key: str | None) -> tuple[int, Any]:
    response = call(server, api_id, "GET", path, headers={"x-api-key": key} if key else {})
    return response.status, json.loads(response.data)


def error(call: Callable[[], Any]) -> str:
    """The error code of the ClientError `call` raises."""
    with pytest.raises(ClientError) as excinfo:
        call()
    return str(excinfo.value.response["Error"]["Code"])


def test_a_key_in_a_plan_of_the_stage_gets_through(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    api_id = keyed_api(rest, lambda_client, deploy(ECHO))
    key = rest.create_api_key(name=unique("key"), enabled=True)
    assert len(key["value"]) == 40 and key["enabled"] is True
    plan = rest.create_usage_plan(name=unique("plan"), apiStages=[{"apiId": api_id, "stage": "prod"}])
    forbidden = (403, {"message": "Forbidden"})
    assert answer(server, api_id, "/prod/a", key["value"]) == forbidden  # not in the plan yet
    rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    status, event = answer(server, api_id, "/prod/a", key["value"])
    assert status == 200
    assert event["requestContext"]["identity"]["apiKey"] == key["value"]
    assert event["requestContext"]["identity"]["apiKeyId"] == key["id"]
    assert answer(server, api_id, "/prod/a", None) == forbidden
    assert answer(server, api_id, "/prod/a", "x" * 40) == forbidden
    assert answer(server, api_id, "/dev/a", key["value"]) == forbidden  # the plan lists prod only
    rest.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[{"op": "add", "path": "/apiStages", "value": f"{api_id}:dev"}],
    )
    assert answer(server, api_id, "/dev/a", key["value"])[0] == 200
    rest.update_api_key(
        apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    assert answer(server, api_id, "/prod/a", key["value"]) == forbidden


def test_throttle_and_quota(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    api_id = keyed_api(rest, lambda_client, deploy(ECHO))
    throttled, limited = (
        rest.create_api_key(name=unique("k"), enabled=True),
        rest.create_api_key(name=unique("k"), enabled=True),
    )
    burst = rest.create_usage_plan(
        name=unique("burst"),
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"burstLimit": 2, "rateLimit": 0.01},
    )
    daily = rest.create_usage_plan(
        name=unique("daily"),
        apiStages=[{"apiId": api_id, "stage": "dev"}],
        quota={"limit": 3, "offset": 1, "period": "DAY"},
    )
    rest.create_usage_plan_key(usagePlanId=burst["id"], keyId=throttled["id"], keyType="API_KEY")
    rest.create_usage_plan_key(usagePlanId=daily["id"], keyId=limited["id"], keyType="API_KEY")
    statuses = [answer(server, api_id, "/prod/x", throttled["value"])[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert answer(server, api_id, "/prod/x", throttled["value"]) == (429, {"message": "Too Many Requests"})
    # A quota of 3 with an offset of 1 in its first day: two requests, then no more.
    statuses = [answer(server, api_id, "/dev/x", limited["value"])[0] for _ in range(2)]
    assert statuses == [200, 200]
    assert answer(server, api_id, "/dev/x", limited["value"]) == (429, {"message": "Limit Exceeded"})


def test_the_authorizer_can_name_the_key(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    from tests.functional.test_apigateway_rest_authorizers import guarded_api

    key = rest.create_api_key(name=unique("k"), enabled=True, value="authorizer-named-key-0001")
    authorizer_source = (
        "def handler(event, context):\n"
        "    return {'principalId': 'p', 'usageIdentifierKey': 'authorizer-named-key-0001',\n"
        "            'policyDocument': {'Version': '2012-10-17', 'Statement': [\n"
        "                {'Action': 'execute-api:Invoke', 'Effect': 'Allow', 'Resource': event['methodArn']}]}}\n"
    )
    echo = deploy(ECHO)
    api_id, _ = guarded_api(
        rest,
        lambda_client,
        echo,
        deploy(authorizer_source),
        type="TOKEN",
        identitySource="method.request.header.Authorization",
        authorizerResultTtlInSeconds=0,
    )
    rest.update_rest_api(
        restApiId=api_id, patchOperations=[{"op": "replace", "path": "/apiKeySource", "value": "AUTHORIZER"}]
    )
    resource = next(r for r in rest.get_resources(restApiId=api_id)["items"] if r["path"] == "/{proxy+}")
    rest.update_method(
        restApiId=api_id,
        resourceId=resource["id"],
        httpMethod="ANY",
        patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
    )
    rest.create_deployment(restApiId=api_id, stageName="test")
    plan = rest.create_usage_plan(name=unique("plan"), apiStages=[{"apiId": api_id, "stage": "test"}])
    rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    response = call(server, api_id, "GET", "/test/a", headers={"Authorization": "token"})
    assert response.status == 200, response.data
    assert json.loads(response.data)["requestContext"]["identity"]["apiKeyId"] == key["id"]


def test_keys_and_plans_control_plane(
    server: Server, rest: Any, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    api_id = keyed_api(rest, lambda_client, deploy(ECHO))
    key = rest.create_api_key(
        name=unique("k"), value="a-value-of-twenty-chars", description="d", tags={"t": "1"}
    )
    assert key["enabled"] is False and key["value"] == "a-value-of-twenty-chars"
    described = rest.get_api_key(apiKey=key["id"])
    assert "value" not in described and described["description"] == "d" and described["tags"] == {"t": "1"}
    assert rest.get_api_key(apiKey=key["id"], includeValue=True)["value"] == "a-value-of-twenty-chars"
    assert [k["id"] for k in rest.get_api_keys(nameQuery=key["name"])["items"]] == [key["id"]]
    plan = rest.create_usage_plan(
        name="p",
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"burstLimit": 10, "rateLimit": 5.0},
        quota={"limit": 100, "period": "MONTH"},
    )
    assert plan["throttle"] == {"burstLimit": 10, "rateLimit": 5.0}
    assert plan["quota"] == {"limit": 100, "offset": 0, "period": "MONTH"}
    updated = rest.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[
            {"op": "replace", "path": "/throttle/rateLimit", "value": "7.5"},
            {"op": "replace", "path": "/quota/period", "value": "WEEK"},
            {"op": "remove", "path": "/apiStages", "value": f"{api_id}:prod"},
        ],
    )
    assert updated["throttle"]["rateLimit"] == 7.5 and updated["quota"]["period"] == "WEEK"
    assert updated["apiStages"] == []
    rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert rest.get_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])["value"] == key["value"]
    assert [p["id"] for p in rest.get_usage_plans(keyId=key["id"])["items"]] == [plan["id"]]
    assert [k["id"] for k in rest.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]

    assert (
        error(lambda: rest.create_api_key(name="dup", value="a-value-of-twenty-chars")) == "ConflictException"
    )
    assert error(lambda: rest.create_api_key(name="short", value="short")) == "BadRequestException"
    assert (
        error(lambda: rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY"))
        == "ConflictException"
    )
    assert (
        error(lambda: rest.create_usage_plan(name="x", apiStages=[{"apiId": api_id, "stage": "nope"}]))
        == "BadRequestException"
    )
    assert (
        error(lambda: rest.create_usage_plan(name="x", quota={"limit": 1, "period": "YEAR"}))
        == "BadRequestException"
    )
    assert error(lambda: rest.get_usage_plan(usagePlanId="missing")) == "NotFoundException"
    rest.delete_api_key(apiKey=key["id"])  # leaves its plans too
    assert rest.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    assert error(lambda: rest.get_api_key(apiKey=key["id"])) == "NotFoundException"
    rest.delete_usage_plan(usagePlanId=plan["id"])
    assert error(lambda: rest.get_usage_plan(usagePlanId=plan["id"])) == "NotFoundException"


def test_usage_is_reported_extended_and_kept_across_a_restart(
    server_factory: Callable[..., Server],
) -> None:
    """GetUsage reports each key's daily [used, remaining]; UpdateUsage grants more of the current period;
    the counts are in the store, so a restart does not hand out a fresh quota."""
    own = server_factory()
    own_rest, lambda_client = own.client("apigateway"), own.client("lambda")
    api_id = keyed_api(own_rest, lambda_client, create_function(lambda_client, ECHO))
    key, idle = (own_rest.create_api_key(name=unique("k"), enabled=True) for _ in range(2))
    plan = own_rest.create_usage_plan(
        name=unique("monthly"),
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        quota={"limit": 3, "period": "MONTH"},
    )
    for member in (key, idle):
        own_rest.create_usage_plan_key(usagePlanId=plan["id"], keyId=member["id"], keyType="API_KEY")
    assert [answer(own, api_id, "/prod/x", key["value"])[0] for _ in range(2)] == [200, 200]
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    usage = own_rest.get_usage(
        usagePlanId=plan["id"], startDate=yesterday.isoformat(), endDate=today.isoformat()
    )
    assert (usage["startDate"], usage["endDate"]) == (yesterday.isoformat(), today.isoformat())
    assert usage["items"][key["id"]][1] == [2, 1]
    assert usage["items"][idle["id"]][1] == [0, 3]

    own.close_clients()
    own.stop()
    own.start()
    own_rest = own.client("apigateway")
    assert answer(own, api_id, "/prod/x", key["value"])[0] == 200  # the third of three
    assert answer(own, api_id, "/prod/x", key["value"]) == (429, {"message": "Limit Exceeded"})
    today_only = {"startDate": today.isoformat(), "endDate": today.isoformat()}
    page = own_rest.get_usage(usagePlanId=plan["id"], keyId=key["id"], **today_only)
    assert page["items"] == {key["id"]: [[3, 0]]}

    granted = own_rest.update_usage(
        usagePlanId=plan["id"],
        keyId=key["id"],
        patchOperations=[{"op": "replace", "path": "/remaining", "value": "2"}],
    )
    assert granted["items"] == {key["id"]: [[3, 2]]}
    assert [answer(own, api_id, "/prod/x", key["value"])[0] for _ in range(3)] == [200, 200, 429]

    first = own_rest.get_usage(usagePlanId=plan["id"], limit=1, **today_only)
    assert list(first["items"]) == [min(key["id"], idle["id"])] and "position" in first
    second = own_rest.get_usage(usagePlanId=plan["id"], limit=1, position=first["position"], **today_only)
    assert list(second["items"]) == [max(key["id"], idle["id"])] and "position" not in second

    assert (
        error(lambda: own_rest.get_usage(usagePlanId=plan["id"], startDate="2026-13-01", endDate="x"))
        == "BadRequestException"
    )
    backwards = {"startDate": today.isoformat(), "endDate": yesterday.isoformat()}
    assert error(lambda: own_rest.get_usage(usagePlanId=plan["id"], **backwards)) == "BadRequestException"
    assert error(lambda: own_rest.get_usage(usagePlanId="nope", **today_only)) == "NotFoundException"
    assert (
        error(
            lambda: own_rest.update_usage(
                usagePlanId=plan["id"],
                keyId=key["id"],
                patchOperations=[{"op": "replace", "path": "/used", "value": "1"}],
            )
        )
        == "BadRequestException"
    )
    unlimited = own_rest.create_usage_plan(name=unique("free"), apiStages=[])
    own_rest.create_usage_plan_key(usagePlanId=unlimited["id"], keyId=idle["id"], keyType="API_KEY")
    assert (
        error(
            lambda: own_rest.update_usage(
                usagePlanId=unlimited["id"],
                keyId=idle["id"],
                patchOperations=[{"op": "replace", "path": "/remaining", "value": "5"}],
            )
        )
        == "BadRequestException"
    )
