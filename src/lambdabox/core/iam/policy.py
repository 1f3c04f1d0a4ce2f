"""IAM policy evaluation within one account, as AWS evaluates it: pure, no I/O.

A policy document is compiled once (`compile_policy`, cached by its text) into statements whose action,
resource and principal patterns are ready-made regular expressions. `evaluate` then answers one request
(principal, action, resource, condition keys) against the policies that apply to it:

1. an explicit `Deny` in any of them (identity-based, resource-based, session, permissions boundary) wins;
2. the account's root user is allowed everything else;
3. a resource-based policy that names the principal itself (its ARN, its role's ARN, a service, or `*`)
   allows the request on its own; one naming only the account delegates to the identity-based policies;
4. otherwise an identity-based policy must allow it, and so must the session policies (when the session has
   any) and the permissions boundary (when there is one);
5. everything else is an implicit deny.

Actions match case-insensitively, resources case-sensitively, both with `*` and `?` wildcards; policy
variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, `${x, 'default'}`) are substituted in
resources and condition values of `2012-10-17` policies. Every condition operator of the IAM reference is
implemented, with `…IfExists` and the `ForAnyValue:` / `ForAllValues:` set qualifiers.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

Keys = Mapping[str, Sequence[str]]  # condition key (lower-case) -> the request's values
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_WILDCARD_FREE = re.compile(r"[^*?]*")


# -- principals ---------------------------------------------------------------------------------------
class PrincipalType(enum.Enum):
    ACCOUNT = "Account"  # the root user
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class Principal:
    """Who makes a request. `arn`: the caller's ARN (an assumed-role session's `arn:aws:sts::…`);
    `role_arn`: for a session, its role's IAM ARN; `service`: a service principal (`s3.amazonaws.com`)."""

    type: PrincipalType
    arn: str | None = None
    account: str | None = None
    role_arn: str | None = None
    service: str | None = None
    name: str | None = None  # the user's name, or the role session's "role:session" name

    @property
    def is_root(self) -> bool:
        return self.type is PrincipalType.ACCOUNT


ANONYMOUS = Principal(PrincipalType.ANONYMOUS)


def service_principal(service: str) -> Principal:
    return Principal(PrincipalType.SERVICE, service=service)


@lru_cache(maxsize=4)
def time_keys(second: int) -> Mapping[str, Sequence[str]]:
    """aws:CurrentTime and aws:EpochTime at `second` (epoch seconds, their granularity)."""
    stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"aws:currenttime": (stamp,), "aws:epochtime": (str(second),)}


