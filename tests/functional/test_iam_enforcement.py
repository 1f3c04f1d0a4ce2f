"""IAM authorization on every service, with real IAM users, roles and policies, real boto3 clients:
functions act exactly as their execution role allows, users exactly as their policies allow."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import REGION, Server, aws_error, create_function, raw_request, unique, wait_for_logs

ACCOUNT = "000000000000"

COPY = """
import boto3

s3 = boto3.client("s3")
sts = boto3.client("sts")


def handler(event, context):
    arn = sts.get_caller_identity()["Arn"]
    try:
        body = s3.get_object(Bucket=event["source"], Key=event["key"])["Body"].read()
        s3.put_object(Bucket=event["destination"], Key=event["key"], Body=body)
    except Exception as error:
        print(f"copy failed: {error}")
        problem = error.response["Error"]
        return {"arn": arn, "error": problem["Code"], "message": problem["Message"]}
    return {"arn": arn, "copied": event["key"]}
"""


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def code_of(error: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    code, message, status = aws_error(error)
    return status, code, message


class Users:
    """IAM users with their own access keys, and boto3 clients signing as them."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.iam = server.client("iam")

    def create(
        self, *, inline: str | None = None, managed: tuple[str, ...] = ()
    ) -> tuple[str, dict[str, str]]:
        name = unique("user")
        arn = self.iam.create_user(UserName=name)["User"]["Arn"]
        if inline is not None:
            self.iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        for policy_arn in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return arn, {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    def client(self, service: str, keys: dict[str, str]) -> Any:
        client = boto3.client(
            service,
            endpoint_url=self.server.endpoint,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            **keys,
        )
        self.server.clients.append(client)
        return client


@pytest.fixture(scope="module")
def users(server: Server) -> Users:
    return Users(server)


@pytest.fixture(scope="module")
def copy_buckets(s3: Any) -> tuple[str, str]:
    source, destination = unique("src"), unique("dst")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    s3.put_object(Bucket=source, Key="report.txt", Body=b"quarterly numbers")
    return source, destination


def test_a_function_acts_exactly_as_its_role_allows(
    server: Server, lambda_client: Any, s3: Any, copy_buckets: tuple[str, str]
) -> None:
    source, destination = copy_buckets
    role = server.ensure_role(
        unique("copy-role"),
        document(
            allow("s3:GetObject", f"arn:aws:s3:::{source}/*"),
            allow("s3:PutObject", f"arn:aws:s3:::{destination}/*"),
        ),
    )
    name = create_function(lambda_client, COPY, role=role, Timeout=30)
    event = {"source": source, "destination": destination, "key": "report.txt"}
    result = json.loads(lambda_client.invoke(FunctionName=name, Payload=json.dumps(event))["Payload"].read())
    # The function signs as a session of its role named after the function, as on AWS.
    assert result == {
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role.rsplit('/', 1)[1]}/{name}",
        "copied": "report.txt",
    }
    assert s3.get_object(Bucket=destination, Key="report.txt")["Body"].read() == b"quarterly numbers"
    # The same role may not copy the other way round.
    back = {"source": destination, "destination": source, "key": "report.txt"}
    refused = json.loads(lambda_client.invoke(FunctionName=name, Payload=json.dumps(back))["Payload"].read())
    assert refused["error"] == "AccessDenied"
    assert refused["message"] == (
        f"User: {result['arn']} is not authorized to perform: s3:GetObject on resource: "
        f'"arn:aws:s3:::{destination}/report.txt" '
        "because no identity-based policy allows the s3:GetObject action"
    )


def test_a_role_without_put_object_gets_access_denied_inside_the_function(
    server: Server, lambda_client: Any, s3: Any, copy_buckets: tuple[str, str]
) -> None:
    source, destination = copy_buckets
    role = server.ensure_role(
        unique("read-only-role"), document(allow("s3:GetObject", f"arn:aws:s3:::{source}/*"))
    )
    name = create_function(lambda_client, COPY, role=role, Timeout=30)
    event = {"source": source, "destination": destination, "key": "report.txt"}
    result = json.loads(lambda_client.invoke(FunctionName=name, Payload=json.dumps(event))["Payload"].read())
    assert result["error"] == "AccessDenied"
    assert "s3:PutObject" in result["message"]
    messages = wait_for_logs(server, name, lambda lines: any("copy failed" in line for line in lines))
    failure = next(line for line in messages if "copy failed" in line)
    assert "An error occurred (AccessDenied) when calling the PutObject operation" in failure


