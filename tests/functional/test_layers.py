"""Lambda layers through a real server and boto3: the layer API, functions that use layers, /opt."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, Server, aws_error, create_function, make_zip, raw_request, unique
from tests.functional.test_iam_enforcement import Users, allow, document

GREET = "MESSAGE = 'hello from layer {tag}'\n\ndef greet(name):\n    return f'{{MESSAGE}}, {{name}}'\n"
TOOL = "#!/bin/sh\necho tool\n"
HANDLER = """
import os, sys

def handler(event, context):
    result = {"opt_dir": os.environ.get("LAMBDABOX_OPT_DIR"), "path": os.environ["PATH"]}
    try:
        import greet, shared
        result["greet"] = greet.greet("you")
        result["shared"] = shared.VALUE
        result["greet_file"] = greet.__file__
    except ImportError as exc:
        result["import_error"] = str(exc)
    if event.get("read_opt"):
        with open("/opt/python/greet.py") as handle:
            result["opt_source"] = handle.read()
        result["opt_tool"] = os.path.exists("/opt/bin/tool")
        result["opt_listing"] = sorted(os.listdir("/opt"))
    return result
"""


def layer_zip(tag: str, shared: str | None = None) -> bytes:
    files: dict[str, str | bytes] = {"python/greet.py": GREET.format(tag=tag), "bin/tool": TOOL}
    if shared is not None:
        files["python/shared.py"] = f"VALUE = {shared!r}\n"
    return make_zip(files, modes={"bin/tool": 0o755})


def publish(client: Any, name: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = client.publish_layer_version(
        LayerName=name, Content={"ZipFile": content}, **kwargs
    )
    return response


def invoke(client: Any, name: str, event: Any = None, qualifier: str | None = None) -> Any:
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), **extra)
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def mount_namespace(server: Server) -> bool:
    status = raw_request("GET", f"{server.endpoint}/_lambdabox/health").json()["isolation"]
    return status.get("mountNamespace") == "on"


def test_publish_get_and_download(lambda_client: Any, server: Server) -> None:
    name = unique("layer")
    content = layer_zip("one")
    first = publish(
        lambda_client,
        name,
        content,
        Description="greetings",
        CompatibleRuntimes=["python3.12", "python3.13"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    layer_arn = f"arn:aws:lambda:us-east-1:{first['LayerArn'].split(':')[4]}:layer:{name}"
    assert first["LayerArn"] == layer_arn
    assert first["LayerVersionArn"] == f"{layer_arn}:1"
    assert first["Version"] == 1
    assert first["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert first["Content"]["CodeSize"] == len(content)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", first["CreatedDate"])
    assert first["CompatibleRuntimes"] == ["python3.12", "python3.13"]
    assert first["CompatibleArchitectures"] == ["x86_64"]
    assert first["LicenseInfo"] == "MIT"
    assert first["Description"] == "greetings"

    second = publish(lambda_client, layer_arn, layer_zip("two"))  # LayerName may be the layer's ARN
    assert second["Version"] == 2
    assert "CompatibleRuntimes" not in second

    got = lambda_client.get_layer_version(LayerName=name, VersionNumber=1)
    assert {k: got[k] for k in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate")} == {
        k: first[k] for k in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate")
    }
    by_arn = lambda_client.get_layer_version_by_arn(Arn=f"{layer_arn}:2")
    assert by_arn["Version"] == 2
    assert by_arn["Content"]["CodeSha256"] == second["Content"]["CodeSha256"]
    downloaded = raw_request("GET", got["Content"]["Location"])
    assert downloaded.status == 200
    assert downloaded.data == content


def test_list_filters_and_pagination(lambda_client: Any) -> None:
    prefix = unique("list")
    names = [f"{prefix}-a", f"{prefix}-b"]
    publish(lambda_client, names[0], layer_zip("a1"), CompatibleRuntimes=["python3.12"])
    publish(lambda_client, names[0], layer_zip("a2"), CompatibleRuntimes=["python3.11"])
    publish(lambda_client, names[0], layer_zip("a3"), CompatibleArchitectures=["arm64"])
    publish(lambda_client, names[1], layer_zip("b1"), CompatibleRuntimes=["python3.12"])

    versions = lambda_client.list_layer_versions(LayerName=names[0])["LayerVersions"]
    assert [v["Version"] for v in versions] == [3, 2, 1]  # newest first
    assert "Content" not in versions[0]
    only = lambda_client.list_layer_versions(LayerName=names[0], CompatibleRuntime="python3.12")
    assert [v["Version"] for v in only["LayerVersions"]] == [1]
    arm = lambda_client.list_layer_versions(LayerName=names[0], CompatibleArchitecture="arm64")
    assert [v["Version"] for v in arm["LayerVersions"]] == [3]
    page = lambda_client.list_layer_versions(LayerName=names[0], MaxItems=2)
    assert [v["Version"] for v in page["LayerVersions"]] == [3, 2]
    rest = lambda_client.list_layer_versions(LayerName=names[0], MaxItems=2, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1]
    assert "NextMarker" not in rest
    assert lambda_client.list_layer_versions(LayerName=unique("none"))["LayerVersions"] == []

    def ours(**filters: Any) -> dict[str, int]:
        pages = lambda_client.get_paginator("list_layers").paginate(
            **filters, PaginationConfig={"PageSize": 1}
        )
        return {
            layer["LayerName"]: layer["LatestMatchingVersion"]["Version"]
            for page in pages
            for layer in page["Layers"]
            if layer["LayerName"].startswith(prefix)
        }

    assert ours() == {names[0]: 3, names[1]: 1}
    assert ours(CompatibleRuntime="python3.12") == {names[0]: 1, names[1]: 1}
    assert ours(CompatibleRuntime="python3.11") == {names[0]: 2}
    assert ours(CompatibleArchitecture="arm64") == {names[0]: 3}
    with pytest.raises(ClientError) as excinfo:
        lambda_client.list_layers(CompatibleRuntime="cobol42")
    assert aws_error(excinfo)[0] == "ValidationException"


def test_delete_is_idempotent_and_numbers_are_never_reused(lambda_client: Any) -> None:
    name = unique("layer")
    publish(lambda_client, name, layer_zip("1"))
    publish(lambda_client, name, layer_zip("2"))
    response = lambda_client.delete_layer_version(LayerName=name, VersionNumber=2)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert (
        lambda_client.delete_layer_version(LayerName=name, VersionNumber=2)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    assert (
        lambda_client.delete_layer_version(LayerName=name, VersionNumber=99)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_layer_version(LayerName=name, VersionNumber=2)
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    assert publish(lambda_client, name, layer_zip("3"))["Version"] == 3
    lambda_client.delete_layer_version(LayerName=name, VersionNumber=1)
    lambda_client.delete_layer_version(LayerName=name, VersionNumber=3)
    assert lambda_client.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert publish(lambda_client, name, layer_zip("4"))["Version"] == 4


def test_layer_version_permissions(lambda_client: Any) -> None:
    name = unique("layer")
    arn = publish(lambda_client, name, layer_zip("p"))["LayerVersionArn"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        "No policy is associated with the given resource.",
        404,
    )

    added = lambda_client.add_layer_version_permission(
        LayerName=name,
        VersionNumber=1,
        StatementId="xaccount",
        Action="lambda:GetLayerVersion",
        Principal="210987654321",
    )
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
        "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }
    org = lambda_client.add_layer_version_permission(
        LayerName=name,
        VersionNumber=1,
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-t194hfs8cz",
        RevisionId=added["RevisionId"],
    )
    assert json.loads(org["Statement"])["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "o-t194hfs8cz"}
    }
    policy = lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert policy["RevisionId"] == org["RevisionId"]
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == ["xaccount", "org"]

    with pytest.raises(ClientError) as excinfo:
        lambda_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="org", Action="lambda:GetLayerVersion", Principal="*"
        )
    assert aws_error(excinfo)[0::2] == ("ResourceConflictException", 409)
    assert "The statement id (org) provided already exists" in aws_error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.remove_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="xaccount", RevisionId=added["RevisionId"]
        )
    assert aws_error(excinfo)[0::2] == ("PreconditionFailedException", 412)
    with pytest.raises(ClientError) as excinfo:
        lambda_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="bad", Action="lambda:InvokeFunction", Principal="*"
        )
    assert aws_error(excinfo)[0] == "ValidationException"

    removed = lambda_client.remove_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="xaccount"
    )
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        lambda_client.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="xaccount")
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        "Statement xaccount is not found in resource policy.",
        404,
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_layer_version_policy(LayerName=name, VersionNumber=7)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"


def test_layer_errors(lambda_client: Any, deploy: Callable[..., str]) -> None:
    name = unique("layer")
    first = publish(lambda_client, name, layer_zip("1"))["LayerVersionArn"]
    second = publish(lambda_client, name, layer_zip("2"))["LayerVersionArn"]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_layer_version(LayerName=name, VersionNumber=3)
    assert aws_error(excinfo) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )
    with pytest.raises(ClientError) as excinfo:
        lambda_client.get_layer_version(LayerName=unique("missing"), VersionNumber=1)
    assert aws_error(excinfo)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        publish(lambda_client, name, b"not a zip")
    code, message, status = aws_error(excinfo)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Could not unzip uploaded file.")
    with pytest.raises(ClientError) as excinfo:
        publish(lambda_client, name, make_zip({}))
    assert aws_error(excinfo) == (
        "InvalidParameterValueException",
        "Uploaded file must be a non-empty zip",
        400,
    )
    with pytest.raises(ClientError) as excinfo:
        publish(lambda_client, name, layer_zip("x"), CompatibleRuntimes=["python9"])
    assert aws_error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        publish(lambda_client, "bad name!", layer_zip("x"))
    assert aws_error(excinfo)[0] == "ValidationException"

    missing = first.rsplit(":", 1)[0] + ":42"
    cases = [
        ([missing], f"Layer version {missing} does not exist."),
        ([first] * 6, "Cannot reference more than 5 layers."),
        (
            [first, second],
            "Two different versions of the same layer are not allowed to be referenced in the same function. "
            f"{first} and {second} are versions of the same layer.",
        ),
    ]
    for layers, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            deploy(Layers=layers)
        assert aws_error(excinfo) == ("InvalidParameterValueException", expected, 400)
    function = deploy()
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(FunctionName=function, Layers=[missing])
    assert aws_error(excinfo) == (
        "InvalidParameterValueException",
        f"Layer version {missing} does not exist.",
        400,
    )


def test_function_runs_with_its_layers(
    lambda_client: Any, server: Server, deploy: Callable[..., str]
) -> None:
    base = publish(lambda_client, unique("base"), layer_zip("base", shared="base"))
    override = publish(lambda_client, unique("over"), make_zip({"python/shared.py": "VALUE = 'override'\n"}))
    arns = [base["LayerVersionArn"], override["LayerVersionArn"]]
    name = deploy(HANDLER, Layers=arns)
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["Layers"] == [
        {"Arn": base["LayerVersionArn"], "CodeSize": base["Content"]["CodeSize"]},
        {"Arn": override["LayerVersionArn"], "CodeSize": override["Content"]["CodeSize"]},
    ]
    isolated = mount_namespace(server)
    seen = invoke(lambda_client, name, {"read_opt": isolated})
    assert seen["greet"] == "hello from layer base, you"
    assert seen["shared"] == "override"  # the later layer's file replaces the earlier one's
    if isolated:
        assert seen["greet_file"] == "/opt/python/greet.py"
        assert seen["opt_source"] == GREET.format(tag="base")
        assert seen["opt_tool"] is True
        assert seen["opt_listing"] == ["bin", "python"]  # nothing of the host's /opt
        assert seen["opt_dir"] is None
        assert seen["path"].endswith(":/opt/bin")

    # A published version keeps its layers; removing them from $LATEST creates a new revision.
    version = lambda_client.publish_version(FunctionName=name)
    assert [layer["Arn"] for layer in version["Layers"]] == arns
    updated = lambda_client.update_function_configuration(FunctionName=name, Layers=[])
    assert "Layers" not in updated
    assert updated["RevisionId"] != config["RevisionId"]
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert "import_error" in invoke(lambda_client, name)
    assert invoke(lambda_client, name, qualifier=version["Version"])["shared"] == "override"

    lambda_client.update_function_configuration(FunctionName=name, Layers=[base["LayerVersionArn"]])
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert invoke(lambda_client, name)["shared"] == "base"


def test_empty_opt_when_isolated(lambda_client: Any, server: Server, deploy: Callable[..., str]) -> None:
    if not mount_namespace(server):
        pytest.skip("needs a mount namespace")
    name = deploy("import os\n\ndef handler(event, context):\n    return os.listdir('/opt')\n")
    assert invoke(lambda_client, name) == []


def test_function_keeps_a_deleted_layer_version(lambda_client: Any, deploy: Callable[..., str]) -> None:
    layer = unique("layer")
    arn = publish(lambda_client, layer, layer_zip("kept", shared="kept"))["LayerVersionArn"]
    name = deploy(HANDLER, Layers=[arn])
    lambda_client.delete_layer_version(LayerName=layer, VersionNumber=1)
    lambda_client.update_function_configuration(FunctionName=name, MemorySize=256)  # a cold start next
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    assert invoke(lambda_client, name)["greet"] == "hello from layer kept, you"
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in config["Layers"]] == [arn]
    with pytest.raises(ClientError) as excinfo:
        lambda_client.update_function_configuration(FunctionName=name, Layers=[arn])
    assert aws_error(excinfo)[1] == f"Layer version {arn} does not exist."


def test_layers_survive_a_restart(server_factory: Callable[..., Server]) -> None:
    own = server_factory()
    client = own.client("lambda")
    layer = unique("layer")
    arn = publish(client, layer, layer_zip("durable", shared="durable"))["LayerVersionArn"]
    name = create_function(client, HANDLER, Layers=[arn])
    own.stop()
    own.start()
    client = own.client("lambda")
    assert client.get_layer_version(LayerName=layer, VersionNumber=1)["LayerVersionArn"] == arn
    assert invoke(client, name)["greet"] == "hello from layer durable, you"
    assert publish(client, layer, layer_zip("again"))["Version"] == 2


def test_layers_without_isolation(server_factory: Callable[..., Server]) -> None:
    own = server_factory(LAMBDABOX_ISOLATION="off")
    client = own.client("lambda")
    arn = publish(client, unique("layer"), layer_zip("plain", shared="plain"))["LayerVersionArn"]
    name = create_function(client, HANDLER, Layers=[arn])
    seen = invoke(client, name)
    assert seen["greet"] == "hello from layer plain, you"
    assert seen["opt_dir"] and seen["greet_file"] == f"{seen['opt_dir']}/python/greet.py"
    assert seen["path"].endswith(f":{seen['opt_dir']}/bin")


def test_iam_authorizes_layer_operations(server: Server, lambda_client: Any) -> None:
    layer = unique("layer")
    first = publish(lambda_client, layer, layer_zip("1"))
    second = publish(lambda_client, layer, layer_zip("2"))
    users = Users(server)
    _, keys = users.create(
        inline=document(
            allow("lambda:GetLayerVersion", first["LayerVersionArn"]),
            allow(["lambda:CreateFunction", "lambda:ListLayerVersions", "iam:PassRole"]),
        )
    )
    client = users.client("lambda", keys)
    assert client.get_layer_version(LayerName=layer, VersionNumber=1)["Version"] == 1
    assert len(client.list_layer_versions(LayerName=layer)["LayerVersions"]) == 2
    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version_by_arn(Arn=second["LayerVersionArn"])
    assert aws_error(excinfo)[0::2] == ("AccessDeniedException", 403)
    assert f"lambda:GetLayerVersion on resource: {second['LayerVersionArn']}" in aws_error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        publish(client, layer, layer_zip("3"))
    assert f"lambda:PublishLayerVersion on resource: {first['LayerArn']}" in aws_error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:  # using a layer version needs GetLayerVersion on it
        create_function(client, role=ROLE, Layers=[second["LayerVersionArn"]])
    assert f"lambda:GetLayerVersion on resource: {second['LayerVersionArn']}" in aws_error(excinfo)[1]


def test_publish_from_s3(lambda_client: Any, s3: Any, bucket: str) -> None:
    content = layer_zip("s3")
    s3.put_object(Bucket=bucket, Key="layers/greet.zip", Body=content)
    published = lambda_client.publish_layer_version(
        LayerName=unique("layer"), Content={"S3Bucket": bucket, "S3Key": "layers/greet.zip"}
    )
    assert published["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert raw_request("GET", published["Content"]["Location"]).data == content
    with pytest.raises(ClientError) as excinfo:
        lambda_client.publish_layer_version(
            LayerName=unique("layer"), Content={"S3Bucket": bucket, "S3Key": "missing.zip"}
        )
    assert aws_error(excinfo)[0] == "InvalidParameterValueException"


def test_snapstart_versions_keep_their_layers(lambda_client: Any, server: Server) -> None:
    arn = publish(lambda_client, unique("layer"), layer_zip("snap", shared="snap"))["LayerVersionArn"]
    name = create_function(lambda_client, HANDLER, Layers=[arn], SnapStart={"ApplyOn": "PublishedVersions"})
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.get_waiter("function_active_v2").wait(
        FunctionName=f"{name}:{version}", WaiterConfig={"Delay": 1}
    )
    isolated = mount_namespace(server)
    seen = invoke(lambda_client, name, {"read_opt": isolated}, qualifier=version)  # a restored copy
    assert seen["greet"] == "hello from layer snap, you"
    if isolated:
        assert seen["opt_source"] == GREET.format(tag="snap")


def test_a_custom_runtime_bootstrap_from_a_layer(lambda_client: Any, deploy: Callable[..., str]) -> None:
    """provided.* runtimes find their bootstrap in /opt when the function's code has none (a runtime
    shipped as a layer), and the function's own bootstrap wins when it has one."""
    from tests.functional.test_lambda_invoke import SHELL_BOOTSTRAP

    runtime = make_zip({"bootstrap": SHELL_BOOTSTRAP}, modes={"bootstrap": 0o755})
    layer = publish(lambda_client, unique("runtime"), runtime)["LayerVersionArn"]
    name = deploy(
        zip_file=make_zip({"function.sh": "echo unused\n"}),
        runtime="provided.al2023",
        handler="function.handler",
        Layers=[layer],
    )
    assert invoke(lambda_client, name, {"n": 1}) == {"echo": {"n": 1}, "handler": "function.handler"}
    # Neither: the invocation fails as on AWS (a function error, not an API error), and says so in the log.
    without = deploy(zip_file=make_zip({"function.sh": "echo unused\n"}), runtime="provided.al2023")
    response = lambda_client.invoke(FunctionName=without, Payload=b"{}", LogType="Tail")
    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert error["errorMessage"].startswith("RequestId: ")
    assert "Error: Couldn't find valid bootstrap(s): [" in error["errorMessage"]
    assert error["errorMessage"].endswith("/bootstrap /opt/bootstrap]")
    tail = base64.b64decode(response["LogResult"]).decode().splitlines()
    assert tail[0].startswith("START RequestId: ") and tail[-1].startswith("REPORT RequestId: ")
    assert tail[-3] == "Runtime.InvalidEntrypoint" and tail[-4].startswith("RequestId: ")


