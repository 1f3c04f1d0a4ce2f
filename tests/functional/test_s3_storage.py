"""The storage promises: bodies streamed with bounded server memory, acknowledged writes survive
`kill -9`, concurrent writers to one key never produce a torn object."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, peak_rss_kb, unique

MB = 1024 * 1024


@pytest.mark.slow
def test_200_mb_upload_and_download_stream_with_bounded_memory(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="big")
    source = tmp_path / "big.bin"
    digest = hashlib.md5()
    block = os.urandom(MB)
    with open(source, "wb") as handle:
        for index in range(200):
            chunk = index.to_bytes(4, "big") + block[4:]
            digest.update(chunk)
            handle.write(chunk)
    before = peak_rss_kb(server)
    started = time.perf_counter()
    with open(source, "rb") as handle:
        put = s3.put_object(Bucket="big", Key="blob.bin", Body=handle)
    upload_s = time.perf_counter() - started
    assert put["ETag"] == f'"{digest.hexdigest()}"'
    started = time.perf_counter()
    received = hashlib.md5()
    size = 0
    for chunk in s3.get_object(Bucket="big", Key="blob.bin")["Body"].iter_chunks(MB):
        received.update(chunk)
        size += len(chunk)
    download_s = time.perf_counter() - started
    assert (size, received.hexdigest()) == (200 * MB, digest.hexdigest())
    peak = peak_rss_kb(server)
    print(
        f"\n200 MB: upload {200 / upload_s:.0f} MB/s, download {200 / download_s:.0f} MB/s, "
        f"server peak RSS {before // 1024} MB before, {peak // 1024} MB after"
    )
    assert peak < 100 * 1024, f"server peak RSS {peak} kB"
    assert peak - before < 32 * 1024, f"the transfer grew the server by {peak - before} kB"


def test_acknowledged_put_survives_kill_9(server_factory: Callable[..., Server]) -> None:
    server = server_factory()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="durable")
    body = os.urandom(3 * MB + 17)
    s3.put_object(Bucket="durable", Key="k", Body=body, Metadata={"m": "v"}, ContentType="app/x")
    s3.put_object(Bucket="durable", Key="gone", Body=b"deleted before the crash")
    s3.delete_object(Bucket="durable", Key="gone")
    server.stop(signal.SIGKILL)
    restarted = Server(server.data_dir).start()
    try:
        again = restarted.client("s3")
        got = again.get_object(Bucket="durable", Key="k")
        assert got["Body"].read() == body
        assert (got["Metadata"], got["ContentType"]) == ({"m": "v"}, "app/x")
        assert [o["Key"] for o in again.list_objects_v2(Bucket="durable")["Contents"]] == ["k"]
        blobs = [p for p in (server.data_dir / "objects").rglob("*") if p.is_file()]
        assert len(blobs) == 1  # no leftover of the deleted object, no temp file
    finally:
        restarted.stop()


def test_small_objects_live_in_the_database_and_survive_kill_9(server_factory: Callable[..., Server]) -> None:
    """Bodies up to 64 KiB are committed with their record (no file); a larger one spills into a file."""
    server = server_factory()
    s3 = server.client("s3")
    s3.create_bucket(Bucket="small")
    small, edge, large = os.urandom(1024), os.urandom(64 * 1024), os.urandom(64 * 1024 + 1)
    for key, body in (("small", small), ("edge", edge), ("large", large)):
        s3.put_object(Bucket="small", Key=key, Body=body)
    s3.copy_object(Bucket="small", Key="copy", CopySource={"Bucket": "small", "Key": "small"})
    s3.put_object(Bucket="small", Key="small", Body=b"replaced")  # the old bytes become garbage
    blobs = [p for p in (server.data_dir / "objects").rglob("*") if p.is_file()]
    assert len(blobs) == 1  # only the large object has a file
    server.stop(signal.SIGKILL)
    restarted = Server(server.data_dir).start()
    try:
        again = restarted.client("s3")
        expected = {"small": b"replaced", "edge": edge, "large": large, "copy": small}
        for key, body in expected.items():
            assert again.get_object(Bucket="small", Key=key)["Body"].read() == body
        ranged = again.get_object(Bucket="small", Key="edge", Range="bytes=10-19")
        assert ranged["Body"].read() == edge[10:20]
        again.delete_object(Bucket="small", Key="copy")
        assert again.get_object(Bucket="small", Key="small")["Body"].read() == b"replaced"
    finally:
        restarted.stop()


def test_concurrent_writers_last_wins_and_readers_never_see_torn_objects(server: Server) -> None:
    s3 = server.client("s3", max_pool_connections=16)
    bucket = unique("race")
    s3.create_bucket(Bucket=bucket)
    bodies = {bytes([i]) * (256 * 1024 + i * 4099) for i in range(6)}
    s3.put_object(Bucket=bucket, Key="k", Body=next(iter(bodies)))
    problems: list[str] = []
    stop = threading.Event()

    def write(body: bytes) -> None:
        for _ in range(5):
            s3.put_object(Bucket=bucket, Key="k", Body=body)

    def read() -> None:
        while not stop.is_set():
            got: Any = s3.get_object(Bucket=bucket, Key="k")
            data = got["Body"].read()
            if data not in bodies or got["ETag"] != f'"{hashlib.md5(data).hexdigest()}"':
                problems.append(f"torn read of {len(data)} bytes")

    readers = [threading.Thread(target=read) for _ in range(3)]
    writers = [threading.Thread(target=write, args=(body,)) for body in bodies]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert problems == []
    final = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert final in bodies
    live = [p for p in (server.data_dir / "objects" / "tmp").iterdir()]
    assert live == []
