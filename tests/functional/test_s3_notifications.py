"""Bucket notifications to Lambda: configuration rules as S3 applies them, the event records, and the
bucket-copy tutorial end to end (boto3 and the `aws` CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, unique

AWS = Path(sys.executable).parent / "aws"
ACCOUNT = "000000000000"

# The tutorial's function, as a user would write it.
COPY_FUNCTION = """
import os
import urllib.parse

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    bucket = event["Records"][0]["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"], encoding="utf-8")
    response = s3.get_object(Bucket=bucket, Key=key)
    s3.put_object(
        Bucket=os.environ["DESTINATION"],
        Key=key,
        Body=response["Body"].read(),
        ContentType=response["ContentType"],
    )
    return {"copied": key}
"""

# Writes each event it receives into a sink bucket, so the test can read it back.
RECORDER = """
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    s3.put_object(Bucket=os.environ["SINK"], Key=context.aws_request_id, Body=json.dumps(event))
"""


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def allow_s3(lambda_client: Any, name: str, bucket: str, **extra: str) -> None:
    lambda_client.add_permission(
        FunctionName=name,
        StatementId=unique("s3"),
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        **extra,
    )


def lambda_config(name: str, events: list[str], **filters: str) -> dict[str, Any]:
    config: dict[str, Any] = {"LambdaFunctionArn": function_arn(name), "Events": events}
    if filters:
        rules = [{"Name": k, "Value": v} for k, v in filters.items()]
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return dict(excinfo.value.response["Error"])


def test_configuration_round_trip_with_ids_and_capitalized_filter_names(
    s3: Any, lambda_client: Any, deploy: Any
) -> None:
    name = deploy()
    bucket = unique("notify")
    s3.create_bucket(Bucket=bucket)
    allow_s3(lambda_client, name, bucket)
    configs = [
        {**lambda_config(name, ["s3:ObjectCreated:*"], prefix="in/", suffix=".jpg"), "Id": "images"},
        lambda_config(name, ["s3:ObjectRemoved:Delete"]),
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
    )
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert got[0] == {
        "Id": "images",
        "LambdaFunctionArn": function_arn(name),
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {
            "Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".jpg"}]}
        },
    }
    assert got[1]["Id"]  # generated when the request has none
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_destination_that_cannot_be_validated_is_refused(s3: Any, lambda_client: Any, deploy: Any) -> None:
    bucket = unique("notify")
    s3.create_bucket(Bucket=bucket)
    name = deploy()
    missing = function_arn(unique("missing"))
    for arn in (missing, function_arn(name)):  # no such function / no permission for S3
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={
                    "LambdaFunctionConfigurations": [
                        {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
                    ]
                },
            )
        assert error_of(excinfo) == {
            "Code": "InvalidArgument",
            "Message": "Unable to validate the following destination configurations",
            "ArgumentName1": f"{arn}, null",
            "ArgumentValue1": f"Not authorized to invoke function [{arn}]",
            "Resource": f"/{bucket}",
        }
    # a statement for another bucket does not count
    allow_s3(lambda_client, name, "some-other-bucket")
    with pytest.raises(ClientError):
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [lambda_config(name, ["s3:ObjectCreated:*"])]
            },
        )
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
    assert error_of(excinfo)["ArgumentValue1"] == "The destination queue does not exist"
    # skipping validation stores it (it cannot deliver until queues exist)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]
        },
        SkipDestinationValidation=True,
    )
    assert (
        s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["QueueArn"] == queue
    )


def test_invalid_configurations_are_refused_as_s3_does(s3: Any, lambda_client: Any, deploy: Any) -> None:
    name = deploy()
    bucket = unique("notify")
    s3.create_bucket(Bucket=bucket)
    allow_s3(lambda_client, name, bucket)

    def refused(*configs: dict[str, Any]) -> dict[str, Any]:
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": list(configs)}
            )
        return error_of(excinfo)

    overlap = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    assert (
        refused(
            lambda_config(name, ["s3:ObjectCreated:*"], prefix="a/"),
            lambda_config(name, ["s3:ObjectCreated:Put"], prefix="a/b"),
        )["Message"]
        == overlap
    )
    assert (
        refused(lambda_config(name, ["s3:ObjectCreated:Put"]), lambda_config(name, ["s3:ObjectCreated:Put"]))[
            "Message"
        ]
        == overlap
    )
    assert refused(lambda_config(name, ["s3:ObjectCreated:Nope"]))["Message"] == (
        "The event is not supported for notifications"
    )
    assert refused(lambda_config(name, ["s3:ObjectCreated:*"], middle="x"))["Message"] == (
        "filter rule name must be either prefix or suffix"
    )
    bad_arn = refused({"LambdaFunctionArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]})
    assert (bad_arn["Message"], bad_arn["ArgumentName"]) == ("The ARN could not be parsed", "CloudFunction")
    # distinct prefixes, or distinct suffixes, do not overlap
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                lambda_config(name, ["s3:ObjectCreated:*"], prefix="a/", suffix=".png"),
                lambda_config(name, ["s3:ObjectCreated:*"], prefix="a/", suffix=".jpg"),
                lambda_config(name, ["s3:ObjectCreated:*"], prefix="b/"),
            ]
        },
    )
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_notification_configuration(Bucket=unique("absent"), NotificationConfiguration={})
    assert error_of(excinfo)["Code"] == "NoSuchBucket"


def test_event_records_are_exactly_as_s3_sends_them(
    server: Server, s3: Any, lambda_client: Any, deploy: Any
) -> None:
    bucket, sink = unique("events"), unique("sink")
    for name in (bucket, sink):
        s3.create_bucket(Bucket=name)
    recorder = deploy(RECORDER, Environment={"Variables": {"SINK": sink}}, Timeout=30)
    allow_s3(lambda_client, recorder, bucket, SourceAccount=ACCOUNT)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {**lambda_config(recorder, ["s3:ObjectCreated:*"], prefix="up/"), "Id": "created"},
                {**lambda_config(recorder, ["s3:ObjectRemoved:*"]), "Id": "removed"},
            ]
        },
    )
    key = "up/a b@c+d.txt"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"hello s3")
    s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"no event: prefix does not match")
    s3.copy_object(Bucket=bucket, Key="up/copy.txt", CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)

    def recorded() -> list[dict[str, Any]]:
        listed = s3.list_objects_v2(Bucket=sink).get("Contents", [])
        if len(listed) < 3:
            return []
        return [json.loads(s3.get_object(Bucket=sink, Key=o["Key"])["Body"].read()) for o in listed]

    events = {e["Records"][0]["eventName"]: e["Records"][0] for e in wait_for(recorded)}
    assert set(events) == {"ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete"}
    created = events["ObjectCreated:Put"]
    assert set(created) == {
        "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
        "requestParameters", "responseElements", "s3",
    }  # fmt: skip
    assert created["eventVersion"] == "2.1"
    assert created["eventSource"] == "aws:s3"
    assert created["awsRegion"] == "us-east-1"
    assert len(created["eventTime"]) == 24 and created["eventTime"].endswith("Z")
    assert created["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert created["responseElements"]["x-amz-request-id"] == put["ResponseMetadata"]["RequestId"]
    assert created["responseElements"]["x-amz-id-2"] == put["ResponseMetadata"]["HostId"]
    assert created["userIdentity"]["principalId"]
    detail = created["s3"]
    assert detail["s3SchemaVersion"] == "1.0"
    assert detail["configurationId"] == "created"
    assert detail["bucket"]["name"] == bucket
    assert detail["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert detail["bucket"]["ownerIdentity"]["principalId"]
    obj = detail["object"]
    assert obj["key"] == "up/a+b%40c%2Bd.txt"
    assert obj["size"] == 8
    assert obj["eTag"] == put["ETag"].strip('"')
    assert set(obj) == {"key", "size", "eTag", "sequencer"}
    removed = events["ObjectRemoved:Delete"]
    assert removed["s3"]["configurationId"] == "removed"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}
    assert int(removed["s3"]["object"]["sequencer"], 16) > int(obj["sequencer"], 16)
    assert events["ObjectCreated:Copy"]["s3"]["object"]["key"] == "up/copy.txt"


def wait_for_object(s3: Any, bucket: str, key: str, timeout: float = 20.0) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        try:
            return dict(s3.get_object(Bucket=bucket, Key=key))
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchKey":
                raise
            return None

    result: dict[str, Any] = wait_for(found, timeout)
    return result


def test_tutorial_bucket_copy_with_boto3(s3: Any, lambda_client: Any, deploy: Any) -> None:
    source, destination = unique("source"), unique("destination")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    name = deploy(COPY_FUNCTION, Environment={"Variables": {"DESTINATION": destination}}, Timeout=30)
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{source}",
        SourceAccount=ACCOUNT,
    )
    s3.put_bucket_notification_configuration(
        Bucket=source,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn(name), "Events": ["s3:ObjectCreated:Put"]}
            ]
        },
    )
    body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    s3.put_object(Bucket=source, Key="images/my photo.png", Body=body, ContentType="image/png")
    copied = wait_for_object(s3, destination, "images/my photo.png")
    assert copied["Body"].read() == body
    assert copied["ContentType"] == "image/png"


def test_tutorial_bucket_copy_with_the_aws_cli(
    server: Server, s3: Any, lambda_client: Any, deploy: Any, tmp_path: Path
) -> None:
    env = server.client_env()
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))

    def aws(*args: str) -> str:
        done = subprocess.run(
            [str(AWS), *args], env=env, capture_output=True, text=True, timeout=90, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    source, destination = unique("cli-source"), unique("cli-destination")
    aws("s3", "mb", f"s3://{source}")
    aws("s3", "mb", f"s3://{destination}")
    name = deploy(COPY_FUNCTION, Environment={"Variables": {"DESTINATION": destination}}, Timeout=30)
    aws(
        "lambda", "add-permission", "--function-name", name, "--principal", "s3.amazonaws.com",
        "--statement-id", "s3invoke", "--action", "lambda:InvokeFunction",
        "--source-arn", f"arn:aws:s3:::{source}", "--source-account", ACCOUNT,
    )  # fmt: skip
    (tmp_path / "notification.json").write_text(
        json.dumps(
            {
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": function_arn(name), "Events": ["s3:ObjectCreated:Put"]}
                ]
            }
        )
    )
    aws(
        "s3api", "put-bucket-notification-configuration", "--bucket", source,
        "--notification-configuration", "file://notification.json",
    )  # fmt: skip
    (tmp_path / "HappyFace.txt").write_text("a happy face :)\n")
    aws("s3", "cp", "HappyFace.txt", f"s3://{source}/HappyFace.txt")
    copied = wait_for_object(s3, destination, "HappyFace.txt")
    assert copied["Body"].read() == b"a happy face :)\n"
    assert copied["ContentType"] == "text/plain"
    listed = aws("s3", "ls", f"s3://{destination}/")
    assert "HappyFace.txt" in listed