@lru_cache(maxsize=4096)
def principal_of(arn: str) -> Principal:
    """The principal an IAM or STS ARN names (root, user, assumed-role session, federated user)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return Principal(PrincipalType.USER, arn=arn)
    account, resource = parts[4], parts[5]
    if parts[2] == "iam" and resource == "root":
        return Principal(PrincipalType.ACCOUNT, arn, account, name=account)
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        _, role, *session = resource.split("/")
        role_arn = f"arn:{parts[1]}:iam::{account}:role/{role}"
        return Principal(
            PrincipalType.ASSUMED_ROLE, arn, account, role_arn=role_arn, name=f"{role}:{'/'.join(session)}"
        )
    if parts[2] == "sts" and resource.startswith("federated-user/"):
        return Principal(PrincipalType.FEDERATED_USER, arn, account, name=resource.split("/", 1)[1])
    return Principal(PrincipalType.USER, arn, account, name=resource.rsplit("/", 1)[-1])


# -- decisions ----------------------------------------------------------------------------------------
class Decision(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


class PolicyKind(enum.Enum):
    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    SESSION = "session policy"
    BOUNDARY = "permissions boundary"


@dataclass(frozen=True)
class Outcome:
    """`kind`: which policy type denied (explicitly, or by not allowing); None when allowed."""

    decision: Decision
    kind: PolicyKind | None = None

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


ALLOWED = Outcome(Decision.ALLOW)


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: str
    resource: str
    keys: Keys


# -- compiled policies ----------------------------------------------------------------------------------
class _Match(enum.IntEnum):
    NONE = 0
    ACCOUNT = 1  # the principal's account, which delegates to its identity-based policies
    SPECIFIC = 2  # the principal itself (or everyone)


@dataclass(frozen=True)
class _Patterns:
    """The `*`/`?` patterns of one element (Action, Resource …), matched as one: plain values in a set,
    wildcard patterns in one compiled alternation, patterns with policy variables substituted per request."""

    ignore_case: bool
    literals: frozenset[str]
    regex: re.Pattern[str] | None
    dynamic: tuple[str, ...]

    def matches(self, value: str, keys: Keys) -> bool:
        if (value.lower() if self.ignore_case else value) in self.literals:
            return True
        if self.regex is not None and self.regex.fullmatch(value) is not None:
            return True
        for text in self.dynamic:
            regex = _substituted_glob(text, keys, self.ignore_case)
            if regex is not None and regex.fullmatch(value) is not None:
                return True
        return False


def _patterns(texts: list[str], *, ignore_case: bool, variables: bool) -> _Patterns:
    dynamic = tuple(t for t in texts if variables and "${" in t)
    static = [t for t in texts if t not in dynamic]
    literals = frozenset(t.lower() if ignore_case else t for t in static if _WILDCARD_FREE.fullmatch(t))
    wild = tuple(sorted(t for t in static if not _WILDCARD_FREE.fullmatch(t)))
    return _Patterns(ignore_case, literals, _alternation(wild, ignore_case) if wild else None, dynamic)


@lru_cache(maxsize=4096)
def _alternation(patterns: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    return _compiled("(?:" + "|".join(_glob_regex(p) for p in patterns) + ")", ignore_case)


def _glob_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=8192)
def glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """`*` any run of characters, `?` any one character, everything else literal."""
    return _compiled(_glob_regex(pattern), ignore_case)


def substitute(text: str, keys: Keys) -> str | None:
    """`text` with its policy variables replaced; None when one has no value and no default."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = _variable_value(match.group(1), keys)
        if found is None:
            missing = True
            return ""
        return found

    result = _VARIABLE.sub(value, text)
    return None if missing else result


def _variable_value(inner: str, keys: Keys) -> str | None:
    if inner in ("*", "?", "$"):
        return inner
    name, comma, default = inner.partition(",")
    values = keys.get(name.strip().lower())
    if values:
        return values[0]
    if comma:
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
    return None


def _substituted_glob(text: str, keys: Keys, ignore_case: bool) -> re.Pattern[str] | None:
    """A glob whose variables are replaced by literal text (a `${*}` is a literal star)."""
    regex: list[str] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        regex.append(_glob_regex(text[position : match.start()]))
        found = _variable_value(match.group(1), keys)
        if found is None:
            return None
        regex.append(re.escape(found))
        position = match.end()
    regex.append(_glob_regex(text[position:]))
    return _compiled("".join(regex), ignore_case)


