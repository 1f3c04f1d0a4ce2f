"""Deployment packages on the local filesystem: `<dir>/<sha256 hex>.zip` plus its unpacked tree. Layers are
packages too; `opt_dir` merges the trees of a function's layers into one read-only directory (its /opt).

`collect` removes what nothing uses any more, also while the platform runs: an entry goes only when it
is not in use and nobody wrote or reused it for a while (a reuse touches it), and the check and the
entry's removal from view happen under one lock with that reuse, so a package handed out again is never
the one being removed."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from lambdabox.core.models import MAX_UNZIPPED_BYTES, CodeRef
from lambdabox.errors import AwsError

OPT_PREFIX = "opt-"


class FileCodeStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()  # a reuse of an entry against its collection
        root.mkdir(parents=True, exist_ok=True)
        for leftover in root.glob(".tmp-*"):  # a crash mid-write leaves these behind
            _remove(leftover)

    def put_zip(self, data: bytes) -> CodeRef:
        digest = hashlib.sha256(data)
        key = digest.hexdigest()
        unzipped = _check_zip(data)
        target = self._root / key
        if not self._reuse(target, self._root / f"{key}.zip"):
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self._root))
            try:
                _extract(data, tmp)
                zip_tmp = self._root / f".tmp-{key}.zip"
                with open(zip_tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(zip_tmp, self._root / f"{key}.zip")
                os.rename(tmp, target)
            except OSError as error:
                _remove(tmp)
                if error.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not target.is_dir():
                    raise
                # another writer finished the same package first
            except BaseException:
                _remove(tmp)
                raise
        return CodeRef(
            key=key, sha256=base64.b64encode(digest.digest()).decode(), size=len(data), unzipped_size=unzipped
        )

    def task_root(self, code: CodeRef) -> Path:
        return self._root / code.key

    def zip_path(self, code: CodeRef) -> Path:
        return self._root / f"{code.key}.zip"

    def opt_dir(self, layers: Sequence[CodeRef]) -> Path:
        """The layers' trees merged in order (a later layer's file replaces an earlier one's), read-only;
        built once per combination (`opt-<digest>`, an empty directory for none) and reused."""
        target = self._root / _opt_name(layers)
        if self._reuse(target):
            return target
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self._root))
        try:
            for code in layers:
                _merge(self.task_root(code), tmp)
            _make_readonly(tmp)
            os.rename(tmp, target)
        except OSError:
            _remove(tmp)
            if not target.is_dir():  # not another writer that finished the same directory first
                raise
        return target

    def _reuse(self, *paths: Path) -> bool:
        """Whether all of `paths` exist; if so they are touched, so that a collection keeps them."""
        with self._lock:
            if not all(path.exists() for path in paths):
                return False
            for path in paths:
                os.utime(path)
            return True

    def collect(
        self, live: Iterable[CodeRef], layer_sets: Iterable[Sequence[CodeRef]] = (), *, idle_for: float = 0.0
    ) -> int:
        """Remove every package but `live` and every merged /opt tree but those of `layer_sets` (and the
        empty one), and what an interrupted write left behind; with `idle_for`, only those nobody wrote
        or reused in the last `idle_for` seconds (without: everything, so only while nothing writes).
        Returns how many packages, trees and leftovers went."""
        keep = {code.key for code in live} | {_opt_name(layers) for layers in (*layer_sets, ())}
        written_before = time.time() - idle_for
        gone: list[Path] = []
        removed = 0
        for key in sorted({entry.name.removesuffix(".zip") for entry in self._root.iterdir()}):
            if key in keep or (key.startswith(".") and not key.startswith(".tmp-")):
                continue
            with self._lock:
                paths = [path for path in (self._root / key, self._root / f"{key}.zip") if path.exists()]
                if idle_for and any(path.stat().st_mtime > written_before for path in paths):
                    continue
                for path in paths:  # out of sight first (quick); deleted after, outside the lock
                    if path.is_dir():
                        os.chmod(path, 0o755)  # renaming a directory rewrites its ".."
                    moved = self._root / f".tmp-gone-{uuid.uuid4().hex}"
                    os.rename(path, moved)
                    gone.append(moved)
                removed += bool(paths)
        for path in gone:
            _remove(path)
        return removed


def _opt_name(layers: Sequence[CodeRef]) -> str:
    return OPT_PREFIX + hashlib.sha256(",".join(code.key for code in layers).encode()).hexdigest()


def _check_zip(data: bytes) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("CRC check failed")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise AwsError(
            "InvalidParameterValueException",
            f"Could not unzip uploaded file. Please check your file, then try to upload again. ({exc})",
        ) from None
    if not infos:
        raise AwsError("InvalidParameterValueException", "Uploaded file must be a non-empty zip")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise AwsError(
            "InvalidParameterValueException",
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes",
        )
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in Path(name).parts:
            raise AwsError(
                "InvalidParameterValueException", f"Could not unzip uploaded file: unsafe path {name!r}"
            )
    return total


def _extract(data: bytes, target: Path) -> None:
    """Unpack keeping the archive's Unix modes (a `bootstrap` must stay executable), then make it read-only."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            path = archive.extract(info, target)
            mode = (info.external_attr >> 16) & 0o777
            if not info.is_dir():
                os.chmod(path, (mode or 0o644) | 0o444)
    _make_readonly(target)


def _make_readonly(target: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(target):
        for name in filenames:
            full = os.path.join(dirpath, name)
            os.chmod(full, stat.S_IMODE(os.stat(full).st_mode) & ~0o222)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o555)
    os.chmod(target, 0o555)


def _merge(source: Path, target: Path) -> None:
    """Lay `source`'s tree over `target`: its files replace what is there (hard links where possible)."""
    for dirpath, _, filenames in os.walk(source):
        into = target / os.path.relpath(dirpath, source)
        if into.exists() and not into.is_dir():
            into.unlink()
        into.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            destination = into / name
            if destination.is_dir() and not destination.is_symlink():
                _make_writable(destination)
                shutil.rmtree(destination)
            elif destination.exists() or destination.is_symlink():
                destination.unlink()
            try:
                os.link(os.path.join(dirpath, name), destination)
            except OSError:
                shutil.copy2(os.path.join(dirpath, name), destination)


def _remove(path: Path) -> None:
    """Delete a file, or a tree even where it was made read-only."""
    if path.is_dir():
        _make_writable(path)
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _make_writable(root: Path) -> None:
    for dirpath, dirnames, _ in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