def test_packages_nobody_uses_leave_the_code_store_at_start(server_factory: Callable[..., Server]) -> None:
    """Replaced code, deleted functions and deleted layer versions nobody uses do not pile up: the code
    store keeps what function versions and layer versions use, and drops the rest when the server starts."""
    own = server_factory()
    client = own.client("lambda")
    layer = unique("layer")
    used = publish(client, layer, layer_zip("used", shared="used"))["LayerVersionArn"]
    publish(client, layer, layer_zip("unused"))
    name = create_function(client, HANDLER, Layers=[used])
    client.delete_layer_version(LayerName=layer, VersionNumber=1)  # still used by the function
    client.delete_layer_version(LayerName=layer, VersionNumber=2)  # used by nobody
    replaced = create_function(client, "def handler(event, context):\n    return 'first'\n")
    client.publish_version(FunctionName=replaced)  # version 1 keeps the first code
    client.update_function_code(
        FunctionName=replaced,
        ZipFile=make_zip({"app.py": "def handler(event, context):\n    return 'second'\n"}),
    )
    client.get_waiter("function_updated_v2").wait(FunctionName=replaced)
    gone = create_function(client, "def handler(event, context):\n    return 'gone'\n")
    client.delete_function(FunctionName=gone)
    code = own.data_dir / "code"
    before = {entry.name for entry in code.iterdir()}
    own.stop()
    own.start()
    after = {entry.name for entry in code.iterdir()}
    packages = {entry.removesuffix(".zip") for entry in after if not entry.startswith("opt-")}
    # Left: the function with its layer (code, the layer's package, their /opt), both codes of the other
    # function (version 1 and $LATEST), and the empty /opt.
    assert len(packages) == 4, sorted(after)
    assert len(after) < len(before), (sorted(before), sorted(after))
    client = own.client("lambda")
    assert invoke(client, name)["greet"] == "hello from layer used, you"
    assert json.loads(client.invoke(FunctionName=replaced)["Payload"].read()) == "second"
    assert json.loads(client.invoke(FunctionName=replaced, Qualifier="1")["Payload"].read()) == "first"