def test_environments_never_see_the_root_keys(lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = deploy(
        "import os\n"
        "def handler(event, context):\n"
        "    return {k: os.environ.get(k) for k in ('AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN')}\n"
    )
    variables = json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read())
    assert variables["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert variables["AWS_SESSION_TOKEN"]


def test_read_only_user_can_get_but_not_invoke(
    users: Users, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    name = deploy()
    arn, keys = users.create(managed=("arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess",))
    reader = users.client("lambda", keys)
    assert reader.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    listed = reader.get_paginator("list_functions").paginate().build_full_result()["Functions"]
    assert name in {f["FunctionName"] for f in listed}  # (the shared server holds more than a page)
    with pytest.raises(ClientError) as refused:
        reader.invoke(FunctionName=name, Payload=b"{}")
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert code_of(refused) == (
        403,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: lambda:InvokeFunction on resource: {function_arn} "
        "because no identity-based policy allows the lambda:InvokeFunction action",
    )
    with pytest.raises(ClientError) as qualified:
        reader.invoke(FunctionName=name, Qualifier="$LATEST", Payload=b"{}")
    assert f"on resource: {function_arn}:$LATEST " in code_of(qualified)[2]
    with pytest.raises(ClientError) as deleting:
        reader.delete_function(FunctionName=name)
    assert code_of(deleting)[1] == "AccessDeniedException"


def test_an_explicit_deny_beats_an_allow(users: Users, deploy: Callable[..., str]) -> None:
    open_fn, closed_fn = deploy(), deploy()
    closed_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{closed_fn}"
    arn, keys = users.create(
        inline=document(
            allow("lambda:*"),
            {
                "Effect": "Deny",
                "Action": "lambda:InvokeFunction",
                "Resource": [closed_arn, f"{closed_arn}:*"],
            },
        )
    )
    client = users.client("lambda", keys)
    assert client.invoke(FunctionName=open_fn, Payload=b"{}")["StatusCode"] == 200
    assert client.get_function(FunctionName=closed_fn)["Configuration"]["FunctionName"] == closed_fn
    with pytest.raises(ClientError) as refused:
        client.invoke(FunctionName=closed_fn, Payload=b"{}")
    assert code_of(refused) == (
        403,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: lambda:InvokeFunction on resource: {closed_arn} "
        "with an explicit deny in an identity-based policy",
    )


def test_a_function_policy_can_grant_a_user_invoke(
    users: Users, lambda_client: Any, deploy: Callable[..., str]
) -> None:
    name = deploy()
    arn, keys = users.create()
    client = users.client("lambda", keys)
    with pytest.raises(ClientError):
        client.invoke(FunctionName=name, Payload=b"{}")
    lambda_client.add_permission(
        FunctionName=name, StatementId="user", Action="lambda:InvokeFunction", Principal=arn
    )
    assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200


def test_create_function_needs_pass_role_and_an_assumable_role(
    server: Server, users: Users, lambda_client: Any
) -> None:
    from tests.conftest import ROLE, python_zip

    code = {"ZipFile": python_zip("def handler(e, c):\n    return e\n")}
    base = {"Runtime": "python3.12", "Handler": "app.handler", "Code": code}
    message = "The role defined for the function cannot be assumed by Lambda."
    for role in (
        f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}",
        server.ensure_role(
            unique("ec2-role"),
            document(allow("*")),
            trust=document(
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ),
        ),
    ):
        with pytest.raises(ClientError) as refused:
            lambda_client.create_function(FunctionName=unique(), Role=role, **base)
        assert code_of(refused) == (400, "InvalidParameterValueException", message)
    name = create_function(lambda_client)
    with pytest.raises(ClientError) as updating:
        lambda_client.update_function_configuration(
            FunctionName=name, Role=f"arn:aws:iam::{ACCOUNT}:role/nope"
        )
    assert code_of(updating) == (400, "InvalidParameterValueException", message)

    arn, keys = users.create(inline=document(allow("lambda:*")))
    client = users.client("lambda", keys)
    with pytest.raises(ClientError) as passing:
        client.create_function(FunctionName=unique(), Role=ROLE, **base)
    assert code_of(passing) == (
        403,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: iam:PassRole on resource: {ROLE} "
        "because no identity-based policy allows the iam:PassRole action",
    )
    users.iam.put_user_policy(
        UserName=arn.rsplit("/", 1)[1],
        PolicyName="pass",
        PolicyDocument=document(
            allow(
                "iam:PassRole",
                ROLE,
                Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            )
        ),
    )
    created = client.create_function(FunctionName=unique(), Role=ROLE, **base)
    assert created["Role"] == ROLE


def test_bucket_policy_public_read_lets_anonymous_get_through(s3: Any, server: Server, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="public/page.html", Body=b"<p>hi</p>")
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    url = f"{server.endpoint}/{bucket}/public/page.html"
    denied = raw_request("GET", url)
    assert denied.status == 403 and b"<Code>AccessDenied</Code>" in denied.data
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=document(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ),
    )
    allowed = raw_request("GET", url)
    assert (allowed.status, allowed.data) == (200, b"<p>hi</p>")
    assert raw_request("GET", f"{server.endpoint}/{bucket}/private.txt").status == 403
    listing = raw_request("GET", f"{server.endpoint}/{bucket}?list-type=2")
    assert listing.status == 403 and b"<Message>Access Denied</Message>" in listing.data
    assert raw_request("PUT", f"{server.endpoint}/{bucket}/public/new", body=b"x").status == 403


