"""Scale-out: many concurrent first invocations each get an environment, started in parallel."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3

from tests.conftest import Server, create_function

HANDLER = """
import os, time
def handler(event, context):
    time.sleep(1.0)  # long enough that no environment is free for reuse during the burst
    return {"pid": os.getpid(), "stream": context.log_stream_name}
"""
BURST = 100


def test_a_burst_of_first_invocations_all_answer_in_parallel(server_factory: Any) -> None:
    server: Server = server_factory()
    client = server.client(max_pool_connections=BURST)
    # What one cold start costs here, invocation included.
    probe = create_function(client, HANDLER)
    started = time.monotonic()
    client.invoke(FunctionName=probe, Payload=b"{}")
    one_cold_start = time.monotonic() - started

    name = create_function(client, HANDLER)
    started = time.monotonic()
    with ThreadPoolExecutor(BURST) as pool:
        responses = list(pool.map(lambda _: client.invoke(FunctionName=name, Payload=b"{}"), range(BURST)))
    elapsed = time.monotonic() - started

    assert all(r["StatusCode"] == 200 and "FunctionError" not in r for r in responses)
    streams = {json.loads(r["Payload"].read())["stream"] for r in responses}
    with urllib3.PoolManager() as http:
        health = http.request("GET", f"{server.endpoint}/_lambdabox/health").json()
    cold_starts = health["coldStarts"][name]
    assert len(streams) == cold_starts  # one log stream per environment
    assert cold_starts >= BURST // 2  # the burst scaled out rather than queueing on a few environments
    assert elapsed < 0.5 * BURST * one_cold_start, (elapsed, one_cold_start)
