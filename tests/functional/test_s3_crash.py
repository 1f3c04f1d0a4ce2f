"""`kill -9` in the middle of a stream of PUTs with notifications: every acknowledged object is intact
after the restart, and each one's event reaches the function (at least once)."""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from typing import Any
from urllib.parse import quote_plus

from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import Server, create_function, unique, wait_for_logs

MARKER = """
def handler(event, context):
    for record in event["Records"]:
        print("MARK", record["s3"]["object"]["key"])
"""


def test_acknowledged_puts_and_their_events_survive_kill_9(server_factory: Any) -> None:
    server: Server = server_factory()
    lambdas, s3 = server.client(), server.client("s3")
    name = create_function(lambdas, MARKER, Timeout=10)
    bucket = unique("crash")
    s3.create_bucket(Bucket=bucket)
    lambdas.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    arn = lambdas.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    acknowledged: dict[str, bytes] = {}
    stop = threading.Event()

    def writer() -> None:
        index = 0
        while not stop.is_set():
            key = f"stream/object {index}+(x).txt"
            body = hashlib.sha256(key.encode()).hexdigest().encode() * (1 + index % 50)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain")
            except (BotoCoreError, ClientError):
                return  # the server went away mid-request: that PUT was never acknowledged
            acknowledged[key] = body
            index += 1

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop(signal.SIGKILL)
    stop.set()
    thread.join(timeout=30)
    assert len(acknowledged) >= 40

    server.close_clients()
    server.start()
    s3 = server.client("s3")
    for key, body in acknowledged.items():
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == body, key
        assert got["ContentType"] == "text/plain"
    expected = {f"MARK {quote_plus(key, safe='/')}\n" for key in acknowledged}  # keys as S3 encodes them
    wait_for_logs(server, name, lambda lines: expected <= set(lines), timeout=30)
