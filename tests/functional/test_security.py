"""The security promises of docs/security.md, end to end with real servers, clients and files.

Requests refused on every service (unsigned, tampered, wrong secret, expired, wrong region, unknown key)
with each service's codes; secrets readable exactly where a role allows; no secret value, SecureString,
secret access key, session secret or encrypted environment variable anywhere under the data dir or in the
server log; the master key (file 0600 or environment, a wrong one refused, rotation by the CLI); least
privilege inside functions; services invoke functions only as resource policies or roles allow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY, Server, create_function, raw_request, unique
from tests.signing import sign

ACCOUNT = "000000000000"
JSON = "application/x-amz-json-1.1"
FORM = "application/x-www-form-urlencoded"
UNKNOWN_KEY = "LKIAUNKNOWNUNKNOWN00"


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def invoke(client: Any, name: str, event: Any = None) -> Any:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    return json.loads(response["Payload"].read())


def code_of(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


# -- acceptance 1: refused on every service, with its codes -------------------------------------------
# (service, method, path, headers, body, body after tampering)
CALLS: dict[str, tuple[str, str, dict[str, str], bytes, bytes]] = {
    "lambda": ("GET", "/2015-03-31/functions/", {}, b"", b""),
    "s3": ("GET", "/", {}, b"", b""),
    "logs": ("POST", "/", {"Content-Type": JSON, "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}, b"{}",
             b'{"limit": 1}'),
    "events": ("POST", "/", {"Content-Type": JSON, "X-Amz-Target": "AWSEvents.ListRules"}, b"{}", b'{"Limit": 1}'),
    "scheduler": ("GET", "/schedules", {}, b"", b""),
    "iam": ("POST", "/", {"Content-Type": FORM}, b"Action=ListUsers&Version=2010-05-08",
            b"Action=ListRoles&Version=2010-05-08"),
    "sts": ("POST", "/", {"Content-Type": FORM}, b"Action=GetCallerIdentity&Version=2011-06-15",
            b"Action=GetSessionToken&Version=2011-06-15"),
    "kms": ("POST", "/", {"Content-Type": JSON, "X-Amz-Target": "TrentService.ListKeys"}, b"{}", b'{"Limit": 1}'),
    "secretsmanager": ("POST", "/", {"Content-Type": JSON, "X-Amz-Target": "secretsmanager.ListSecrets"}, b"{}",
                       b'{"MaxResults": 1}'),
    "ssm": ("POST", "/", {"Content-Type": JSON, "X-Amz-Target": "AmazonSSM.DescribeParameters"}, b"{}",
            b'{"MaxResults": 1}'),
    "apigateway": ("GET", "/restapis", {}, b"", b""),
}  # fmt: skip

# What each protocol family answers: (status, code) per case.
_JSON = {
    "unsigned": "MissingAuthenticationTokenException",
    "tampered": "InvalidSignatureException",
    "wrong-secret": "InvalidSignatureException",
    "expired": "InvalidSignatureException",
    "wrong-region": "InvalidSignatureException",
    "unknown-key": "UnrecognizedClientException",
}
_QUERY = {
    "unsigned": "MissingAuthenticationToken",
    "tampered": "SignatureDoesNotMatch",
    "wrong-secret": "SignatureDoesNotMatch",
    "expired": "SignatureDoesNotMatch",
    "wrong-region": "SignatureDoesNotMatch",
    "unknown-key": "InvalidClientTokenId",
}
_S3 = {
    "unsigned": (403, "AccessDenied"),
    "tampered": (403, "SignatureDoesNotMatch"),
    "wrong-secret": (403, "SignatureDoesNotMatch"),
    "expired": (403, "RequestTimeTooSkewed"),
    "wrong-region": (400, "AuthorizationHeaderMalformed"),
    "unknown-key": (403, "InvalidAccessKeyId"),
}
# Messages AWS words the same on every service (the S3 ones are checked in test_auth.py).
MESSAGES = {
    "expired": "Signature expired: ",
    "wrong-region": "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    "unknown-key": "The security token included in the request is invalid.",
}


def expected(service: str, case: str) -> tuple[int, str]:
    if service == "s3":
        return _S3[case]
    if service in ("iam", "sts"):
        return 403, _QUERY[case]
    status = 403 if service in ("lambda", "scheduler", "apigateway") else 400  # rest-json vs Coral json
    return status, _JSON[case]


def error_of(response: urllib3.BaseHTTPResponse) -> tuple[int, str, str]:
    text = response.data.decode()
    if text.startswith("<"):  # S3's <Error>, or the query protocol's <ErrorResponse><Error>
        root = ElementTree.fromstring(text)
        return response.status, root.findtext(".//{*}Code") or "", root.findtext(".//{*}Message") or ""
    body = json.loads(text)
    code = (response.headers.get("x-amzn-ErrorType") or body.get("__type", "")).split(":")[0]
    return response.status, code, body.get("message") or body.get("Message", "")


SIGNED_CASES = {
    "tampered": {},
    "wrong-secret": {"secret": "not-the-secret"},
    "expired": {"at": datetime.now(UTC) - timedelta(minutes=16)},
    "wrong-region": {"region": "eu-west-1"},
    "unknown-key": {"key": UNKNOWN_KEY},
}


@pytest.mark.parametrize("case", [*SIGNED_CASES, "unsigned"])
@pytest.mark.parametrize("service", list(CALLS))
def test_refused_on_every_service_with_its_codes(server: Server, service: str, case: str) -> None:
    method, path, headers, body, tampered_body = CALLS[service]
    url = server.endpoint + path
    if case == "unsigned":
        response = raw_request(method, url, body=body, headers=headers)
        if service in ("scheduler", "apigateway"):
            # Nothing in an unsigned request names these services on the shared port (`/schedules` could
            # be a bucket): S3, the default service, refuses it. Refused all the same, never served.
            assert error_of(response)[:2] == (403, "AccessDenied")
            return
        if service in ("iam", "sts"):
            assert error_of(response) == (
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
            query = {
                "iam": "Action=ListUsers&Version=2010-05-08",
                "sts": "Action=GetCallerIdentity&Version=2011-06-15",
            }
            response = raw_request("GET", f"{url}?{query[service]}")  # the GET form, too
            assert error_of(response)[:2] == (403, "MissingAuthenticationToken")
            return
    else:
        signed = sign(method, url, service=service, body=body, headers=headers, **SIGNED_CASES[case])
        if case == "tampered":  # the request changed after it was signed
            url, body = (url + "?MaxItems=1", body) if method == "GET" else (url, tampered_body)
        response = raw_request(method, url, body=body, headers=signed)
    status, code, message = error_of(response)
    assert (status, code) == expected(service, case), message
    if case in MESSAGES and service != "s3":
        assert message.startswith(MESSAGES[case])
    if case == "unsigned" and service != "s3":
        assert message == "Missing Authentication Token"


def test_signed_requests_pass_on_every_service(server: Server) -> None:
    """The control for the table above: the same requests, correctly signed, are served."""
    for service, (method, path, headers, body, _) in CALLS.items():
        url = server.endpoint + path
        response = raw_request(method, url, body=body, headers=sign(method, url, service=service, body=body,
                                                                     headers=headers))  # fmt: skip
        assert response.status == 200, (service, response.data[:300])


# -- acceptance 5: secrets where roles allow them, and nowhere at rest ------------------------------------
READER = """
import hashlib, os
import boto3


