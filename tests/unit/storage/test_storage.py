from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambdabox.core.models import QueuedEvent
from lambdabox.errors import AwsError
from lambdabox.storage.code import FileCodeStore
from lambdabox.storage.sqlite import Database, SqliteEventQueue


def _zip(files: dict[str, tuple[str, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (mode | 0o100000) << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def test_code_store_keeps_modes_and_is_read_only(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    ref = store.put_zip(_zip({"bootstrap": ("#!/bin/sh\n", 0o755), "lib/app.py": ("x = 1\n", 0o644)}))
    root = store.task_root(ref)
    assert os.access(root / "bootstrap", os.X_OK)
    assert stat.S_IMODE((root / "lib" / "app.py").stat().st_mode) == 0o444
    assert stat.S_IMODE(root.stat().st_mode) == 0o555
    assert store.zip_path(ref).exists()
    assert store.put_zip(_zip({"bootstrap": ("#!/bin/sh\n", 0o755), "lib/app.py": ("x = 1\n", 0o644)})) == ref
    store.collect([])
    assert not root.exists()


def test_code_store_refuses_bad_archives(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    with pytest.raises(AwsError):
        store.put_zip(b"not a zip")
    with pytest.raises(AwsError):
        store.put_zip(_zip({"../escape.py": ("x", 0o644)}))
    assert [p for p in (tmp_path / "code").iterdir()] == []


def test_event_queue_claims_survive_reopening(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite")
    queue = SqliteEventQueue(db)
    queue.enqueue(QueuedEvent("e1", "f", "$LATEST", "arn", b"{}", enqueued_at=1.0, not_before=1.0))
    assert [e.id for e in queue.claim(now=2.0, limit=10)] == ["e1"]
    assert queue.claim(now=2.0, limit=10) == []
    db.close()
    reopened = SqliteEventQueue(Database(tmp_path / "db.sqlite"))
    assert reopened.release_claims() == 1
    queue_event = reopened.claim(now=2.0, limit=10)[0]
    reopened.reschedule(queue_event.id, attempts=1, not_before=5.0)
    assert reopened.claim(now=4.0, limit=10) == []
    retried = reopened.claim(now=5.0, limit=10)[0]
    assert retried.attempts == 1
    reopened.complete(retried.id)
    assert reopened.next_due() is None
