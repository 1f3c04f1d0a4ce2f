from __future__ import annotations

import pytest

from lambdabox.core.names import Account, FunctionRef, parse_function_ref
from lambdabox.errors import AwsError

ACCOUNT = Account("000000000000", "us-east-1")


@pytest.mark.parametrize(
    ("text", "qualifier", "expected"),
    [
        ("f", None, FunctionRef("f", None)),
        ("f:1", None, FunctionRef("f", "1")),
        ("f", "live", FunctionRef("f", "live")),
        ("000000000000:function:f", None, FunctionRef("f", None)),
        ("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST", None, FunctionRef("f", "$LATEST")),
        ("arn:aws:lambda:us-east-1:000000000000:function:f:1", "1", FunctionRef("f", "1")),
    ],
)
def test_accepted_forms(text: str, qualifier: str | None, expected: FunctionRef) -> None:
    assert parse_function_ref(ACCOUNT, text, qualifier) == expected


def test_mismatched_qualifier() -> None:
    with pytest.raises(AwsError) as excinfo:
        parse_function_ref(ACCOUNT, "f:1", "2")
    assert excinfo.value.code == "InvalidParameterValueException"


def test_other_region_is_not_reachable() -> None:
    with pytest.raises(AwsError) as excinfo:
        parse_function_ref(ACCOUNT, "arn:aws:lambda:eu-west-1:000000000000:function:f")
    assert excinfo.value.status == 404
    assert (
        excinfo.value.message == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )


def test_name_too_long() -> None:
    with pytest.raises(AwsError) as excinfo:
        parse_function_ref(ACCOUNT, "x" * 65)
    assert excinfo.value.code == "ValidationException"
