"""Authorization of every API request: one hook for every service front end.

`Authorizer.authorize(principal_arn, checks, service=…)` evaluates each `Check` (IAM action, resource ARN,
condition keys; see `actions.py`) with the policy engine (`policy.py`) against the caller's identity-based
and session policies (a `PolicySource`, i.e. IAM) and the resource's own policy (a Lambda function's,
an S3 bucket's, a role's trust policy), and raises the service's AccessDenied error, worded as AWS
words it, at the first denial. The root user is allowed everything, except what a resource policy
explicitly denies (S3 bucket policies). Compiled policies are cached by their text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.policy import (
    ALLOWED,
    ANONYMOUS,
    Outcome,
    Policy,
    PolicyKind,
    Principal,
    PrincipalType,
    Request,
    compile_policy,
    evaluate,
    principal_of,
    time_keys,
)
from lambdabox.core.resource_policy import function_policy
from lambdabox.errors import AwsError


class PolicySource(Protocol):
    """The identity side (IAM): the policies that apply to a principal."""

    def identity_policies(self, principal_arn: str) -> list[tuple[str, dict[str, Any]]]: ...

    def session_policies(self, principal_arn: str) -> Sequence[Any]: ...

    def boundary_of(self, principal_arn: str) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class ResourcePolicies:
    """Where resource-based policies come from; each None when that kind does not exist (yet)."""

    function: Callable[[str, str | None], Sequence[Mapping[str, Any]]] | None = None  # name, qualifier
    bucket: Callable[[str], str | None] | None = None  # bucket name -> policy text
    function_tags: Callable[[str], Mapping[str, str]] | None = None  # function name -> aws:ResourceTag/*
    # (bucket, key, version id) -> the object's tags (s3:ExistingObjectTag/*), read only if a condition asks
    object_tags: Callable[[str, str, str | None], Mapping[str, str]] | None = None


@dataclass(frozen=True)
class DenialStyle:
    """How a service words a refusal."""

    code: str
    status: int
    quote_resource: bool = False  # S3 prints the resource in double quotes
    anonymous_message: str | None = None
    resource_denies: bool = False  # resource policies of this service may deny the root user


_REST_JSON = DenialStyle("AccessDeniedException", 403)
_JSON = DenialStyle("AccessDeniedException", 400)  # Coral json services
_QUERY = DenialStyle("AccessDenied", 403)
STYLES: dict[str, DenialStyle] = {
    "lambda": _REST_JSON,
    "logs": _JSON,
    "events": _JSON,
    "s3": DenialStyle(
        "AccessDenied", 403, quote_resource=True, anonymous_message="Access Denied", resource_denies=True
    ),
    "iam": _QUERY,
    "sts": _QUERY,
    "kms": _JSON,
    "secretsmanager": _JSON,
    "ssm": _JSON,
    "scheduler": _REST_JSON,
    "apigateway": _REST_JSON,
}


# The bucket owner's root user can always manage the bucket policy, whatever it denies (no lockout).
ROOT_ALWAYS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})


def denial_message(principal: Principal, check: Check, outcome: Outcome, style: DenialStyle) -> str:
    who = principal.arn or ("anonymous" if principal.service is None else principal.service)
    resource = f'"{check.resource}"' if style.quote_resource else check.resource
    kind = (outcome.kind or PolicyKind.IDENTITY).value
    if outcome.decision.value == "ExplicitDeny":
        reason = f"with an explicit deny in {'a' if kind[0] not in 'aeiou' else 'an'} {kind}"
    else:
        reason = f"because no {kind} allows the {check.action} action"
    return f"User: {who} is not authorized to perform: {check.action} on resource: {resource} {reason}"


class Authorizer:
    """`source`: IAM (None: only the root user exists); `now`: the platform clock (aws:CurrentTime)."""

    def __init__(
        self,
        account_id: str,
        region: str,
        source: PolicySource | None = None,
        resources: ResourcePolicies | None = None,
        now: Callable[[], float] = time.time,
        tags: Callable[[str], Mapping[str, str]] | None = None,
        user_id: Callable[[str], str | None] | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.source = source
        self.resources = resources or ResourcePolicies()
        self._now = now
        self._tags = tags  # principal ARN (a session's role ARN) -> its tags (aws:PrincipalTag/*)
        self._user_id = user_id  # principal ARN -> its unique id (aws:userid: AIDA…, AROA…:session)

    # -- the hook ------------------------------------------------------------------------------------------
    def authorize(
        self,
        principal_arn: str | None,
        checks: Callable[[], Iterable[Check]],
        *,
        service: str,
        source_ip: str | None = None,
    ) -> None:
        """Raise the service's AccessDenied at the first check the caller may not pass. `checks` is only
        computed when it matters (never for the root user of a service without resource-based denies)."""
        style = STYLES.get(service, _JSON)
        principal = self.principal(principal_arn)
        if principal.is_root and not style.resource_denies:
            return
        keys: LazyKeys | None = None
        for check in checks():
            if keys is None:
                keys = self.request_keys(principal, source_ip)
            outcome = self.decide(principal, check, keys)
            if not outcome.allowed:
                if principal.type is PrincipalType.ANONYMOUS and style.anonymous_message is not None:
                    raise AwsError(style.code, style.anonymous_message, style.status)
                raise AwsError(style.code, denial_message(principal, check, outcome, style), style.status)

    def hook(
        self,
        principal_arn: str | None,
        source_ip: str | None,
        service: str,
        checks: Callable[[str, dict[str, Any]], Iterable[Check]],
    ) -> Callable[[str, dict[str, Any]], None]:
        """`authorize(operation, params)` for one request of a json-protocol front end
        (`JsonProtocol.answer(..., authorize=...)`); `checks(operation, params)` names what it needs."""

        def authorize(operation: str, params: dict[str, Any]) -> None:
            self.authorize(
                principal_arn, lambda: checks(operation, params), service=service, source_ip=source_ip
            )

        return authorize

    def check(
        self,
        principal_arn: str | None,
        action: str,
        resource: str,
        context: Mapping[str, Sequence[str]] | None = None,
        *,
        service: str,
        source_ip: str | None = None,
    ) -> None:
        """One action on one resource (for front ends whose operation maps to a single check)."""
        self.authorize(
            principal_arn,
            lambda: [Check(action, resource, dict(context or {}))],
            service=service,
            source_ip=source_ip,
        )

    # -- evaluation ---------------------------------------------------------------------------------------
    def principal(self, principal_arn: str | None) -> Principal:
        return ANONYMOUS if principal_arn is None else principal_of(principal_arn)

    def decide(self, principal: Principal, check: Check, keys: Mapping[str, Sequence[str]]) -> Outcome:
        if principal.is_root and check.action in ROOT_ALWAYS:
            return ALLOWED
        keys = keys if isinstance(keys, LazyKeys) else LazyKeys(dict(keys))
        keys = keys.extended(check.keys)
        function_tags, object_tags = self.resources.function_tags, self.resources.object_tags
        if check.function is not None and function_tags is not None:
            name = check.function[0]
            keys = keys.extended(
                loader=("aws:resourcetag/", lambda: self._resource_tags(function_tags, name))
            )
        if check.obj is not None and object_tags is not None:
            obj = check.obj
            keys = keys.extended(loader=(_OBJECT_TAG, lambda: _tag_keys(_OBJECT_TAG, object_tags(*obj))))
        request = Request(principal, check.action, check.resource, keys)
        resource = self._resource_policy(check)
        identity: list[Policy] = []
        session: list[Policy] | None = None
        boundary: Policy | None = None
        if self.source is not None and principal.arn is not None and not principal.is_root:
            identity = [
                compile_policy(document) for _, document in self.source.identity_policies(principal.arn)
            ]
            documents = [_document(item) for item in self.source.session_policies(principal.arn)]
            session = [compile_policy(d) for d in documents if d is not None] or None
            limit = self.source.boundary_of(principal.arn)
            boundary = compile_policy(dict(limit)) if limit is not None else None
        return evaluate(request, identity, resource, session, boundary)

    @staticmethod
    def _resource_tags(load: Callable[[str], Mapping[str, str]], function: str) -> dict[str, Sequence[str]]:
        try:
            return _tag_keys("aws:resourcetag/", load(function))
        except AwsError:
            return {}

    def _resource_policy(self, check: Check) -> Policy | None:
        if check.policy is not None:
            return compile_policy(check.policy)
        if check.function is not None and self.resources.function is not None:
            try:
                statements = self.resources.function(*check.function)
            except AwsError:
                return None
            return function_policy(statements) if statements else None
        if check.bucket is not None and self.resources.bucket is not None:
            text = self.resources.bucket(check.bucket)
            return compile_policy(text) if text else None
        return None

    def request_keys(self, principal: Principal, source_ip: str | None) -> LazyKeys:
        """The global condition keys of a request (aws:*); the principal's id and tags are read from IAM
        only if a condition or a policy variable asks for them."""
        keys: dict[str, Sequence[str]] = {
            **time_keys(int(self._now())),
            "aws:securetransport": ["false"],  # Lambdabox speaks plain HTTP
            "aws:requestedregion": [self.region],
            "aws:principaltype": [principal.type.value],
        }
        if source_ip:
            keys["aws:sourceip"] = [source_ip]
        if principal.arn is not None:
            keys["aws:principalarn"] = [principal.role_arn or principal.arn]
        if principal.account is not None:
            keys["aws:principalaccount"] = [principal.account]
        if principal.type is PrincipalType.USER and principal.name:
            keys["aws:username"] = [principal.name]
        if principal.is_root and principal.account:
            keys["aws:userid"] = [principal.account]
        loaders: list[tuple[str, Loader]] = []
        arn = principal.arn
        if arn is not None and not principal.is_root:
            user_id, tags = self._user_id, self._tags
            if user_id is not None:
                loaders.append(
                    ("aws:userid", lambda: {"aws:userid": [found] if (found := user_id(arn)) else []})
                )
            if tags is not None:
                tagged = principal.role_arn or arn
                loaders.append(("aws:principaltag/", lambda: _tag_keys("aws:principaltag/", tags(tagged))))
        return LazyKeys(keys, tuple(loaders))


Loader = Callable[[], Mapping[str, Sequence[str]]]
_OBJECT_TAG = "s3:existingobjecttag/"


class LazyKeys(Mapping[str, Sequence[str]]):
    """A request's condition keys, some of them (`prefix` → loader) read only when first asked for, once
    per request: IAM lookups and object reads are paid by the policies that use them, not by every call."""

    def __init__(
        self,
        keys: dict[str, Sequence[str]],
        loaders: tuple[tuple[str, Loader], ...] = (),
        loaded: dict[str, Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        self._keys = keys
        self._loaders = loaders
        self._loaded = {} if loaded is None else loaded

    def __getitem__(self, name: str) -> Sequence[str]:
        found = self._keys.get(name)
        if found is not None:
            return found
        for prefix, load in self._loaders:
            if name.startswith(prefix):
                values = self._loaded.get(prefix)
                if values is None:
                    values = self._loaded[prefix] = load()
                return values[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def extended(
        self, keys: Mapping[str, Sequence[str]] | None = None, loader: tuple[str, Loader] | None = None
    ) -> LazyKeys:
        merged = {**self._keys, **keys} if keys else self._keys
        loaders = (*self._loaders, loader) if loader is not None else self._loaders
        if loader is not None:  # a new loader for this check: its values are not shared with other checks
            return LazyKeys(merged, loaders, {k: v for k, v in self._loaded.items() if k != loader[0]})
        return LazyKeys(merged, loaders, self._loaded)


def _tag_keys(prefix: str, tags: Mapping[str, str]) -> dict[str, Sequence[str]]:
    return {prefix + key.lower(): [value] for key, value in tags.items()}


def _document(item: Any) -> Mapping[str, Any] | str | None:
    """A session policy as E1's source gives it: a document, its text, or a (label, document) pair."""
    if isinstance(item, tuple) and len(item) == 2:
        item = item[1]
    if isinstance(item, (dict, str)):
        return item
    return None