def handler(event, context):
    digest = lambda text: hashlib.sha256(text.encode()).hexdigest()
    out = {
        "password": digest(os.environ.get("DB_PASSWORD", "")),
        "key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "root_secret": digest(os.environ["AWS_SECRET_ACCESS_KEY"]),
        "token": bool(os.environ.get("AWS_SESSION_TOKEN")),
    }
    try:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=event["secret"])["SecretString"]
        out["secret"] = digest(value)
    except Exception as error:
        out["error"] = getattr(error, "response", {}).get("Error", {}).get("Code", repr(error))
    try:
        param = boto3.client("ssm").get_parameter(Name=event["parameter"], WithDecryption=True)
        out["parameter"] = digest(param["Parameter"]["Value"])
    except Exception as error:
        out["parameter_error"] = getattr(error, "response", {}).get("Error", {}).get("Code", repr(error))
    return out
"""


def files_under(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file() and not path.is_symlink()}


def leaks(server: Server, secrets: dict[str, str]) -> list[str]:
    """Which secrets appear, byte for byte (or base64-encoded), in a file under the data dir or the log."""
    found = []
    blobs = {**files_under(server.data_dir), Path("server log"): server.log().encode()}
    for what, value in secrets.items():
        forms = (value.encode(), base64.b64encode(value.encode()))
        for path, data in blobs.items():
            if any(form in data for form in forms):
                found.append(f"{what} in {path}")
    return found


def test_secrets_follow_roles_and_never_rest_in_plaintext(server_factory: Callable[..., Server]) -> None:
    server = server_factory()
    lam, iam, kms = server.client("lambda"), server.client("iam"), server.client("kms")
    secrets_manager, ssm = server.client("secretsmanager"), server.client("ssm")
    secret_value = "s3cr3t-" + os.urandom(12).hex()
    parameter_value = "secure-" + os.urandom(12).hex()
    password = "env-" + os.urandom(12).hex()
    secret_arn = secrets_manager.create_secret(Name=unique("db"), SecretString=secret_value)["ARN"]
    parameter = "/" + unique("app") + "/password"
    ssm.put_parameter(Name=parameter, Value=parameter_value, Type="SecureString")
    parameter_arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{parameter}"
    # An IAM user's access key, and a session of that user's (its secret key and token).
    user = unique("user")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=document(allow("sts:*")))
    access_key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=access_key["AccessKeyId"],
        aws_secret_access_key=access_key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    server.clients.append(sts)
    session = sts.get_session_token()["Credentials"]
    # A function whose role may read the secret and the parameter, one whose role may not; both have an
    # environment variable encrypted with a customer managed key.
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    allowed_role = server.ensure_role(
        unique("reader"),
        document(
            allow("secretsmanager:GetSecretValue", secret_arn),
            allow("ssm:GetParameter", parameter_arn),
            allow("kms:Decrypt", "*"),
        ),
    )
    denied_role = server.ensure_role(unique("no-reader"), document(allow("logs:*")))
    variables = {"Environment": {"Variables": {"DB_PASSWORD": password}}, "KMSKeyArn": key_arn, "Timeout": 30}
    allowed = create_function(lam, READER, role=allowed_role, **variables)
    denied = create_function(lam, READER, role=denied_role, **variables)
    event = {"secret": secret_arn, "parameter": parameter}

    got = invoke(lam, allowed, event)
    assert (got.get("secret"), got.get("parameter"), got.get("password")) == (
        sha(secret_value),
        sha(parameter_value),
        sha(password),
    ), got
    # Acceptance 4: temporary credentials of the role, with a session token, never the root keys.
    assert got["key_id"].startswith("ASIA") and got["token"] and got["root_secret"] != sha(SECRET_KEY)
    refused = invoke(lam, denied, event)
    assert (refused.get("error"), refused.get("parameter_error")) == (
        "AccessDeniedException",
        "AccessDeniedException",
    )
    assert "secret" not in refused and refused["password"] == sha(password)
    assert lam.get_function_configuration(FunctionName=allowed)["Environment"]["Variables"] == {
        "DB_PASSWORD": password
    }

    secrets = {
        "secret value": secret_value,
        "SecureString value": parameter_value,
        "encrypted environment variable": password,
        "IAM secret access key": access_key["SecretAccessKey"],
        "STS session secret key": session["SecretAccessKey"],
        "STS session token": session["SessionToken"],
    }
    assert leaks(server, secrets) == []  # while running (the WAL included)
    server.stop()
    assert leaks(server, secrets) == []  # and once the database is checkpointed
    master = server.data_dir / "master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert base64.b64decode(master.read_text()) not in (server.data_dir / "lambdabox.db").read_bytes()


# -- the master key -----------------------------------------------------------------------------------
def lambdabox(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdabox", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_master_key_from_the_environment_and_a_wrong_key_refused(
    server_factory: Callable[..., Server],
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    server = server_factory(LAMBDABOX_MASTER_KEY=key)
    secrets_manager = server.client("secretsmanager")
    name = unique("env-key")
    secrets_manager.create_secret(Name=name, SecretString="kept under the environment's key")
    assert not (server.data_dir / "master.key").exists()
    server.stop()
    env = server.env()
    env["LAMBDABOX_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    wrong = lambdabox("up", "--port", str(server.port), "--data-dir", str(server.data_dir), env=env)
    assert wrong.returncode == 1
    assert "the data dir was sealed with master key" in wrong.stderr
    assert env["LAMBDABOX_MASTER_KEY"] not in wrong.stderr and key not in wrong.stderr
    env["LAMBDABOX_MASTER_KEY"] = "too-short"
    assert "is not base64" in lambdabox("up", "--data-dir", str(server.data_dir), env=env).stderr
    server.start()
    server.close_clients()
    assert server.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == (
        "kept under the environment's key"
    )


def test_rotate_master_key(server_factory: Callable[..., Server]) -> None:
    server = server_factory()
    iam, secrets_manager = server.client("iam"), server.client("secretsmanager")
    name = unique("rotated")
    secrets_manager.create_secret(Name=name, SecretString="survives rotation")
    user = unique("user")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=document(allow("sts:*")))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    env = server.env()
    busy = lambdabox("rotate-master-key", "--data-dir", str(server.data_dir), env=env)
    assert (busy.returncode, "stop the server first" in busy.stderr) == (1, True), busy.stderr
    before = (server.data_dir / "master.key").read_text()
    server.stop()
    rotated = lambdabox("rotate-master-key", "--data-dir", str(server.data_dir), env=env)
    assert rotated.returncode == 0, rotated.stderr
    assert "Re-sealed" in rotated.stderr and rotated.stdout == ""
    after = server.data_dir / "master.key"
    assert after.read_text() != before and stat.S_IMODE(after.stat().st_mode) == 0o600
    server.start()
    server.close_clients()
    assert (
        server.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"] == "survives rotation"
    )
    sts = boto3.client(
        "sts",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{user}")
    sts.close()


def test_rotate_root_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMBDABOX_", "AWS_"))}
    data_dir = tmp_path / "data"
    first = lambdabox("credentials", "--data-dir", str(data_dir), "--rotate", env=env)
    assert first.returncode == 0, first.stderr
    path = data_dir / "credentials.json"
    stored = json.loads(path.read_text())
    assert f"export AWS_SECRET_ACCESS_KEY={stored['secret_access_key']}" in first.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = lambdabox("credentials", "--data-dir", str(data_dir), "--rotate", env=env)
    assert json.loads(path.read_text())["access_key_id"] != stored["access_key_id"]
    assert "restart the server" in second.stderr
    env.update(LAMBDABOX_ROOT_ACCESS_KEY_ID=ACCESS_KEY, LAMBDABOX_ROOT_SECRET_ACCESS_KEY=SECRET_KEY)
    from_env = lambdabox("credentials", "--data-dir", str(data_dir), "--rotate", env=env)
    assert from_env.returncode == 1 and "LAMBDABOX_ROOT_ACCESS_KEY_ID" in from_env.stderr


# -- acceptance 2 and 3: least privilege ------------------------------------------------------------------
COPIER = """
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    results = {}
    try:
        body = s3.get_object(Bucket=event["source"], Key="doc.txt")["Body"].read()
        s3.put_object(Bucket=event["destination"], Key="doc.txt", Body=body)
        results["copy"] = "ok"
    except Exception as error:
        results["copy"] = error.response["Error"]["Code"]
    try:
        s3.list_buckets()
        results["list"] = "ok"
    except Exception as error:
        results["list"] = error.response["Error"]["Code"]
    return results