def test_bucket_policy_deny_applies_even_to_root(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="locked/a", Body=b"a")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=document(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{bucket}/locked/*",
            }
        ),
    )
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key="locked/a")
    assert code_of(refused)[:2] == (403, "AccessDenied")
    assert "with an explicit deny in a resource-based policy" in code_of(refused)[2]
    # The bucket owner can always manage the policy itself (no lockout).
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="locked/a")


def test_s3_user_policies_with_prefix_conditions(users: Users, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="home/alice/notes.txt", Body=b"mine")
    s3.put_object(Bucket=bucket, Key="home/bob/notes.txt", Body=b"his")
    arn, keys = users.create(
        inline=document(
            allow(
                "s3:ListBucket",
                f"arn:aws:s3:::{bucket}",
                Condition={"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
            ),
            allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"),
        )
    )
    user = arn.rsplit("/", 1)[1]
    s3.put_object(Bucket=bucket, Key=f"home/{user}/a.txt", Body=b"a")
    client = users.client("s3", keys)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"home/{user}/")
    assert [o["Key"] for o in listed["Contents"]] == [f"home/{user}/a.txt"]
    client.put_object(Bucket=bucket, Key=f"home/{user}/b.txt", Body=b"b")
    assert client.get_object(Bucket=bucket, Key=f"home/{user}/b.txt")["Body"].read() == b"b"
    with pytest.raises(ClientError) as listing:
        client.list_objects_v2(Bucket=bucket, Prefix="home/bob/")
    assert code_of(listing) == (
        403,
        "AccessDenied",
        f'User: {arn} is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::{bucket}" '
        "because no identity-based policy allows the s3:ListBucket action",
    )
    with pytest.raises(ClientError) as reading:
        client.get_object(Bucket=bucket, Key="home/bob/notes.txt")
    assert code_of(reading)[1] == "AccessDenied"
    with pytest.raises(ClientError) as buckets:
        client.list_buckets()
    assert "s3:ListAllMyBuckets" in code_of(buckets)[2]


def test_logs_and_events_refuse_as_their_services_do(users: Users) -> None:
    arn, keys = users.create(inline=document(allow("logs:Describe*")))
    logs = users.client("logs", keys)
    logs.describe_log_groups()
    with pytest.raises(ClientError) as creating:
        logs.create_log_group(logGroupName="/denied/group")
    assert code_of(creating) == (
        400,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: logs:CreateLogGroup on resource: "
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/denied/group:log-stream: "
        "because no identity-based policy allows the logs:CreateLogGroup action",
    )
    events = users.client("events", keys)
    with pytest.raises(ClientError) as rules:
        events.put_rule(Name="denied", ScheduleExpression="rate(1 hour)")
    assert code_of(rules) == (
        400,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: events:PutRule on resource: "
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/denied "
        "because no identity-based policy allows the events:PutRule action",
    )


def test_s3_notifications_stop_when_the_permission_is_removed(
    server: Server, lambda_client: Any, s3: Any, deploy: Callable[..., str], bucket: str
) -> None:
    name = deploy(
        "def handler(event, context):\n    print('got', event['Records'][0]['s3']['object']['key'])\n"
    )
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="first", Body=b"1")
    wait_for_logs(server, name, lambda lines: any("got first" in line for line in lines))
    lambda_client.remove_permission(FunctionName=name, StatementId="s3")
    s3.put_object(Bucket=bucket, Key="second", Body=b"2")
    s3.put_object(Bucket=bucket, Key="first", Body=b"again")  # a marker that would come after "second"
    time.sleep(1.0)
    lines = wait_for_logs(server, name, lambda lines: True)
    assert not any("got second" in line for line in lines)
    assert sum("got first" in line for line in lines) == 1


def test_iam_is_authorized_too(users: Users) -> None:
    arn, keys = users.create(inline=document(allow("iam:Get*"), allow("iam:List*")))
    iam = users.client("iam", keys)
    iam.list_users()
    with pytest.raises(ClientError) as creating:
        iam.create_user(UserName="mallory")
    assert code_of(creating) == (
        403,
        "AccessDenied",
        f"User: {arn} is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{ACCOUNT}:user/mallory "
        "because no identity-based policy allows the iam:CreateUser action",
    )
    sts = users.client("sts", keys)
    assert sts.get_caller_identity()["Arn"] == arn  # always allowed


def test_an_environment_is_retired_before_its_role_credentials_expire(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="on")
    client = server.client("lambda")
    name = create_function(
        client,
        "import uuid\nimport boto3\nENV = uuid.uuid4().hex\nsts = boto3.client('sts')\n"
        "def handler(event, context):\n    return {'env': ENV, 'arn': sts.get_caller_identity()['Arn']}\n",
    )

    def invoke() -> dict[str, str]:
        result: dict[str, str] = json.loads(client.invoke(FunctionName=name)["Payload"].read())
        return result

    first = invoke()
    assert invoke()["env"] == first["env"]  # warm
    now = json.loads(raw_request("GET", f"{server.endpoint}/_lambdabox/scheduler").data)["now"]
    # The session lasts the role's MaxSessionDuration (1 hour): 30 s before its end it would not outlive
    # an invocation, so the platform starts a new environment with fresh credentials.
    assert (
        raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={now + 3600 - 30}").status
        == 200
    )
    second = invoke()
    assert second["env"] != first["env"]
    assert second["arn"] == first["arn"]  # the same role, a fresh session: its calls still work
    assert invoke()["env"] == second["env"]


def test_conditions_on_resource_and_principal_tags(users: Users, deploy: Callable[..., str]) -> None:
    red, blue = deploy(Tags={"team": "red"}), deploy(Tags={"team": "blue"})
    arn, keys = users.create(
        inline=document(
            allow(
                "lambda:InvokeFunction",
                Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
            )
        )
    )
    users.iam.tag_user(UserName=arn.rsplit("/", 1)[1], Tags=[{"Key": "team", "Value": "red"}])
    client = users.client("lambda", keys)
    assert client.invoke(FunctionName=red, Payload=b"{}")["StatusCode"] == 200
    with pytest.raises(ClientError) as refused:
        client.invoke(FunctionName=blue, Payload=b"{}")
    assert code_of(refused)[1] == "AccessDeniedException"


def test_delete_objects_reports_refused_keys_as_errors(users: Users, s3: Any, bucket: str) -> None:
    for key in ("tmp/a", "keep/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    _, keys = users.create(inline=document(allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/tmp/*")))
    result = users.client("s3", keys).delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/b"}]}
    )
    assert [d["Key"] for d in result["Deleted"]] == ["tmp/a"]
    assert [(e["Key"], e["Code"], e["Message"]) for e in result["Errors"]] == [
        ("keep/b", "AccessDenied", "Access Denied")
    ]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/b"]


def test_conditions_on_existing_object_tags(users: Users, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="classification=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="classification=secret")
    condition = {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}}
    _, keys = users.create(
        inline=document(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*", Condition=condition))
    )
    client = users.client("s3", keys)
    assert client.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    with pytest.raises(ClientError) as refused:
        client.get_object(Bucket=bucket, Key="closed")
    assert code_of(refused)[1] == "AccessDenied"


def test_kms_secrets_and_parameters_are_authorized(users: Users, server: Server) -> None:
    ssm, secrets, kms = server.client("ssm"), server.client("secretsmanager"), server.client("kms")
    prefix = f"/{unique('app')}"
    ssm.put_parameter(Name=f"{prefix}/db-host", Value="db.internal", Type="String")
    ssm.put_parameter(Name=f"{prefix}-other/x", Value="x", Type="String")
    secret = secrets.create_secret(Name=unique("secret"), SecretString="s3cr3t")["ARN"]
    key = kms.create_key()["KeyMetadata"]["Arn"]
    arn, keys = users.create(
        inline=document(allow("ssm:GetParameter", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{prefix}/*"))
    )
    user_ssm = users.client("ssm", keys)
    assert user_ssm.get_parameter(Name=f"{prefix}/db-host")["Parameter"]["Value"] == "db.internal"
    with pytest.raises(ClientError) as other:
        user_ssm.get_parameter(Name=f"{prefix}-other/x")
    assert code_of(other)[:2] == (400, "AccessDeniedException")
    assert (
        f"ssm:GetParameter on resource: arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{prefix}-other/x"
        in code_of(other)[2]
    )
    user_secrets = users.client("secretsmanager", keys)
    with pytest.raises(ClientError) as hidden:
        user_secrets.get_secret_value(SecretId=secret)
    assert code_of(hidden)[:2] == (400, "AccessDeniedException")
    # The secret's own resource policy can grant the user.
    secrets.put_resource_policy(
        SecretId=secret,
        ResourcePolicy=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    assert user_secrets.get_secret_value(SecretId=secret)["SecretString"] == "s3cr3t"
    with pytest.raises(ClientError) as encrypting:
        users.client("kms", keys).encrypt(KeyId=key, Plaintext=b"x")
    assert code_of(encrypting) == (
        400,
        "AccessDeniedException",
        f"User: {arn} is not authorized to perform: kms:Encrypt on resource: {key} "
        "because no identity-based policy allows the kms:Encrypt action",
    )


def test_aws_iam_function_urls_need_invoke_function_url(
    server: Server, users: Users, lambda_client: Any, deploy: Callable[..., str], http: Any
) -> None:
    from tests.signing import sign

    name = deploy("def handler(event, context):\n    return {'statusCode': 200, 'body': 'hi'}\n")
    created = lambda_client.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    url_id = created["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
    host = f"{url_id}.lambda-url.{REGION}.localhost:{server.port}"
    arn, keys = users.create()

    def get() -> Any:
        signed = sign(
            "GET",
            f"http://{host}/",
            service="lambda",
            key=keys["aws_access_key_id"],
            secret=keys["aws_secret_access_key"],
        )
        return http.request("GET", f"{server.endpoint}/", headers={**signed, "Host": host})

    refused = get()
    assert refused.status == 403 and refused.json() == {"Message": "Forbidden"}
    users.iam.put_user_policy(
        UserName=arn.rsplit("/", 1)[1],
        PolicyName="url",
        PolicyDocument=document(
            allow(
                "lambda:InvokeFunctionUrl",
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                Condition={"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            )
        ),
    )
    allowed = get()
    assert (allowed.status, allowed.data) == (200, b"hi")


def test_environments_of_a_function_share_its_role_session(lambda_client: Any, deploy: Any) -> None:
    """Like Lambda, new environments of one function get the same (cached) session of its role."""
    name = deploy(
        "import os, time\n"
        "def handler(event, context):\n"
        "    time.sleep(0.5)\n"
        "    return [os.environ['AWS_ACCESS_KEY_ID'], context.log_stream_name]\n"
    )
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda _: json.loads(lambda_client.invoke(FunctionName=name)["Payload"].read()), range(2)
            )
        )
    assert len({stream for _, stream in results}) == 2  # two environments
    keys = {key for key, _ in results}
    assert len(keys) == 1 and keys.pop().startswith("ASIA")


def test_a_forwarded_for_header_does_not_change_the_source_ip(users: Users) -> None:
    """aws:SourceIp is the address the request came from; a client cannot claim another one with
    X-Forwarded-For (no proxy is trusted)."""
    _, keys = users.create(
        inline=document(
            allow("lambda:ListFunctions", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        )
    )
    client = users.client("lambda", keys)

    def claim_another_address(request: Any, **_: Any) -> None:
        request.headers["X-Forwarded-For"] = "10.1.2.3"
        request.headers["Forwarded"] = "for=10.1.2.3"

    client.meta.events.register("before-sign.lambda.ListFunctions", claim_another_address)
    with pytest.raises(ClientError) as excinfo:
        client.list_functions()
    assert code_of(excinfo)[:2] == (403, "AccessDeniedException")
