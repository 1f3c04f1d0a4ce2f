"""The persistent `CredentialStore`: the root key, IAM users' active access keys and STS sessions.

Request authentication asks it for every signed request, so answers are cached in memory; IAM tells it
when a key changes (`forget`), and a session's expiry is checked against the platform clock on every
lookup (an expired session answers with `expired=True`, which the verifier refuses as `ExpiredToken`).
"""

from __future__ import annotations

import threading

from lambdabox.core.clock import Clock
from lambdabox.core.iam.entities import KeyStatus
from lambdabox.core.iam.ids import SESSION_KEY
from lambdabox.core.iam.store import IamStore
from lambdabox.core.identity import AccessKey

CACHE_LIMIT = 10_000  # keys remembered at once (every execution environment gets a session of its own)


class IamCredentialStore:
    def __init__(self, root: AccessKey, store: IamStore, clock: Clock) -> None:
        self._root = root
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[AccessKey, float | None]] = {}  # key id -> (key, expiration)
        self._last_used: dict[str, float] = {}

    @property
    def account_id(self) -> str:
        return self._root.account_id

    def lookup(self, access_key_id: str) -> AccessKey | None:
        if access_key_id == self._root.access_key_id:
            return self._root
        with self._lock:
            cached = self._cache.get(access_key_id)
        if cached is None:
            cached = self._load(access_key_id)
            if cached is None:
                return None
            with self._lock:
                if len(self._cache) >= CACHE_LIMIT:
                    self._cache.clear()
                self._cache[access_key_id] = cached
        key, expiration = cached
        now = self._clock.now()
        if expiration is None:
            self._last_used[access_key_id] = now
        if expiration is not None and expiration <= now:
            return AccessKey(
                key.access_key_id,
                key.secret_access_key,
                key.principal_arn,
                key.account_id,
                key.session_token,
                expired=True,
            )
        return key

    def _load(self, access_key_id: str) -> tuple[AccessKey, float | None] | None:
        account = self._root.account_id
        if access_key_id.startswith(SESSION_KEY):
            session = self._store.get_session(access_key_id)
            if session is None:
                return None
            key = AccessKey(
                access_key_id,
                session.secret_access_key,
                session.principal_arn,
                account,
                session.session_token,
            )
            return key, session.expiration
        record = self._store.get_access_key(access_key_id)
        if record is None or record.status is not KeyStatus.ACTIVE:
            return None
        user = self._store.get_user(record.user_name)
        if user is None:
            return None
        return AccessKey(access_key_id, record.secret_access_key, user.arn, account), None

    def forget(self, access_key_id: str) -> None:
        """A key was deactivated, deleted or moved to a renamed user: look it up again next time."""
        with self._lock:
            self._cache.pop(access_key_id, None)

    def last_used(self, access_key_id: str) -> float | None:
        """When this server last saw the key sign a request (kept in memory)."""
        return self._last_used.get(access_key_id)
