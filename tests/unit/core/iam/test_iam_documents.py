"""Policy documents checked as IAM checks them, with its wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdabox.core.iam.documents import Kind, encoded, size, validate
from lambdabox.errors import AwsError


def statement_doc(**statement: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("[]", Kind.IDENTITY, "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17"}), Kind.IDENTITY, "Syntax errors in policy."),
        (json.dumps({"Version": "2012-10-17", "Statement": [], "Extra": 1}), Kind.IDENTITY, "Syntax errors in policy."),
        (json.dumps({"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
         Kind.IDENTITY, "The policy failed legacy parsing"),
        (statement_doc(Effect="Allow", Action="s3:*", NotAction="s3:Get*", Resource="*"), Kind.IDENTITY,
         "Policy statement must contain actions."),
        (statement_doc(Effect="Allow", Action="s3:*", Resource="*", Condition="yes"), Kind.IDENTITY,
         "Syntax errors in policy."),
        (statement_doc(Effect="Allow", Action=["s3:*", 3], Resource="*"), Kind.IDENTITY, "Syntax errors in policy."),
        (statement_doc(Sid="has space", Effect="Allow", Action="s3:*", Resource="*"), Kind.IDENTITY,
         "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression "
         "[0-9A-Za-z]*"),
        (statement_doc(Effect="Allow", Action="sts:AssumeRole", Principal={"AWS": "not-an-arn"}), Kind.TRUST,
         'Invalid principal in policy: "AWS":"not-an-arn"'),
        (statement_doc(Effect="Allow", Action="sts:AssumeRole", Principal={"Someone": "x"}), Kind.TRUST,
         "Syntax errors in policy."),
    ],
)  # fmt: skip
def test_malformed(text: str, kind: Kind, message: str) -> None:
    with pytest.raises(AwsError) as error:
        validate(text, kind)
    assert (error.value.code, error.value.message, error.value.status) == (
        "MalformedPolicyDocument",
        message,
        400,
    )


def test_valid_documents() -> None:
    single = json.dumps(
        {"Statement": {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b/*"}}
    )
    assert validate(single, Kind.IDENTITY)["Statement"]["Effect"] == "Deny"
    trusted = statement_doc(
        Effect="Allow",
        Action="sts:AssumeRole",
        Principal={"AWS": ["123456789012", "arn:aws:iam::123456789012:root"]},
    )
    validate(trusted, Kind.TRUST)
    existing = statement_doc(
        Effect="Allow", Action="sts:AssumeRole", Principal={"AWS": "arn:aws:iam::1:user/x"}
    )
    validate(existing, Kind.TRUST, lambda arn: True)
    with pytest.raises(AwsError):
        validate(existing, Kind.TRUST, lambda arn: False)


def test_size_and_encoding() -> None:
    assert size('{ "a" :\n "b c" }') == 10
    assert encoded('{"a": "b/c"}') == "%7B%22a%22%3A%20%22b%2Fc%22%7D"