@lru_cache(maxsize=4096)
def _compiled(regex: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@dataclass(frozen=True)
class _Principals:
    everyone: bool
    aws: frozenset[str]  # ARNs named exactly
    accounts: frozenset[str]  # account ids (12 digits or arn:…:root)
    services: frozenset[str]

    def match(self, principal: Principal) -> _Match:
        if self.everyone:
            return _Match.SPECIFIC
        if principal.service is not None:
            return _Match.SPECIFIC if principal.service in self.services else _Match.NONE
        if principal.arn is not None and (
            principal.arn in self.aws or (principal.role_arn is not None and principal.role_arn in self.aws)
        ):
            return _Match.SPECIFIC
        if principal.account is not None and principal.account in self.accounts:
            # Naming the account is naming its root user itself.
            return _Match.SPECIFIC if principal.is_root else _Match.ACCOUNT
        return _Match.NONE


_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")


def _principals(value: Any) -> _Principals:
    if value == "*":
        return _Principals(True, frozenset(), frozenset(), frozenset())
    aws: set[str] = set()
    accounts: set[str] = set()
    services: set[str] = set()
    everyone = False
    if isinstance(value, dict):
        for kind, items in value.items():
            for item in _strings(items):
                if kind == "AWS":
                    root = _ROOT.fullmatch(item)
                    if item == "*":
                        everyone = True
                    elif item.isdigit():
                        accounts.add(item)
                    elif root is not None:
                        accounts.add(root.group(1))
                    else:
                        aws.add(item)
                elif kind == "Service":
                    services.add(item)
    return _Principals(everyone, frozenset(aws), frozenset(accounts), frozenset(services))


@dataclass(frozen=True)
class _Condition:
    test: Callable[[Keys], bool]


@dataclass(frozen=True)
class Statement:
    sid: str | None
    allow: bool
    actions: _Patterns
    not_action: bool
    resources: _Patterns | None  # None: the element is absent (resource-based policies)
    not_resource: bool
    principals: _Principals | None
    not_principal: bool
    conditions: tuple[_Condition, ...]

    def applies(self, request: Request, *, resource_based: bool) -> _Match:
        """How this statement applies to the request (NONE: not at all)."""
        action = request.action.lower()
        if self.actions.matches(action, request.keys) == self.not_action:
            return _Match.NONE
        if self.resources is not None:
            if self.resources.matches(request.resource, request.keys) == self.not_resource:
                return _Match.NONE
        elif not resource_based:  # identity-based statements must name their resources (trust policies don't)
            return _Match.NONE
        match = _Match.SPECIFIC
        if resource_based:
            if self.principals is None:
                return _Match.NONE
            match = self.principals.match(request.principal)
            if self.not_principal:
                match = _Match.SPECIFIC if match is _Match.NONE else _Match.NONE
            if match is _Match.NONE:
                return match
        if not all(condition.test(request.keys) for condition in self.conditions):
            return _Match.NONE
        return match


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]

    def denies(self, request: Request, *, resource_based: bool = False) -> bool:
        return any(
            not s.allow and s.applies(request, resource_based=resource_based) is not _Match.NONE
            for s in self.statements
        )

    def allows(self, request: Request) -> bool:
        return any(
            s.allow and s.applies(request, resource_based=False) is not _Match.NONE for s in self.statements
        )

    def grants(self, request: Request) -> _Match:
        """The strongest Allow of this resource-based policy for the request."""
        best = _Match.NONE
        for statement in self.statements:
            if statement.allow:
                best = max(best, statement.applies(request, resource_based=True))
        return best


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [_text(item) for item in values if item is not None]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def compile_policy(document: Mapping[str, Any] | str) -> Policy:
    """A policy ready to evaluate; documents are cached by their text. Malformed parts match nothing
    (documents are validated where they are stored: IAM, S3, Lambda)."""
    text = document if isinstance(document, str) else orjson.dumps(document).decode()
    return _compile(text)


@lru_cache(maxsize=2048)
def _compile(text: str) -> Policy:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return Policy(())
    if not isinstance(document, dict):
        return Policy(())
    variables = document.get("Version") == "2012-10-17"
    raw = document.get("Statement") or []
    statements = raw if isinstance(raw, list) else [raw]
    return Policy(tuple(_statement(s, variables) for s in statements if isinstance(s, dict)))


def _statement(raw: Mapping[str, Any], variables: bool) -> Statement:
    not_action = "NotAction" in raw
    actions = _patterns(
        [a.lower() for a in _strings(raw.get("NotAction" if not_action else "Action", []))],
        ignore_case=True,
        variables=False,
    )
    not_resource = "NotResource" in raw
    resources: _Patterns | None = None
    if "Resource" in raw or not_resource:
        resources = _patterns(
            _strings(raw.get("NotResource" if not_resource else "Resource", [])),
            ignore_case=False,
            variables=variables,
        )
    not_principal = "NotPrincipal" in raw
    principals = None
    if "Principal" in raw or not_principal:
        principals = _principals(raw.get("NotPrincipal" if not_principal else "Principal"))
    conditions: list[_Condition] = []
    block = raw.get("Condition") or {}
    if isinstance(block, dict):
        for operator, entries in block.items():
            if not isinstance(entries, dict):
                conditions.append(_Condition(lambda keys: False))
                continue
            for key, expected in entries.items():
                conditions.append(_Condition(condition(operator, key, _strings(expected), variables)))
    return Statement(
        raw.get("Sid") if isinstance(raw.get("Sid"), str) else None,
        raw.get("Effect") == "Allow",
        actions,
        not_action,
        resources,
        not_resource,
        principals,
        not_principal,
        tuple(conditions),
    )