"""


def test_the_copy_role_copies_but_cannot_list_buckets(server: Server) -> None:
    lam, s3 = server.client("lambda"), server.client("s3")
    source, destination = unique("src"), unique("dst")
    for bucket in (source, destination):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=source, Key="doc.txt", Body=b"copy me")
    get = allow("s3:GetObject", f"arn:aws:s3:::{source}/*")
    put = allow("s3:PutObject", f"arn:aws:s3:::{destination}/*")
    copier = create_function(
        lam, COPIER, role=server.ensure_role(unique("copy"), document(get, put)), Timeout=30
    )
    reader = create_function(lam, COPIER, role=server.ensure_role(unique("get"), document(get)), Timeout=30)
    event = {"source": source, "destination": destination}
    assert invoke(lam, copier, event) == {"copy": "ok", "list": "AccessDenied"}
    assert s3.get_object(Bucket=destination, Key="doc.txt")["Body"].read() == b"copy me"
    assert invoke(lam, reader, event) == {"copy": "AccessDenied", "list": "AccessDenied"}


def test_a_user_allowed_to_invoke_one_function_can_do_nothing_else(server: Server) -> None:
    lam, iam = server.client("lambda"), server.client("iam")
    mine, other = create_function(lam), create_function(lam)
    user = unique("invoker")
    iam.create_user(UserName=user)
    mine_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{mine}"
    iam.put_user_policy(
        UserName=user, PolicyName="one", PolicyDocument=document(allow("lambda:InvokeFunction", mine_arn))
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = boto3.client(
        "lambda",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    server.clients.append(client)
    assert invoke(client, mine, {"hello": 1}) == {"hello": 1}
    denied = (403, "AccessDeniedException")
    assert code_of(lambda: client.invoke(FunctionName=other, Payload=b"{}")) == denied
    assert code_of(lambda: client.invoke(FunctionName=mine, Qualifier="$LATEST", Payload=b"{}")) == denied
    assert code_of(lambda: client.get_function(FunctionName=mine)) == denied
    assert code_of(lambda: client.list_functions()) == denied
    assert code_of(lambda: client.delete_function(FunctionName=mine)) == denied
    s3 = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    server.clients.append(s3)
    assert code_of(lambda: s3.list_buckets()) == (403, "AccessDenied")


# -- acceptance 6: schedules invoke only what the function's policy (or the schedule's role) allows -----
# (S3 notifications and event-pattern rules: test_iam_enforcement.py and test_events_delivery.py.)
RECORDER = "def handler(event, context):\n    print('INVOKED')\n"
SCHEDULER_TRUST = document(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "scheduler.amazonaws.com"}}
)


def test_schedules_cannot_invoke_a_function_they_are_not_allowed_to(
    server_factory: Callable[..., Server],
) -> None:
    server = server_factory(LAMBDABOX_TEST_HOOKS="1")
    lam, events, scheduler, iam = (server.client(s) for s in ("lambda", "events", "scheduler", "iam"))
    name = create_function(lam, RECORDER)
    target = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    state = raw_request("GET", f"{server.endpoint}/_lambdabox/scheduler").json()
    minute = math.floor(state["now"] / 60 + 1) * 60
    raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={minute + 5}")
    # An EventBridge rule: the function's resource policy must allow events.amazonaws.com for this rule.
    rule = unique("every")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": target}])
    # An EventBridge Scheduler schedule: as on AWS, its execution role must allow lambda:InvokeFunction.
    role_name = unique("sched")
    role = server.ensure_role(role_name, document(allow("logs:*")), trust=SCHEDULER_TRUST)
    schedule_arn = scheduler.create_schedule(
        Name=unique("every"),
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": role, "RetryPolicy": {"MaximumRetryAttempts": 0}},
    )["ScheduleArn"]

    def fire(now: float) -> dict[str, list[int]]:
        response = raw_request("POST", f"{server.endpoint}/_lambdabox/scheduler/tick?now={now}")
        fired = response.json()["fired"]
        return {arn: [f["delivered"] for f in fired if f["rule"] == arn] for arn in (rule_arn, schedule_arn)}

    assert fire(minute + 70) == {rule_arn: [0], schedule_arn: [0]}  # neither is allowed
    other = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/another-rule"
    lam.add_permission(FunctionName=name, StatementId="other", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=other)  # fmt: skip
    # A statement for another rule does not count; a schedule needs its role's permission, not this.
    lam.add_permission(FunctionName=name, StatementId="sched", Action="lambda:InvokeFunction",
                       Principal="scheduler.amazonaws.com")  # fmt: skip
    assert fire(minute + 130) == {rule_arn: [0], schedule_arn: [0]}
    lam.add_permission(FunctionName=name, StatementId="this", Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=rule_arn)  # fmt: skip
    iam.put_role_policy(RoleName=role_name, PolicyName="invoke",
                        PolicyDocument=document(allow("lambda:InvokeFunction", [target, f"{target}:*"])))  # fmt: skip
    assert fire(minute + 190) == {rule_arn: [1], schedule_arn: [1]}
