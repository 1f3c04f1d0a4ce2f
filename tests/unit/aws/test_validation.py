"""Compiled constraint checks: a shape that contains itself, member paths, and AWS's wording and order."""

from __future__ import annotations

import pytest
from botocore.model import ServiceModel

from lambdabox.aws.validation import validate_input
from lambdabox.errors import AwsError

MODEL = {
    "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01", "endpointPrefix": "t"},
    "operations": {
        "Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "PutInput"}}
    },
    "shapes": {
        "PutInput": {
            "type": "structure",
            "required": ["Name"],
            "members": {
                "Name": {"shape": "Name"},
                "Tree": {"shape": "Node"},
                "Size": {"shape": "Size"},
                "Secret": {"shape": "Secret"},
            },
        },
        "Node": {
            "type": "structure",
            "required": ["Kind"],
            "members": {
                "Kind": {"shape": "Kind"},
                "Children": {"shape": "Nodes"},
                "Labels": {"shape": "Labels"},
            },
        },
        "Nodes": {"type": "list", "member": {"shape": "Node"}, "max": 2},
        "Labels": {"type": "map", "key": {"shape": "Name"}, "value": {"shape": "Name"}},
        "Name": {"type": "string", "min": 1, "max": 5, "pattern": "[a-z]+"},
        "Kind": {"type": "string", "enum": ["leaf", "branch"]},
        "Size": {"type": "integer", "min": 1, "max": 10},
        "Secret": {"type": "string", "max": 3, "sensitive": True},
    },
}


def _problems(params: dict[str, object]) -> str | None:
    operation = ServiceModel(MODEL, "t").operation_model("Put")
    try:
        validate_input(operation, params)
    except AwsError as error:
        return error.message
    return None


def test_valid_input_passes_through_a_shape_that_contains_itself() -> None:
    tree = {
        "Kind": "branch",
        "Children": [{"Kind": "leaf"}, {"Kind": "branch", "Children": [{"Kind": "leaf"}]}],
    }
    assert _problems({"Name": "abc", "Tree": tree, "Size": 3}) is None


def test_every_problem_with_its_path_in_the_models_order() -> None:
    tree = {
        "Children": [{"Kind": "tree"}, {"Kind": "leaf", "Labels": {"ok": "BAD"}}, {"Kind": "leaf"}],
    }
    message = _problems({"Name": "toolong", "Tree": tree, "Size": 0, "Secret": "hunter2"})
    assert message is not None
    assert message.startswith("7 validation errors detected: ")
    assert message.split(": ", 1)[1].split("; ") == [
        "Value 'toolong' at 'name' failed to satisfy constraint: Member must have length less than or equal to 5",
        "Value null at 'tree.kind' failed to satisfy constraint: Member must not be null",
        "Value '[{'Kind': 'tree'}, {'Kind': 'leaf', 'Labels': {'ok': 'BAD'}}, {'Kind': 'leaf'}]' at "
        "'tree.children' failed to satisfy constraint: Member must have length less than or equal to 2",
        "Value 'tree' at 'tree.children.1.member.kind' failed to satisfy constraint: Member must satisfy enum "
        "value set: [leaf, branch]",
        "Value 'BAD' at 'tree.children.2.member.labels.ok.value' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [a-z]+",
        "Value '0' at 'size' failed to satisfy constraint: Member must have value greater than or equal to 1",
        "Value '[REDACTED]' at 'secret' failed to satisfy constraint: Member must have length less than or "
        "equal to 3",
    ]


@pytest.mark.parametrize("name", ["", "ABC"])
def test_a_string_checked_for_length_and_pattern(name: str) -> None:
    message = _problems({"Name": name})
    assert message is not None and "at 'name'" in message
