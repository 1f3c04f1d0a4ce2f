"""Operations → IAM actions, resource ARNs and condition keys; the authorizer's refusals, worded as AWS."""

from __future__ import annotations

from typing import Any

import pytest

from lambdabox.core.events.names import EventsNames
from lambdabox.core.iam.actions import (
    events_checks,
    iam_checks,
    lambda_checks,
    logs_checks,
    s3_checks,
    s3_delete_check,
)
from lambdabox.core.iam.authorizer import Authorizer, ResourcePolicies
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

ACCOUNT = Account("123456789012", "eu-west-1")
FN = "arn:aws:lambda:eu-west-1:123456789012:function:f"
USER = "arn:aws:iam::123456789012:user/alice"


def pairs(checks: list[Any]) -> list[tuple[str, str]]:
    return [(c.action, c.resource) for c in checks]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("Invoke", {"FunctionName": "f"}, [("lambda:InvokeFunction", FN)]),
        ("Invoke", {"FunctionName": "f", "Qualifier": "prod"}, [("lambda:InvokeFunction", FN + ":prod")]),
        ("Invoke", {"FunctionName": FN + ":3"}, [("lambda:InvokeFunction", FN + ":3")]),
        ("GetFunction", {"FunctionName": "123456789012:function:f"}, [("lambda:GetFunction", FN)]),
        ("ListFunctions", {}, [("lambda:ListFunctions", "*")]),
        ("GetAccountSettings", {}, [("lambda:GetAccountSettings", "*")]),
        ("CreateAlias", {"FunctionName": "f", "Name": "prod"}, [("lambda:CreateAlias", FN)]),
        ("TagResource", {"Resource": FN, "Tags": {}}, [("lambda:TagResource", FN)]),
        (
            "CreateFunction",
            {"FunctionName": "f", "Role": "arn:aws:iam::123456789012:role/r"},
            [("lambda:CreateFunction", FN), ("iam:PassRole", "arn:aws:iam::123456789012:role/r")],
        ),
    ],
)
def test_lambda(operation: str, params: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert pairs(lambda_checks(ACCOUNT, operation, params)) == expected


def test_lambda_keys_and_function_policy() -> None:
    (check,) = lambda_checks(ACCOUNT, "AddPermission", {"FunctionName": "f", "Principal": "s3.amazonaws.com"})
    assert check.keys["lambda:principal"] == ["s3.amazonaws.com"]
    assert check.function == ("f", None)
    create = lambda_checks(ACCOUNT, "CreateFunction", {"FunctionName": "f", "Role": "r"})[1]
    assert create.keys == {"iam:passedtoservice": ["lambda.amazonaws.com"]}


@pytest.mark.parametrize(
    ("operation", "params", "headers", "expected"),
    [
        ("GetObject", {"Bucket": "b", "Key": "a/b c"}, {}, [("s3:GetObject", "arn:aws:s3:::b/a/b c")]),
        (
            "GetObject",
            {"Bucket": "b", "Key": "k", "VersionId": "v"},
            {},
            [("s3:GetObjectVersion", "arn:aws:s3:::b/k")],
        ),
        ("HeadObject", {"Bucket": "b", "Key": "k"}, {}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        ("ListObjectsV2", {"Bucket": "b"}, {}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("HeadBucket", {"Bucket": "b"}, {}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        ("ListBuckets", {}, {}, [("s3:ListAllMyBuckets", "arn:aws:s3:::")]),
        ("UploadPart", {"Bucket": "b", "Key": "k"}, {}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
        ("ListParts", {"Bucket": "b", "Key": "k"}, {}, [("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k")]),
        ("DeleteBucketCors", {"Bucket": "b"}, {}, [("s3:PutBucketCORS", "arn:aws:s3:::b")]),
        (
            "GetBucketNotificationConfiguration",
            {"Bucket": "b"},
            {},
            [("s3:GetBucketNotification", "arn:aws:s3:::b")],
        ),
        ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}]}}, {}, []),  # per key, later
    ],
)
def test_s3(
    operation: str, params: dict[str, Any], headers: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    assert pairs(s3_checks(operation, params, headers)) == expected


def test_s3_keys_and_copies() -> None:
    (listing,) = s3_checks(
        "ListObjectsV2", {"Bucket": "b", "Prefix": "p/", "Delimiter": "/", "MaxKeys": 5}, {}
    )
    assert listing.keys == {"s3:prefix": ["p/"], "s3:delimiter": ["/"], "s3:max-keys": ["5"]}
    assert listing.bucket == "b"
    (put,) = s3_checks("PutObject", {"Bucket": "b", "Key": "k"}, {"x-amz-acl": "public-read"})
    assert put.keys == {"s3:x-amz-acl": ["public-read"]}
    assert pairs([s3_delete_check("b", "y", "1")]) == [("s3:DeleteObjectVersion", "arn:aws:s3:::b/y")]
    copy = s3_checks("CopyObject", {"Bucket": "d", "Key": "k"}, {}, ("s", "src key", "v1"))
    assert pairs(copy) == [
        ("s3:GetObjectVersion", "arn:aws:s3:::s/src key"),
        ("s3:PutObject", "arn:aws:s3:::d/k"),
    ]


def test_logs_events_iam() -> None:
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f"
    assert pairs(logs_checks(ACCOUNT, "CreateLogGroup", {"logGroupName": "/aws/lambda/f"})) == [
        ("logs:CreateLogGroup", f"{group}:log-stream:")
    ]
    assert pairs(
        logs_checks(ACCOUNT, "PutLogEvents", {"logGroupName": "/aws/lambda/f", "logStreamName": "s"})
    ) == [("logs:PutLogEvents", f"{group}:log-stream:s")]
    assert pairs(logs_checks(ACCOUNT, "DescribeLogGroups", {})) == [
        ("logs:DescribeLogGroups", "arn:aws:logs:eu-west-1:123456789012:log-group::log-stream:")
    ]
    names = EventsNames(ACCOUNT)
    assert pairs(events_checks(names, "PutRule", {"Name": "r", "EventBusName": "bus"})) == [
        ("events:PutRule", "arn:aws:events:eu-west-1:123456789012:rule/bus/r")
    ]
    put = events_checks(names, "PutEvents", {"Entries": [{"Source": "s", "DetailType": "d"}]})
    assert pairs(put) == [("events:PutEvents", "arn:aws:events:eu-west-1:123456789012:event-bus/default")]
    assert put[0].keys == {"events:source": ["s"], "events:detail-type": ["d"]}
    assert pairs(iam_checks(ACCOUNT, "CreateUser", {"UserName": "bob", "Path": "/ops/"}, USER)) == [
        ("iam:CreateUser", "arn:aws:iam::123456789012:user/ops/bob")
    ]
    assert pairs(iam_checks(ACCOUNT, "CreateAccessKey", {}, USER)) == [("iam:CreateAccessKey", USER)]
    assert pairs(iam_checks(ACCOUNT, "ListRoles", {}, USER)) == [
        ("iam:ListRoles", "arn:aws:iam::123456789012:role/")
    ]


class Source:
    def __init__(self, *documents: dict[str, Any]) -> None:
        self.documents = documents

    def identity_policies(self, principal_arn: str) -> list[tuple[str, dict[str, Any]]]:
        return [("p", d) for d in self.documents]

    def session_policies(self, principal_arn: str) -> list[Any]:
        return []

    def boundary_of(self, principal_arn: str) -> dict[str, Any] | None:
        return None


def refusal(
    authorizer: Authorizer, principal: str | None, action: str, resource: str, service: str
) -> AwsError:
    with pytest.raises(AwsError) as raised:
        authorizer.check(principal, action, resource, service=service)
    return raised.value


def test_refusals_are_worded_per_service() -> None:
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "logs:*", "Resource": "*"}]}
    authorizer = Authorizer(ACCOUNT.account_id, ACCOUNT.region, Source(deny))
    lam = refusal(authorizer, USER, "lambda:GetFunction", FN, "lambda")
    assert (lam.code, lam.status) == ("AccessDeniedException", 403)
    assert lam.message == (
        f"User: {USER} is not authorized to perform: lambda:GetFunction on resource: {FN} "
        "because no identity-based policy allows the lambda:GetFunction action"
    )
    logs = refusal(authorizer, USER, "logs:GetLogEvents", "x", "logs")
    assert (logs.code, logs.status) == ("AccessDeniedException", 400)
    assert logs.message.endswith("on resource: x with an explicit deny in an identity-based policy")
    s3 = refusal(authorizer, USER, "s3:GetObject", "arn:aws:s3:::b/k", "s3")
    assert (s3.code, s3.status) == (
        "AccessDenied",
        403,
    ) and 'resource: "arn:aws:s3:::b/k" because' in s3.message
    anonymous = refusal(authorizer, None, "s3:GetObject", "arn:aws:s3:::b/k", "s3")
    assert anonymous.message == "Access Denied"
    iam = refusal(authorizer, USER, "iam:CreateUser", "arn:aws:iam::123456789012:user/x", "iam")
    assert (iam.code, iam.status) == ("AccessDenied", 403)

    # The root user is never refused by identity policies, and its checks are not even computed.
    def never() -> list[Any]:
        raise AssertionError("the root user's checks were computed")

    authorizer.authorize("arn:aws:iam::123456789012:root", never, service="lambda")


def test_bucket_policies_deny_root_except_for_the_policy_itself() -> None:
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",'
        ' "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}]}'
    )
    authorizer = Authorizer(
        ACCOUNT.account_id, ACCOUNT.region, Source(), ResourcePolicies(bucket=lambda name: policy)
    )
    root = "arn:aws:iam::123456789012:root"

    def checks(operation: str) -> Any:
        return lambda: s3_checks(operation, {"Bucket": "b"}, {})

    with pytest.raises(AwsError) as refused:
        authorizer.authorize(root, checks("ListObjectsV2"), service="s3")
    assert "with an explicit deny in a resource-based policy" in refused.value.message
    authorizer.authorize(root, checks("DeleteBucketPolicy"), service="s3")
    authorizer.authorize(root, checks("GetBucketPolicy"), service="s3")
