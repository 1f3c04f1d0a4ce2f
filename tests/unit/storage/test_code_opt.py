"""A function's /opt: its layers' trees merged in order, read-only, built once per combination."""

from __future__ import annotations

import os
from pathlib import Path

from lambdabox.storage.code import FileCodeStore
from tests.conftest import make_zip


def test_later_layers_replace_earlier_files(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    first = store.put_zip(make_zip({"python/a.py": "first", "python/shared.py": "first", "bin/x": "1"}))
    second = store.put_zip(make_zip({"python/shared.py": "second", "lib/libz.so": "z"}))
    opt = store.opt_dir([first, second])
    assert (opt / "python" / "a.py").read_text() == "first"
    assert (opt / "python" / "shared.py").read_text() == "second"
    assert (opt / "lib" / "libz.so").read_text() == "z"
    assert not os.access(opt / "python", os.W_OK) or os.geteuid() == 0
    assert oct((opt / "python").stat().st_mode & 0o777) == oct(0o555)
    assert store.opt_dir([first, second]) == opt  # reused
    assert (store.opt_dir([second, first]) / "python" / "shared.py").read_text() == "first"
    assert (store.task_root(first) / "python" / "shared.py").read_text() == "first"  # layers untouched


def test_no_layers_is_an_empty_directory(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    empty = store.opt_dir([])
    assert empty.is_dir() and list(empty.iterdir()) == []
    store.collect([])  # garbage collection keeps the empty /opt every function without layers uses
    assert empty.is_dir()


def test_collect_keeps_what_is_live_and_removes_the_rest(tmp_path: Path) -> None:
    store = FileCodeStore(tmp_path / "code")
    live = store.put_zip(make_zip({"app.py": "live"}))
    layer = store.put_zip(make_zip({"python/l.py": "layer"}))
    gone = store.put_zip(make_zip({"app.py": "gone"}))
    kept_opt, gone_opt = store.opt_dir([layer]), store.opt_dir([layer, gone])
    (tmp_path / "code" / ".tmp-interrupted").mkdir()
    store.collect([live, layer], [[layer]])
    assert store.task_root(live).is_dir() and store.zip_path(live).is_file()
    assert store.task_root(layer).is_dir() and kept_opt.is_dir()
    assert not store.task_root(gone).exists() and not store.zip_path(gone).exists()
    assert not gone_opt.exists() and not (tmp_path / "code" / ".tmp-interrupted").exists()
