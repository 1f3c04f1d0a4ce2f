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
    created = RootCredentials(_new_key_id(), secrets.token_urlsafe(30)[:40], generated=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / FILE_NAME
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(
            {"access_key_id": created.access_key_id, "secret_access_key": created.secret_access_key}, handle
        )
    return created