def test_packages_nobody_uses_leave_while_the_server_runs(server_factory: Callable[..., Server]) -> None:
    """A long-running server does not keep replaced code until its next start: a pass every
    LAMBDABOX_CODE_GC_INTERVAL seconds removes it, but not while an invocation still runs on it."""
    import threading
    import time

    own = server_factory(LAMBDABOX_CODE_GC_INTERVAL="0.5")
    client = own.client("lambda")
    source = (
        "import time\n\n\ndef handler(event, context):\n    time.sleep(event['sleep'])\n"
        "    import late  # read from the task root only now\n    return late.WORD\n"
    )
    first = make_zip({"app.py": source, "late.py": "WORD = 'first'\n"})
    name = create_function(client, zip_file=first, Timeout=30)
    old = own.data_dir / "code" / hashlib.sha256(first).hexdigest()
    answers: list[Any] = []

    def run() -> None:
        try:
            answers.append(invoke(own.client("lambda"), name, {"sleep": 3}))
        except BaseException as error:  # shown by the assertion below
            answers.append(error)

    running = threading.Thread(target=run)
    running.start()
    time.sleep(0.5)  # the invocation is running on the first code
    client.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": source, "late.py": "WORD = 'second'\n"})
    )
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    time.sleep(1.5)  # passes go by: the first code is in use
    assert old.is_dir() and old.with_name(old.name + ".zip").is_file()
    running.join(timeout=30)
    assert answers == ["first"]
    deadline = time.monotonic() + 15
    while old.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not old.exists() and not old.with_name(old.name + ".zip").exists()
    assert invoke(own.client("lambda"), name, {"sleep": 0}) == "second"
