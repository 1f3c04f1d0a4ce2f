"""The code store's collection while the platform runs: only what nobody wrote or reused for a while."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from lambdabox.storage.code import FileCodeStore
from tests.conftest import make_zip


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_only_what_nobody_wrote_or_reused_for_a_while_goes(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    old = store.put_zip(make_zip({"app.py": "old"}))
    fresh = store.put_zip(make_zip({"app.py": "fresh"}))
    layer = store.put_zip(make_zip({"python/l.py": "layer"}))
    old_opt = store.opt_dir([layer])
    for path in (store.task_root(old), store.zip_path(old), old_opt):
        _age(path, 120)
    writing = tmp_path / "code" / ".tmp-writing"  # a request writing a package right now
    writing.mkdir()
    assert store.collect([layer], idle_for=60) == 2  # the old package and the unused /opt tree
    assert not store.task_root(old).exists() and not store.zip_path(old).exists()
    assert not old_opt.exists()
    assert store.task_root(fresh).is_dir() and store.zip_path(fresh).is_file()
    assert store.task_root(layer).is_dir() and writing.is_dir()
    assert not [entry for entry in (tmp_path / "code").iterdir() if entry.name.startswith(".tmp-gone")]


def test_a_package_reused_by_a_new_deployment_stays(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    data = make_zip({"app.py": "again"})
    code = store.put_zip(data)
    opt = store.opt_dir([code])
    for path in (store.task_root(code), store.zip_path(code), opt):
        _age(path, 120)
    assert store.put_zip(data) == code  # deployed again: the same package, touched
    assert store.opt_dir([code]) == opt
    assert store.collect([], idle_for=60) == 0
    assert store.task_root(code).is_dir() and store.zip_path(code).is_file() and opt.is_dir()


def test_a_package_removed_is_written_anew_when_deployed_again(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    data = make_zip({"app.py": "back", "lib/x.py": "x"})
    code = store.put_zip(data)
    assert store.collect([]) == 1
    assert store.put_zip(data) == code
    assert (store.task_root(code) / "lib" / "x.py").read_text() == "x"
    assert store.zip_path(code).read_bytes() == data


def test_a_tree_whose_zip_is_missing_is_completed(tmp_path: Path) -> None:
    """A package directory without its zip (a collection cut short) is not handed out as it is; writing
    it again keeps the directory another writer finished and puts the zip beside it."""
    store = FileCodeStore(tmp_path / "code")
    data = make_zip({"app.py": "half"})
    code = store.put_zip(data)
    store.zip_path(code).unlink()
    assert store.put_zip(data) == code
    assert store.zip_path(code).read_bytes() == data and store.task_root(code).is_dir()


def test_deployments_racing_a_collection_keep_their_package(tmp_path: Path) -> None:
    """Each round: an old, unused package is deployed again while a collection runs; whichever comes
    first, the deployment ends with the whole package in place."""
    store = FileCodeStore(tmp_path / "code")
    for round_ in range(30):
        data = make_zip({"app.py": f"round {round_}", **{f"m{i}.py": str(i) for i in range(20)}})
        code = store.put_zip(data)
        for path in (store.task_root(code), store.zip_path(code)):
            _age(path, 120)
        collector = threading.Thread(target=store.collect, args=([],), kwargs={"idle_for": 60})
        collector.start()
        assert store.put_zip(data) == code
        collector.join()
        assert store.zip_path(code).read_bytes() == data
        assert sorted(p.name for p in store.task_root(code).iterdir()) == sorted(
            ["app.py", *(f"m{i}.py" for i in range(20))]
        )
