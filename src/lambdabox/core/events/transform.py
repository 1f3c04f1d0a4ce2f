"""What a target receives: the event, or its `Input`, `InputPath` or `InputTransformer` rendering.

Paths are `$` followed by `.name` and `[index]` steps. In an `InputTemplate`, a placeholder `<name>` names
an `InputPathsMap` key or a predefined variable (`aws.events.rule-arn`, `aws.events.rule-name`,
`aws.events.event.ingestion-time`, `aws.events.event`, `aws.events.event.json`). Outside a JSON string a
placeholder becomes the value as JSON (strings quoted); inside one it becomes the value's text (strings
unquoted, objects and arrays with their quotes removed); a path that is not in the event becomes `null`
outside a string and nothing inside one. Lambda needs a JSON payload: an output that is not JSON (a
free-text template) is delivered as a JSON string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from lambdabox.core.events.models import Target, iso_time
from lambdabox.core.events.names import invalid

_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
JSON_ONLY_VARIABLES = ("aws.events.event", "aws.events.event.json")
PREDEFINED_VARIABLES = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    *JSON_ONLY_VARIABLES,
)
_MISSING = object()


def _steps(path: str) -> list[str | int] | None:
    """The steps of a JSON path, or None when it is not one EventBridge accepts."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return None
        steps.append(match[1] if match[1] is not None else int(match[2]))
        position = match.end()
    return steps


def extract(document: Any, path: str) -> Any:
    """The value at `path` in `document`, or `_MISSING`."""
    value = document
    for step in _steps(path) or []:
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            return _MISSING
        value = value[step]
    return value


# -- validation (PutTargets) -----------------------------------------------------------------------------
def check_target(target: Target) -> None:
    """Refuse a target's input settings as PutTargets does."""
    given = [target.input is not None, target.input_path is not None, target.input_transformer is not None]
    if sum(given) > 1:
        raise invalid(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target {target.id}."
        )
    if target.input is not None:
        try:
            orjson.loads(target.input)
        except orjson.JSONDecodeError:
            raise invalid(f"JSON syntax error in input for target {target.id}") from None
    if target.input_path is not None and _steps(target.input_path) is None:
        raise invalid(f"InputPath for target {target.id} is invalid.")
    transformer = target.input_transformer
    if transformer is None:
        return
    if any(_steps(path) is None for path in transformer.paths.values()):
        raise invalid(f"InputPath for target {target.id} is invalid.")
    json_object = transformer.template.strip().startswith("{")
    for name in _PLACEHOLDER.findall(transformer.template):
        if name in transformer.paths:
            continue
        if name not in PREDEFINED_VARIABLES:
            raise invalid(f"InputTemplate for target {target.id} contains invalid placeholder {name}.")
        if name in JSON_ONLY_VARIABLES and not json_object:
            raise invalid(
                f"InputTemplate for target {target.id} contains placeholder {name} valid only for JSON template."
            )


# -- rendering -------------------------------------------------------------------------------------------
def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _inside_string(value: Any) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return _json_text(value)[1:-1]  # escaped, so the output stays JSON
    if isinstance(value, (dict, list)):
        return _json_text(value).replace('"', "")
    return _json_text(value)


def render_template(template: str, values: Mapping[str, Any]) -> str:
    """Fill `<name>` placeholders, quoting by where each one stands (inside a JSON string or not)."""
    out: list[str] = []
    in_string = False
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and in_string:
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, index)
            if match is not None and match[1] in values:
                value = values[match[1]]
                if in_string:
                    out.append(_inside_string(value))
                else:
                    out.append("null" if value is _MISSING else _json_text(value))
                index = match.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)


def target_payload(
    target: Target, event: Mapping[str, Any], rule_name: str, rule_arn: str, ingested: float
) -> bytes:
    """The JSON payload `target` receives for `event` matched by the rule."""
    if target.input is not None:
        return target.input.encode()
    if target.input_path is not None:
        value = extract(event, target.input_path)
        return orjson.dumps(None if value is _MISSING else value)
    transformer = target.input_transformer
    if transformer is None:
        return orjson.dumps(event)
    values: dict[str, Any] = {name: extract(event, path) for name, path in transformer.paths.items()}
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": iso_time(ingested),
        }
    )
    rendered = render_template(transformer.template, values)
    # the event variables are raw JSON, not values to quote: substitute them after the others
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    for name, document in (("aws.events.event.json", event), ("aws.events.event", without_detail)):
        rendered = rendered.replace(f"<{name}>", _json_text(document))
    try:
        orjson.loads(rendered)
    except orjson.JSONDecodeError:
        return orjson.dumps(rendered)
    return rendered.encode()
