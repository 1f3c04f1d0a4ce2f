"""Parameter names, selectors and labels."""

from __future__ import annotations

import pytest

from lambdabox.core.parameters import names
from lambdabox.errors import AwsError


@pytest.mark.parametrize(
    "name", ["plain", "/a/b.c-d_e", "/" + "/".join(["x"] * 15), "my-ssm-thing", "/x/aws"]
)
def test_valid_names(name: str) -> None:
    names.check_name(name)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("aws-thing", "ValidationException"),
        ("SSMthing", "ValidationException"),
        ("/ssm/x", "ValidationException"),
        ("/AWS/x", "AccessDeniedException"),
        ("a/b", "ValidationException"),
        ("/a//b", "ValidationException"),
        ("/a/", "ValidationException"),
        ("/a b", "ValidationException"),
        ("/" + "/".join(["x"] * 16), "HierarchyLevelLimitExceededException"),
    ],
)
def test_invalid_names(name: str, code: str) -> None:
    with pytest.raises(AwsError) as excinfo:
        names.check_name(name)
    assert excinfo.value.code == code


def test_selectors_and_arns() -> None:
    assert names.split_selector("/a/b", "r", "1") == ("/a/b", None)
    assert names.split_selector("/a/b:3", "r", "1") == ("/a/b", "3")
    assert names.split_selector("/a/b:prod", "r", "1") == ("/a/b", "prod")
    arn = names.arn("r", "123456789012", "/a/b")
    assert arn == "arn:aws:ssm:r:123456789012:parameter/a/b"
    assert names.split_selector(arn + ":2", "r", "123456789012") == ("/a/b", "2")
    assert names.arn("r", "123456789012", "plain") == "arn:aws:ssm:r:123456789012:parameter/plain"


@pytest.mark.parametrize(
    ("label", "bad"),
    [
        ("prod", False),
        ("v1.2_x-y", False),
        ("1st", True),
        ("awsy", True),
        ("SSM", True),
        ("a/b", True),
        ("x" * 101, True),
    ],
)
def test_labels(label: str, bad: bool) -> None:
    assert names.label_problem(label) is bad
