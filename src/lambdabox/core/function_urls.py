"""Lambda function URLs: one HTTPS-style endpoint per function (unqualified) or per alias.

The configuration (auth type, CORS, invoke mode) lives in its own store; the URL id is 32 random
lowercase alphanumerics chosen at creation and kept for the URL's life. `may_invoke` decides whether a
caller may invoke a URL (the resource policy for NONE, the signer's principal for AWS_IAM).
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from lambdabox.core.function_settings import FunctionSettings
from lambdabox.core.functions import FunctionService
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.names import Account, FunctionRef, is_version
from lambdabox.core.resource_policy import everyone_may
from lambdabox.errors import AwsError

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
_ID_ALPHABET = string.ascii_lowercase + string.digits
_NOT_FOUND = "The resource you requested does not exist."


@dataclass(frozen=True)
class Cors:
    allow_credentials: bool | None = None
    allow_headers: tuple[str, ...] | None = None
    allow_methods: tuple[str, ...] | None = None
    allow_origins: tuple[str, ...] | None = None
    expose_headers: tuple[str, ...] | None = None
    max_age: int | None = None

    @property
    def empty(self) -> bool:
        return self == Cors()


@dataclass(frozen=True)
class FunctionUrl:
    url_id: str
    function_name: str
    qualifier: str | None  # None: the unqualified function ($LATEST); otherwise an alias name
    auth_type: str
    invoke_mode: str
    created: str
    last_modified: str
    cors: Cors | None = None

    @property
    def ref(self) -> FunctionRef:
        return FunctionRef(self.function_name, self.qualifier)


class UrlStore(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get(self, url_id: str) -> FunctionUrl | None: ...
    def find(self, function_name: str, qualifier: str | None) -> FunctionUrl | None: ...
    def list_for(self, function_name: str) -> list[FunctionUrl]: ...
    def put(self, url: FunctionUrl) -> None: ...
    def delete(self, url_id: str) -> None: ...
    def delete_for(self, function_name: str) -> None: ...


def _timestamp() -> str:
    """`2021-12-08T18:21:40.563981Z`: how function URL configurations show their times."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_url_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))


class FunctionUrls:
    """Create, read, update and delete URL configurations; look a URL up by id for the data plane
    (an in-memory index, valid while this process is the only writer)."""

    def __init__(
        self,
        store: UrlStore,
        functions: FunctionService,
        public_url: Callable[[str], str],
        new_id: Callable[[], str] = new_url_id,
    ) -> None:
        self._store = store
        self._functions = functions
        self.public_url = public_url  # url id -> the FunctionUrl clients call
        self._new_id = new_id
        self._by_id: dict[str, FunctionUrl | None] = {}
        self._lock = threading.Lock()

    # -- control plane ---------------------------------------------------------------------------------
    def _target(self, ref: FunctionRef) -> None:
        """The function (and alias) the URL is for must exist; versions cannot have URLs."""
        self._functions.function(ref.name, ref.qualifier)
        if ref.qualifier is None:
            return
        if is_version(ref.qualifier):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{ref.qualifier}' at 'qualifier' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
            )
        self._functions.alias(ref.name, ref.qualifier)

    def create(
        self, ref: FunctionRef, auth_type: str, cors: Cors | None, invoke_mode: str | None
    ) -> FunctionUrl:
        with self._store.transaction():
            self._target(ref)
            if self._store.find(ref.name, ref.qualifier) is not None:
                arn = self._functions.account.function_arn(ref.name, ref.qualifier)
                raise AwsError(
                    "ResourceConflictException",
                    f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                    "FunctionUrlConfig exists for this Lambda function",
                    409,
                )
            now = _timestamp()
            url = FunctionUrl(
                url_id=self._new_id(),
                function_name=ref.name,
                qualifier=ref.qualifier,
                auth_type=auth_type,
                invoke_mode=invoke_mode or "BUFFERED",
                created=now,
                last_modified=now,
                cors=None if cors is None or cors.empty else cors,
            )
            self._store.put(url)
        self._forget(url.url_id)
        return url

    def get(self, ref: FunctionRef) -> FunctionUrl:
        self._target(ref)
        url = self._store.find(ref.name, ref.qualifier)
        if url is None:
            raise AwsError("ResourceNotFoundException", _NOT_FOUND, 404)
        return url

    def update(
        self, ref: FunctionRef, auth_type: str | None, cors: Cors | None, invoke_mode: str | None
    ) -> FunctionUrl:
        with self._store.transaction():
            current = self.get(ref)
            updated = replace(
                current,
                auth_type=auth_type or current.auth_type,
                invoke_mode=invoke_mode or current.invoke_mode,
                cors=current.cors if cors is None else (None if cors.empty else cors),
                last_modified=_timestamp(),
            )
            self._store.put(updated)
        self._forget(updated.url_id)
        return updated

    def delete(self, ref: FunctionRef) -> None:
        with self._store.transaction():
            url = self.get(ref)
            self._store.delete(url.url_id)
        self._forget(url.url_id)

    def list(self, function_name: str) -> list[FunctionUrl]:
        self._functions.function(function_name)
        return [url for url in self._store.list_for(function_name) if self._alive(url)]

    def function_deleted(self, function_name: str) -> None:
        """The function is gone: so are its URLs."""
        with self._store.transaction():
            gone = self._store.list_for(function_name)
            self._store.delete_for(function_name)
        for url in gone:
            self._forget(url.url_id)

    # -- data plane ------------------------------------------------------------------------------------
    def by_id(self, url_id: str) -> FunctionUrl | None:
        """The URL with this id, None when there is none (or its alias was deleted since)."""
        try:
            url = self._by_id[url_id]
        except KeyError:
            url = self._store.get(url_id)
            with self._lock:
                self._by_id[url_id] = url
        if url is not None and url.qualifier is not None and not self._alive(url):
            return None
        return url

    def _alive(self, url: FunctionUrl) -> bool:
        """A URL of a deleted alias goes with it (AWS deletes it with the alias)."""
        if url.qualifier is None:
            return True
        try:
            self._functions.alias(url.function_name, url.qualifier)
        except AwsError:
            with self._store.transaction():
                self._store.delete(url.url_id)
            self._forget(url.url_id)
            return False
        return True

    def _forget(self, url_id: str) -> None:
        with self._lock:
            self._by_id.pop(url_id, None)


# -- who may invoke a URL --------------------------------------------------------------------------------
def may_invoke(
    settings: FunctionSettings,
    url: FunctionUrl,
    account: Account,
    principal_arn: str | None,
    authorizer: Authorizer | None,
) -> bool:
    """May this caller invoke `url` (`lambda:InvokeFunctionUrl` on the function or alias, with
    `lambda:FunctionUrlAuthType`)? NONE: the function's resource policy must allow everyone (AWS refuses
    otherwise). AWS_IAM: the verified signer, by IAM policy evaluation (its identity-based policies and the
    function's resource policy); with authorization off (`authorizer` None), every signer may."""
    check = Check(
        "lambda:InvokeFunctionUrl",
        account.function_arn(url.function_name, url.qualifier),
        {"lambda:functionurlauthtype": [url.auth_type]},
        function=(url.function_name, url.qualifier),
    )
    if url.auth_type == "NONE":
        try:
            statements = settings.statements(url.function_name, url.qualifier)
        except AwsError:
            return False
        return everyone_may(statements, check.action, check.resource, check.keys)
    if principal_arn is None:
        return False
    if authorizer is None:
        return True
    try:
        authorizer.authorize(principal_arn, lambda: [check], service="lambda")
    except AwsError:
        return False
    return True
