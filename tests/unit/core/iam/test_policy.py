"""The policy engine, table-driven: actions, resources, principals, variables, every condition operator."""

from __future__ import annotations

from typing import Any

import pytest

from lambdabox.core.iam.policy import (
    ANONYMOUS,
    Decision,
    PolicyKind,
    PrincipalType,
    Request,
    compile_policy,
    condition,
    document_decision,
    evaluate,
    principal_of,
    service_principal,
)

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/app/worker"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn"


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> Any:
    return compile_policy({"Version": version, "Statement": list(statements)})


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def request(action: str, resource: str, principal: str | None = USER, **keys: Any) -> Request:
    who = ANONYMOUS if principal is None else principal_of(principal)
    context = {k.lower(): (v if isinstance(v, list) else [v]) for k, v in keys.items()}
    return Request(who, action, resource, context)


def decide(statements: list[dict[str, Any]], req: Request) -> bool:
    return evaluate(req, [policy(*statements)]).allowed


# -- actions and resources -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statement", "action", "resource", "allowed"),
    [
        (allow("s3:GetObject", "arn:aws:s3:::b/*"), "s3:GetObject", "arn:aws:s3:::b/k", True),
        (allow("s3:getobject", "arn:aws:s3:::b/*"), "s3:GetObject", "arn:aws:s3:::b/k", True),  # case
        (allow("S3:Get*", "arn:aws:s3:::b/*"), "s3:GetObjectTagging", "arn:aws:s3:::b/k", True),
        (allow("s3:Get?bject", "*"), "s3:GetObject", "x", True),
        (allow("s3:Get?bject", "*"), "s3:GetObjectX", "x", False),
        (allow("s3:GetObject", "arn:aws:s3:::b/*"), "s3:PutObject", "arn:aws:s3:::b/k", False),
        (
            allow("s3:GetObject", "arn:aws:s3:::B/*"),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            False,
        ),  # resources: case
        (allow("s3:GetObject", "arn:aws:s3:::b/a?c"), "s3:GetObject", "arn:aws:s3:::b/abc", True),
        (allow("s3:GetObject", "arn:aws:s3:::b/a?c"), "s3:GetObject", "arn:aws:s3:::b/abbc", False),
        (allow("s3:GetObject", "arn:aws:s3:::b"), "s3:GetObject", "arn:aws:s3:::b/k", False),
        (
            allow(["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::x", "arn:aws:s3:::b/*"]),
            "s3:GetObject",
            "arn:aws:s3:::b/k/deep/key",
            True,
        ),
        (allow("lambda:InvokeFunction", FN), "lambda:InvokeFunction", FN + ":1", False),  # qualified ARN
        (allow("lambda:InvokeFunction", FN + ":*"), "lambda:InvokeFunction", FN + ":1", True),
        (allow("lambda:*", "*"), "lambda:InvokeFunction", FN, True),
        (allow("*", "*"), "iam:CreateUser", "arn:aws:iam::1:user/x", True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "s3:GetObject", "x", True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "IAM:CreateUser", "x", False),
        (
            {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"},
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            True,
        ),
        (
            {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"},
            "s3:GetObject",
            "arn:aws:s3:::secret/k",
            False,
        ),
        ({"Effect": "Allow", "Action": "s3:*"}, "s3:GetObject", "arn:aws:s3:::b/k", False),  # no Resource
    ],
)
def test_actions_and_resources(statement: dict[str, Any], action: str, resource: str, allowed: bool) -> None:
    assert decide([statement], request(action, resource)) is allowed


def test_default_deny_and_explicit_deny_wins() -> None:
    req = request("s3:GetObject", "arn:aws:s3:::b/k")
    assert evaluate(req, []).decision is Decision.IMPLICIT_DENY
    assert evaluate(req, []).kind is PolicyKind.IDENTITY
    both = evaluate(req, [policy(allow()), policy(deny("s3:Get*", "arn:aws:s3:::b/*"))])
    assert both.decision is Decision.EXPLICIT_DENY and both.kind is PolicyKind.IDENTITY
    # A Deny in a resource policy beats an identity Allow, and even the root user.
    bucket = policy(deny("s3:*", "arn:aws:s3:::b/*", Principal="*"))
    assert evaluate(req, [policy(allow())], bucket).kind is PolicyKind.RESOURCE
    assert not evaluate(request("s3:GetObject", "arn:aws:s3:::b/k", ROOT), [], bucket).allowed
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k", ROOT), []).allowed


# -- resource-based policies and principals ------------------------------------------------------------
@pytest.mark.parametrize(
    ("principal_block", "caller", "allowed"),
    [
        ("*", USER, True),
        ("*", None, True),  # anonymous: public
        ({"AWS": "*"}, None, True),
        ({"AWS": USER}, USER, True),
        ({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/bob", USER]}, USER, True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, USER, False),
        ({"AWS": ACCOUNT}, USER, False),  # the account delegates to identity-based policies
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, USER, False),
        ({"AWS": ROLE}, SESSION, True),  # the role's sessions
        ({"AWS": SESSION}, SESSION, True),
        ({"AWS": USER}, None, False),
        ({"Service": "s3.amazonaws.com"}, USER, False),
    ],
)
def test_resource_policy_principals(principal_block: Any, caller: str | None, allowed: bool) -> None:
    resource = policy(allow("s3:GetObject", "arn:aws:s3:::b/*", Principal=principal_block))
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k", caller), [], resource).allowed is allowed


def test_account_principal_with_identity_allow() -> None:
    resource = policy(allow("s3:GetObject", "arn:aws:s3:::b/*", Principal={"AWS": ACCOUNT}))
    identity = policy(allow("s3:GetObject", "*"))
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::b/k"), [identity], resource).allowed


def test_service_principal_and_not_principal() -> None:
    resource = policy(
        allow(
            "lambda:InvokeFunction",
            FN,
            Principal={"Service": "s3.amazonaws.com"},
            Condition={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"}},
        )
    )
    s3 = service_principal("s3.amazonaws.com")
    ok = Request(s3, "lambda:InvokeFunction", FN, {"aws:sourcearn": ["arn:aws:s3:::uploads"]})
    assert evaluate(ok, [], resource).allowed
    other = Request(s3, "lambda:InvokeFunction", FN, {"aws:sourcearn": ["arn:aws:s3:::other"]})
    assert evaluate(other, [], resource).kind is PolicyKind.RESOURCE
    events = Request(service_principal("events.amazonaws.com"), "lambda:InvokeFunction", FN, ok.keys)
    assert not evaluate(events, [], resource).allowed
    everyone_but = policy(
        {"Effect": "Deny", "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "*"}
    )
    identity = [policy(allow())]
    assert evaluate(request("s3:GetObject", "x", USER), identity, everyone_but).allowed
    assert not evaluate(
        request("s3:GetObject", "x", f"arn:aws:iam::{ACCOUNT}:user/bob"), identity, everyone_but
    ).allowed


def test_session_policies_intersect() -> None:
    identity = [policy(allow("s3:*"))]
    session = [policy(allow("s3:GetObject"))]
    assert evaluate(request("s3:GetObject", "x", SESSION), identity, None, session).allowed
    refused = evaluate(request("s3:PutObject", "x", SESSION), identity, None, session)
    assert refused.decision is Decision.IMPLICIT_DENY and refused.kind is PolicyKind.SESSION
    # A resource policy naming the session itself is enough; naming the role is still limited by it.
    names_session = policy(allow("s3:PutObject", "x", Principal={"AWS": SESSION}))
    assert evaluate(request("s3:PutObject", "x", SESSION), [], names_session, session).allowed
    names_role = policy(allow("s3:PutObject", "x", Principal={"AWS": ROLE}))
    assert not evaluate(request("s3:PutObject", "x", SESSION), [], names_role, session).allowed
    assert evaluate(request("s3:PutObject", "x", SESSION), [], names_role, None).allowed


def test_permissions_boundary() -> None:
    identity = [policy(allow())]
    boundary = policy(allow("s3:*"))
    assert evaluate(request("s3:GetObject", "x"), identity, boundary=boundary).allowed
    assert evaluate(request("iam:CreateUser", "x"), identity, boundary=boundary).kind is PolicyKind.BOUNDARY


def test_principal_of() -> None:
    assert principal_of(ROOT).type is PrincipalType.ACCOUNT
    user = principal_of(f"arn:aws:iam::{ACCOUNT}:user/division/alice")
    assert (user.type, user.name, user.account) == (PrincipalType.USER, "alice", ACCOUNT)
    session = principal_of(SESSION)
    assert (session.type, session.role_arn, session.name) == (PrincipalType.ASSUMED_ROLE, ROLE, "app:worker")


# -- policy variables ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("resource", "key", "allowed"),
    [
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/alice/f", True),
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/f", False),
        ("arn:aws:s3:::home/${aws:PrincipalTag/team}/*", "arn:aws:s3:::home/red/f", True),
        ("arn:aws:s3:::home/${aws:missing}/*", "arn:aws:s3:::home//f", False),
        ("arn:aws:s3:::home/${aws:missing, 'shared'}/*", "arn:aws:s3:::home/shared/f", True),
        ("arn:aws:s3:::home/${*}", "arn:aws:s3:::home/*", True),  # a literal star
        ("arn:aws:s3:::home/${*}", "arn:aws:s3:::home/x", False),
    ],
)
def test_policy_variables(resource: str, key: str, allowed: bool) -> None:
    req = request("s3:GetObject", key, **{"aws:username": "alice", "aws:PrincipalTag/team": "red"})
    assert decide([allow("s3:GetObject", resource)], req) is allowed


def test_variables_only_in_2012_policies() -> None:
    old = compile_policy(
        {"Version": "2008-10-17", "Statement": [allow("s3:*", "arn:aws:s3:::${aws:username}")]}
    )
    assert not evaluate(
        request("s3:GetObject", "arn:aws:s3:::alice", **{"aws:username": "alice"}), [old]
    ).allowed
    assert evaluate(request("s3:GetObject", "arn:aws:s3:::${aws:username}"), [old]).allowed


# -- conditions ----------------------------------------------------------------------------------------
C = [
    # (operator, key, policy values, request values (None: absent), holds)
    ("StringEquals", "k", ["a"], ["a"], True),
    ("StringEquals", "k", ["a"], ["A"], False),
    ("StringEquals", "k", ["a", "b"], ["b"], True),  # values OR
    ("StringEquals", "k", ["a"], None, False),
    ("StringNotEquals", "k", ["a"], ["b"], True),
    ("StringNotEquals", "k", ["a", "b"], ["b"], False),
    ("StringNotEquals", "k", ["a"], None, True),  # negated operators hold for an absent key
    ("StringEqualsIgnoreCase", "k", ["abc"], ["ABC"], True),
    ("StringNotEqualsIgnoreCase", "k", ["abc"], ["ABC"], False),
    ("StringLike", "k", ["home/*"], ["home/x/y"], True),
    ("StringLike", "k", ["h?me"], ["home"], True),
    ("StringLike", "k", ["home/*"], ["Home/x"], False),
    ("StringNotLike", "k", ["home/*"], ["tmp/x"], True),
    ("StringNotLike", "k", ["home/*"], ["home/x"], False),
    ("NumericEquals", "k", ["10"], ["10.0"], True),
    ("NumericNotEquals", "k", ["10"], ["11"], True),
    ("NumericLessThan", "k", ["10"], ["9"], True),
    ("NumericLessThan", "k", ["10"], ["10"], False),
    ("NumericLessThanEquals", "k", ["10"], ["10"], True),
    ("NumericGreaterThan", "k", ["10"], ["11"], True),
    ("NumericGreaterThanEquals", "k", ["10"], ["9"], False),
    ("NumericEquals", "k", ["10"], ["ten"], False),
    ("DateEquals", "k", ["2024-01-01T00:00:00Z"], ["1704067200"], True),
    ("DateNotEquals", "k", ["2024-01-01T00:00:00Z"], ["2024-01-02T00:00:00Z"], True),
    ("DateLessThan", "k", ["2024-01-01T00:00:00Z"], ["2023-12-31T23:59:59Z"], True),
    ("DateLessThanEquals", "k", ["2024-01-01"], ["2024-01-01T00:00:00Z"], True),
    ("DateGreaterThan", "k", ["2024-01-01T00:00:00Z"], ["2024-06-01T00:00:00+00:00"], True),
    ("DateGreaterThanEquals", "k", ["2024-01-01T00:00:00Z"], ["2023-06-01T00:00:00Z"], False),
    ("Bool", "aws:SecureTransport", ["false"], ["false"], True),
    ("Bool", "aws:SecureTransport", ["true"], ["false"], False),
    ("Bool", "aws:SecureTransport", ["TRUE"], ["true"], True),
    ("Bool", "aws:SecureTransport", ["true"], None, False),
    ("BinaryEquals", "k", ["QmluYXJ5"], ["QmluYXJ5"], True),
    ("BinaryEquals", "k", ["QmluYXJ5"], ["QmluYXJ6"], False),
    ("IpAddress", "aws:SourceIp", ["127.0.0.0/8"], ["127.0.0.1"], True),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "127.0.0.1/32"], ["127.0.0.1"], True),
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8"], ["127.0.0.1"], False),
    ("IpAddress", "aws:SourceIp", ["::1/128"], ["::1"], True),
    ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8"], ["127.0.0.1"], True),
    ("NotIpAddress", "aws:SourceIp", ["127.0.0.0/8"], ["127.0.0.1"], False),
    ("ArnEquals", "aws:SourceArn", ["arn:aws:s3:::b"], ["arn:aws:s3:::b"], True),
    (
        "ArnLike",
        "aws:SourceArn",
        ["arn:aws:events:*:*:rule/r*"],
        ["arn:aws:events:us-east-1:1:rule/r1"],
        True,
    ),
    ("ArnLike", "aws:SourceArn", ["arn:aws:s3:::b*"], ["arn:aws:s3:::c"], False),
    ("ArnLike", "aws:SourceArn", ["arn:aws:s3:::b"], ["not-an-arn"], False),
    ("ArnNotEquals", "aws:SourceArn", ["arn:aws:s3:::b"], ["arn:aws:s3:::c"], True),
    ("ArnNotLike", "aws:SourceArn", ["arn:aws:s3:::*"], ["arn:aws:s3:::c"], False),
    ("Null", "k", ["true"], None, True),
    ("Null", "k", ["true"], ["x"], False),
    ("Null", "k", ["false"], ["x"], True),
    ("Null", "k", ["false"], None, False),
    ("StringEqualsIfExists", "k", ["a"], None, True),
    ("StringEqualsIfExists", "k", ["a"], ["b"], False),
    ("NumericLessThanIfExists", "k", ["3"], None, True),
    ("ArnLikeIfExists", "k", ["arn:*:*:*:*:*"], None, True),
    ("BoolIfExists", "k", ["true"], ["true"], True),
    ("ForAnyValue:StringEquals", "k", ["a", "b"], ["x", "b"], True),
    ("ForAnyValue:StringEquals", "k", ["a", "b"], ["x", "y"], False),
    ("ForAnyValue:StringEquals", "k", ["a"], None, False),
    ("ForAnyValue:StringLike", "k", ["a*"], ["xa", "ab"], True),
    ("ForAnyValue:StringNotEquals", "k", ["a"], ["a", "b"], True),
    ("ForAllValues:StringEquals", "k", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", "k", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", "k", ["a"], None, True),  # vacuous truth
    ("ForAllValues:StringNotLike", "k", ["secret*"], ["public", "shared"], True),
    ("ForAllValues:StringNotLike", "k", ["secret*"], ["public", "secret-x"], False),
    ("ForAllValues:StringEqualsIfExists", "k", ["a"], ["a"], True),
    ("ForAnyValue:StringEqualsIfExists", "k", ["a"], None, True),
    ("NoSuchOperator", "k", ["a"], ["a"], False),
]


@pytest.mark.parametrize(("operator", "key", "expected", "actual", "holds"), C)
def test_condition_operators(
    operator: str, key: str, expected: list[str], actual: list[str] | None, holds: bool
) -> None:
    keys = {} if actual is None else {key.lower(): actual}
    assert condition(operator, key, expected)(keys) is holds


def test_conditions_keys_and_values() -> None:
    statement = allow(
        "s3:ListBucket",
        "arn:aws:s3:::b",
        Condition={
            "StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]},
            "Bool": {"aws:SecureTransport": False},
            "NumericLessThanEquals": {"s3:max-keys": 100},
        },
    )

    def listing(prefix: str, max_keys: str = "10") -> Request:
        return request(
            "s3:ListBucket",
            "arn:aws:s3:::b",
            **{
                "s3:prefix": prefix,
                "aws:username": "alice",
                "aws:SecureTransport": "false",
                "s3:max-keys": max_keys,
            },
        )

    assert decide([statement], listing("home/alice/docs"))
    assert decide([statement], listing("public/x"))
    assert not decide([statement], listing("home/bob/docs"))  # values OR, but keys AND
    assert not decide([statement], listing("public/x", "1000"))
    # Condition keys are case-insensitive.
    upper = allow("s3:*", "*", Condition={"StringEquals": {"AWS:USERNAME": "alice"}})
    assert decide([upper], request("s3:GetObject", "x", **{"aws:username": "alice"}))


def test_deny_with_condition() -> None:
    statements = [allow(), deny("s3:*", "*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})]
    assert not decide(statements, request("s3:GetObject", "x", **{"aws:SourceIp": "127.0.0.1"}))
    assert decide(statements, request("s3:GetObject", "x", **{"aws:SourceIp": "10.1.2.3"}))


def test_malformed_documents_match_nothing() -> None:
    assert compile_policy("not json").statements == ()
    assert compile_policy("[]").statements == ()
    assert not evaluate(request("s3:GetObject", "x"), [compile_policy('{"Statement": ["x"]}')]).allowed
    assert compile_policy('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}').statements


def test_a_documents_own_decision() -> None:
    route = "arn:aws:execute-api:us-east-1:1:api/prod/GET/pets"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            allow("execute-api:Invoke", "arn:aws:execute-api:us-east-1:1:api/prod/*"),
            deny("execute-api:Invoke", "arn:aws:execute-api:us-east-1:1:api/prod/DELETE/*"),
        ],
    }
    assert document_decision(document, "execute-api:Invoke", route) is Decision.ALLOW
    assert document_decision(document, "EXECUTE-API:invoke", route) is Decision.ALLOW
    delete = route.replace("GET", "DELETE")
    assert document_decision(document, "execute-api:Invoke", delete) is Decision.EXPLICIT_DENY
    other_stage = route.replace("prod", "test")
    assert document_decision(document, "execute-api:Invoke", other_stage) is Decision.IMPLICIT_DENY