# -- conditions ----------------------------------------------------------------------------------------
Compare = Callable[[str, str], bool]


def _string_like(value: str, pattern: str) -> bool:
    return glob(pattern).fullmatch(value) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, expected: str) -> bool:
        a, b = _number(value), _number(expected)
        return a is not None and b is not None and test(a, b)

    return compare


@lru_cache(maxsize=1024)
def _instant(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date/time or an epoch number."""
    number = _number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _date(test: Callable[[float, float], bool]) -> Compare:
    def compare(value: str, expected: str) -> bool:
        a, b = _instant(value), _instant(expected)
        return a is not None and b is not None and test(a, b)

    return compare


def _binary(value: str, expected: str) -> bool:
    try:
        return base64.b64decode(value, validate=True) == base64.b64decode(expected, validate=True)
    except (binascii.Error, ValueError):
        return False


@lru_cache(maxsize=1024)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ip(value: str, expected: str) -> bool:
    network = _network(expected)
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return network is not None and address.version == network.version and address in network


def _arn_like(value: str, expected: str) -> bool:
    """ARNs compare segment by segment (the six colon-separated parts), each with wildcards."""
    actual_parts = value.split(":", 5)
    expected_parts = expected.split(":", 5)
    if len(actual_parts) != 6 or len(expected_parts) != 6:
        return False
    return all(glob(p).fullmatch(a) is not None for a, p in zip(actual_parts, expected_parts, strict=True))


# base operator -> (comparison, negated)
OPERATORS: dict[str, tuple[Compare, bool]] = {
    "stringequals": (lambda a, b: a == b, False),
    "stringnotequals": (lambda a, b: a == b, True),
    "stringequalsignorecase": (lambda a, b: a.lower() == b.lower(), False),
    "stringnotequalsignorecase": (lambda a, b: a.lower() == b.lower(), True),
    "stringlike": (_string_like, False),
    "stringnotlike": (_string_like, True),
    "numericequals": (_numeric(lambda a, b: a == b), False),
    "numericnotequals": (_numeric(lambda a, b: a == b), True),
    "numericlessthan": (_numeric(lambda a, b: a < b), False),
    "numericlessthanequals": (_numeric(lambda a, b: a <= b), False),
    "numericgreaterthan": (_numeric(lambda a, b: a > b), False),
    "numericgreaterthanequals": (_numeric(lambda a, b: a >= b), False),
    "dateequals": (_date(lambda a, b: a == b), False),
    "datenotequals": (_date(lambda a, b: a == b), True),
    "datelessthan": (_date(lambda a, b: a < b), False),
    "datelessthanequals": (_date(lambda a, b: a <= b), False),
    "dategreaterthan": (_date(lambda a, b: a > b), False),
    "dategreaterthanequals": (_date(lambda a, b: a >= b), False),
    "bool": (lambda a, b: a.lower() == b.lower(), False),
    "binaryequals": (_binary, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
}


def condition(operator: str, key: str, expected: list[str], variables: bool = True) -> Callable[[Keys], bool]:
    """One condition (operator, key, policy values) as a test of the request's keys. An unknown operator
    never holds (AWS refuses such policies where they are stored)."""
    lowered = operator.lower()
    qualifier = ""
    for prefix in ("foranyvalue:", "forallvalues:"):
        if lowered.startswith(prefix):
            qualifier, lowered = prefix, lowered[len(prefix) :]
    if_exists = lowered.endswith("ifexists") and lowered != "ifexists"
    base = lowered[: -len("ifexists")] if if_exists else lowered
    name = key.lower()
    if base == "null":
        return _null(name, expected)
    found = OPERATORS.get(base)
    if found is None:
        return lambda keys: False
    compare, negated = found
    dynamic = variables and any("${" in value for value in expected)

    def values_of(keys: Keys) -> list[str]:
        if not dynamic:
            return expected
        return [v for v in (substitute(value, keys) for value in expected) if v is not None]

    def hits(value: str, keys: Keys) -> bool:
        """Does one request value satisfy the operator (any policy value; for negated ones, none)?"""
        hit = any(compare(value, wanted) for wanted in values_of(keys))
        return not hit if negated else hit

    def test(keys: Keys) -> bool:
        actual = keys.get(name)
        if not actual:
            if if_exists:
                return True
            if qualifier == "forallvalues:":
                return True
            if qualifier == "foranyvalue:":
                return False
            return negated
        if qualifier == "forallvalues:":
            return all(hits(value, keys) for value in actual)
        if negated and not qualifier:
            wanted = values_of(keys)
            return not any(compare(value, w) for value in actual for w in wanted)
        return any(hits(value, keys) for value in actual)

    return test


def _null(name: str, expected: list[str]) -> Callable[[Keys], bool]:
    def test(keys: Keys) -> bool:
        absent = not keys.get(name)
        return any((value.lower() == "true") == absent for value in expected)

    return test


# -- evaluation -----------------------------------------------------------------------------------------
def evaluate(
    request: Request,
    identity: Sequence[Policy] = (),
    resource: Policy | None = None,
    session: Sequence[Policy] | None = None,
    boundary: Policy | None = None,
) -> Outcome:
    """The decision for one request within one account (see the module's docstring for the order).
    `session`: None when the caller has no session policies (an empty list would deny everything)."""
    for policy in identity:
        if policy.denies(request):
            return Outcome(Decision.EXPLICIT_DENY, PolicyKind.IDENTITY)
    if resource is not None and resource.denies(request, resource_based=True):
        return Outcome(Decision.EXPLICIT_DENY, PolicyKind.RESOURCE)
    for policy in session or ():
        if policy.denies(request):
            return Outcome(Decision.EXPLICIT_DENY, PolicyKind.SESSION)
    if boundary is not None and boundary.denies(request):
        return Outcome(Decision.EXPLICIT_DENY, PolicyKind.BOUNDARY)
    principal = request.principal
    if principal.is_root:
        return ALLOWED
    granted = resource.grants(request) if resource is not None else _Match.NONE
    if granted is _Match.SPECIFIC:
        # A grant to the role (not to the session itself) is still limited by the session's policies.
        through_role = principal.type is PrincipalType.ASSUMED_ROLE and not _names_session(resource, request)
        if not through_role or session is None or any(p.allows(request) for p in session):
            return ALLOWED
    if principal.type in (PrincipalType.ANONYMOUS, PrincipalType.SERVICE):
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.RESOURCE)
    if not any(policy.allows(request) for policy in identity):
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.IDENTITY)
    if session is not None and not any(policy.allows(request) for policy in session):
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.SESSION)
    if boundary is not None and not boundary.allows(request):
        return Outcome(Decision.IMPLICIT_DENY, PolicyKind.BOUNDARY)
    return ALLOWED


def document_decision(
    document: Mapping[str, Any] | str, action: str, resource: str, keys: Keys | None = None
) -> Decision:
    """How one policy document, on its own, decides `action` on `resource` (an explicit Deny wins). For
    policies that are not an IAM principal's: a Lambda authorizer's output, an API's resource policy."""
    policy = compile_policy(document)
    request = Request(ANONYMOUS, action, resource, keys or {})
    if policy.denies(request):
        return Decision.EXPLICIT_DENY
    return Decision.ALLOW if policy.allows(request) else Decision.IMPLICIT_DENY


def _names_session(resource: Policy | None, request: Request) -> bool:
    arn = request.principal.arn
    return resource is not None and any(
        s.allow and s.principals is not None and arn in s.principals.aws for s in resource.statements
    )
