"""The `aws s3` commands against the real server: mb, cp (small and 100 MB, which the CLI uploads as a
multipart upload and downloads as parallel ranged GETs), sync, ls, rm and presign."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import urllib3

from tests.conftest import Server, file_md5, peak_rss_kb, unique, write_random_file

AWS = Path(sys.executable).parent / "aws"


def cli(server: Server, cwd: Path) -> Callable[..., str]:
    env = server.client_env()
    env.update(AWS_CONFIG_FILE=str(cwd / "none"), AWS_SHARED_CREDENTIALS_FILE=str(cwd / "none"))

    def aws(*args: str) -> str:
        done = subprocess.run(
            [str(AWS), *args], env=env, capture_output=True, text=True, timeout=180, cwd=cwd
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return aws


def test_mb_cp_sync_ls_rm_and_presign(server: Server, tmp_path: Path, http: urllib3.PoolManager) -> None:
    aws = cli(server, tmp_path)
    bucket = unique("cli")
    assert f"make_bucket: {bucket}" in aws("s3", "mb", f"s3://{bucket}")

    (tmp_path / "small.txt").write_text("small file\n")
    aws("s3", "cp", "small.txt", f"s3://{bucket}/small.txt")
    aws("s3", "cp", f"s3://{bucket}/small.txt", "small-copy.txt")
    assert (tmp_path / "small-copy.txt").read_text() == "small file\n"

    folder = tmp_path / "site"
    (folder / "css").mkdir(parents=True)
    files = {"index.html": "<h1>hi</h1>", "about.html": "about", "css/site.css": "body {}"}
    for name, text in files.items():
        (folder / name).write_text(text)
    synced = aws("s3", "sync", "site", f"s3://{bucket}/site")
    assert synced.count("upload:") == 3
    (folder / "about.html").write_text("about us, now longer")
    synced = aws("s3", "sync", "site", f"s3://{bucket}/site")
    assert synced.count("upload:") == 1 and "about.html" in synced  # only the changed file

    top = aws("s3", "ls", f"s3://{bucket}/")
    assert "PRE site/" in top and "small.txt" in top
    recursive = aws("s3", "ls", "--recursive", f"s3://{bucket}/")
    listed = sorted(line.split()[-1] for line in recursive.splitlines())
    assert listed == ["site/about.html", "site/css/site.css", "site/index.html", "small.txt"]
    size = next(line.split()[2] for line in recursive.splitlines() if line.endswith("about.html"))
    assert int(size) == len("about us, now longer")

    url = aws("s3", "presign", f"s3://{bucket}/site/index.html", "--expires-in", "60").strip()
    assert "Signature=" in url  # the CLI v1 signs us-east-1 URLs with SigV2 query parameters
    got = http.request("GET", url)
    assert (got.status, got.data) == (200, b"<h1>hi</h1>")

    assert "delete:" in aws("s3", "rm", f"s3://{bucket}/small.txt")
    removed = aws("s3", "rm", "--recursive", f"s3://{bucket}/site")
    assert removed.count("delete:") == 3
    s3 = server.client("s3")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    s3.delete_bucket(Bucket=bucket)


@pytest.mark.slow
def test_cp_100_mb_up_and_down_with_bounded_server_memory(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory()
    aws = cli(server, tmp_path)
    aws("s3", "mb", "s3://cli-big")
    digest = write_random_file(tmp_path / "big.bin", 100)
    before = peak_rss_kb(server)
    started = time.perf_counter()
    aws("s3", "cp", "big.bin", "s3://cli-big/big.bin")  # multipart above 8 MB
    upload_s = time.perf_counter() - started
    s3 = server.client("s3")
    head = s3.head_object(Bucket="cli-big", Key="big.bin")
    assert head["ContentLength"] == 100 * 1024 * 1024 and head["ETag"].endswith('-13"')
    started = time.perf_counter()
    aws("s3", "cp", "s3://cli-big/big.bin", "back.bin")
    download_s = time.perf_counter() - started
    assert file_md5(tmp_path / "back.bin") == digest
    peak = peak_rss_kb(server)
    print(
        f"\n100 MB aws s3 cp: upload {100 / upload_s:.0f} MB/s, download {100 / download_s:.0f} MB/s"
        f" (CLI start included), server peak RSS {before // 1024} MB before, {peak // 1024} MB after"
    )
    assert peak < 100 * 1024, f"server peak RSS {peak} kB"
    # Ten 8 MiB parts streaming at once add ~10 MB (uploads hold two 256 KiB batches each); with 1 MiB
    # buffers growing by reallocation they added ~30 MB.
    assert peak - before < 20 * 1024, f"the transfers added {(peak - before) // 1024} MB to the server"
