"""The policy of a browser form upload (POST Object): its expiration and conditions, checked as S3 does.

Conditions: `{"field": "value"}` and `["eq", "$field", "value"]` (exact), `["starts-with", "$field",
"prefix"]` (an empty prefix allows anything; for Content-Type every comma-separated value must match) and
`["content-length-range", min, max]`. Field names compare case-insensitively; `bucket` is the request's
bucket; `key` is compared after `${filename}` is replaced. Every form field but the signature, the policy,
the file and `x-ignore-*` ones must be named by a condition.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from lambdabox.errors import AwsError

EXEMPT = frozenset({"x-amz-signature", "signature", "awsaccesskeyid", "policy", "file"})


@dataclass(frozen=True)
class SizeRange:
    minimum: int
    maximum: int

    def check(self, size: int) -> None:
        if size < self.minimum:
            raise AwsError(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                400,
                fields={"ProposedSize": str(size), "MinSizeAllowed": str(self.minimum)},
            )
        if size > self.maximum:
            raise AwsError(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                400,
                fields={"ProposedSize": str(size), "MaxSizeAllowed": str(self.maximum)},
            )


def invalid_policy(message: str) -> AwsError:
    return AwsError("InvalidPolicyDocument", f"Invalid Policy: {message}", 400)


def denied(message: str) -> AwsError:
    return AwsError("AccessDenied", f"Invalid according to Policy: {message}", 403)


def _expiration(text: Any) -> datetime:
    if isinstance(text, str):
        for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
            try:
                return datetime.strptime(text, pattern).replace(tzinfo=UTC)
            except ValueError:
                continue
    raise invalid_policy(f"Invalid 'expiration' value: '{text}'")


def decode_policy(encoded: str, now: datetime) -> list[Any]:
    """The conditions of a base64 policy document that has not expired."""
    try:
        document = orjson.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise invalid_policy("Invalid JSON.") from None
    if not isinstance(document, dict):
        raise invalid_policy("Invalid JSON.")
    if "expiration" not in document:
        raise invalid_policy("Policy missing expiration.")
    if "conditions" not in document or not isinstance(document["conditions"], list):
        raise invalid_policy("Policy missing conditions.")
    if _expiration(document["expiration"]) < now:
        raise denied("Policy expired.")
    return list(document["conditions"])


def _shown(condition: Any) -> str:
    """As S3 quotes a condition: `["eq", "$key", "user/"]`, `{"bucket": "b"}`."""
    return json.dumps(condition, ensure_ascii=False)


def check_conditions(
    conditions: list[Any], fields: Mapping[str, str], bucket: str, key: str
) -> SizeRange | None:
    """Every condition holds and every field is covered; returns the content-length-range, if any."""
    values = {**fields, "bucket": bucket, "key": key}
    covered: set[str] = set()
    size: SizeRange | None = None
    for condition in conditions:
        if isinstance(condition, dict):
            if len(condition) != 1:
                raise invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
                )
            ((name, expected),) = condition.items()
            field = str(name).lower()
            covered.add(field)
            if not isinstance(expected, str) or values.get(field) != expected:
                raise denied(f"Policy Condition failed: {_shown(condition)}")
            continue
        if not isinstance(condition, list) or not condition or not isinstance(condition[0], str):
            raise invalid_policy("Invalid Condition: expected an object or an array.")
        operator = condition[0].lower()
        if operator == "content-length-range":
            bounds = condition[1:]
            if len(bounds) != 2 or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                raise denied(f"Policy Condition failed: {_shown(condition)}")
            size = SizeRange(bounds[0], bounds[1])
            continue
        if (
            operator not in ("eq", "starts-with")
            or len(condition) != 3
            or not isinstance(condition[1], str)
            or not condition[1].startswith("$")
            or not isinstance(condition[2], str)
        ):
            raise denied(f"Policy Condition failed: {_shown(condition)}")
        field, expected = condition[1][1:].lower(), condition[2]
        covered.add(field)
        actual = values.get(field)
        if operator == "eq":
            holds = actual == expected
        elif field == "content-type" and actual is not None:
            holds = all(part.strip().startswith(expected) for part in actual.split(","))
        else:
            holds = (actual is not None and actual.startswith(expected)) or expected == ""
        if not holds:
            raise denied(f"Policy Condition failed: {_shown(condition)}")
    for field in fields:
        if field not in EXEMPT and not field.startswith("x-ignore-") and field not in covered:
            raise denied(f"Extra input fields: {field}")
    return size
