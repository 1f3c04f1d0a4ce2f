"""What a target receives: Input, InputPath, InputTransformer, and PutTargets' checks of them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from lambdabox.core.events.models import InputTransformer, Target
from lambdabox.core.events.transform import check_target, target_payload
from lambdabox.errors import AwsError

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e-1",
    "detail-type": "Order Placed",
    "source": "shop",
    "account": "000000000000",
    "time": "2024-03-10T10:16:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::bucket"],
    "detail": {
        "order": {"id": "o-1", "total": 12.5, "lines": [{"sku": "a"}, {"sku": "b"}]},
        "note": 'say "hi"',
    },
}
RULE_ARN = "arn:aws:events:us-east-1:000000000000:rule/orders"


def payload(target: Target) -> Any:
    return orjson.loads(target_payload(target, EVENT, "orders", RULE_ARN, 1710065760.0))


def transformed(template: str, **paths: str) -> Any:
    return payload(Target("t", "arn", input_transformer=InputTransformer(template, paths)))


def test_the_whole_event_by_default_and_a_constant_input() -> None:
    assert payload(Target("t", "arn")) == EVENT
    assert payload(Target("t", "arn", input='{"fixed": [1, 2]}')) == {"fixed": [1, 2]}
    assert payload(Target("t", "arn", input='"just text"')) == "just text"


@pytest.mark.parametrize(
    ("path", "expected"),
    [("$", EVENT), ("$.detail", EVENT["detail"]), ("$.detail.order.total", 12.5),
     ("$.detail.order.lines[1].sku", "b"), ("$.detail-type", "Order Placed"), ("$.detail.missing", None)],
)  # fmt: skip
def test_input_path(path: str, expected: Any) -> None:
    assert payload(Target("t", "arn", input_path=path)) == expected


def test_input_transformer_quotes_by_position() -> None:
    template = (
        '{"id": <id>, "total": <total>, "lines": <lines>, "text": "order <id> of <total>", "none": <none>}'
    )
    assert transformed(
        template,
        id="$.detail.order.id",
        total="$.detail.order.total",
        lines="$.detail.order.lines",
        none="$.x",
    ) == {
        "id": "o-1",
        "total": 12.5,
        "lines": [{"sku": "a"}, {"sku": "b"}],
        "text": "order o-1 of 12.5",
        "none": None,
    }


def test_input_transformer_objects_inside_strings_lose_their_quotes_and_missing_values_are_empty() -> None:
    result = transformed(
        '"lines: <lines>, missing: [<missing>]"', lines="$.detail.order.lines", missing="$.nope"
    )
    assert result == "lines: [{sku:a},{sku:b}], missing: []"


def test_input_transformer_escapes_strings_and_wraps_free_text() -> None:
    assert transformed('{"note": "<note>"}', note="$.detail.note") == {"note": 'say "hi"'}
    assert transformed("<source> placed an order", source="$.source") == '"shop" placed an order'


def test_input_transformer_predefined_variables() -> None:
    result = transformed(
        '{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", "at": <aws.events.event.ingestion-time>,'
        ' "event": <aws.events.event>, "full": <aws.events.event.json>}'
    )
    assert result["arn"] == RULE_ARN
    assert result["name"] == "orders"
    assert result["at"] == "2024-03-10T10:16:00Z"
    assert result["full"] == EVENT
    assert result["event"] == {k: v for k, v in EVENT.items() if k != "detail"}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Target("t1", "arn", input="{}", input_path="$"),
         "Only one of Input, InputPath, or InputTransformer must be provided for target t1."),
        (Target("t1", "arn", input="{bad"), "JSON syntax error in input for target t1"),
        (Target("t1", "arn", input_path="detail"), "InputPath for target t1 is invalid."),
        (Target("t1", "arn", input_path="$.detail['x']"), "InputPath for target t1 is invalid."),
        (Target("t1", "arn", input_transformer=InputTransformer("<a>", {"a": "detail"})),
         "InputPath for target t1 is invalid."),
        (Target("t1", "arn", input_transformer=InputTransformer('{"a": <b>}', {"a": "$.detail"})),
         "InputTemplate for target t1 contains invalid placeholder b."),
        (Target("t1", "arn", input_transformer=InputTransformer("[<aws.events.event.json>]")),
         "InputTemplate for target t1 contains placeholder aws.events.event.json valid only for JSON template."),
    ],
)  # fmt: skip
def test_put_targets_checks(target: Target, message: str) -> None:
    with pytest.raises(AwsError) as excinfo:
        check_target(target)
    assert (excinfo.value.code, excinfo.value.message) == ("ValidationException", message)


def test_valid_targets_pass() -> None:
    check_target(Target("t", "arn", input_path="$.detail.order.lines[0]"))
    check_target(Target("t", "arn", input_transformer=InputTransformer('{"e": <aws.events.event.json>}')))
