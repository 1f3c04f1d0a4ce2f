"""The account's root credentials: given by the environment, or generated once and kept 0600."""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from lambdabox.config import Settings

FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class RootCredentials:
    access_key_id: str
    secret_access_key: str
    generated: bool = False  # True only on the start that created them


def _new_key_id() -> str:
    alphabet = string.ascii_uppercase + "234567"
    return "LKIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def read_stored(data_dir: Path) -> RootCredentials | None:
    path = data_dir / FILE_NAME
    if not path.exists():
        return None
    stored = json.loads(path.read_text())
    return RootCredentials(stored["access_key_id"], stored["secret_access_key"])


def resolve(settings: Settings) -> RootCredentials:
    if settings.root_access_key_id and settings.root_secret_access_key:
        return RootCredentials(settings.root_access_key_id, settings.root_secret_access_key)
    stored = read_stored(settings.data_dir)
    if stored is not None:
        return stored
    created = _generate()
    _write(settings.data_dir / FILE_NAME, created, exclusive=True)
    return created


def rotate(data_dir: Path) -> RootCredentials:
    """Replace the stored root credentials with new ones (the server uses them from its next start)."""
    created = _generate()
    _write(data_dir / FILE_NAME, created, exclusive=False)
    return created


def _generate() -> RootCredentials:
    return RootCredentials(_new_key_id(), secrets.token_urlsafe(30)[:40], generated=True)


def _write(path: Path, credentials: RootCredentials, exclusive: bool) -> None:
    """Write the credentials file 0600 from its first byte (atomically replacing it unless `exclusive`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if exclusive else path.with_name(path.name + ".tmp")
    if not exclusive:
        target.unlink(missing_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(
            {"access_key_id": credentials.access_key_id, "secret_access_key": credentials.secret_access_key},
            handle,
        )
        handle.flush()
        os.fsync(handle.fileno())
    if not exclusive:
        os.replace(target, path)
