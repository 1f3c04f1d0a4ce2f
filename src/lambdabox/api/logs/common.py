"""What every CloudWatch Logs operation handler shares: the store, names and ARNs, errors, tokens."""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from lambdabox.core.names import Account
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import EventPosition, LogGroupInfo, LogStore, LogStream

_GROUP_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?"
)
_POSITION_DIGITS = 56


def invalid_parameter(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def group_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_not_found() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log stream does not exist.")


def invalid_token() -> AwsError:
    return invalid_parameter("The specified nextToken is invalid.")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Ctx:
    store: LogStore
    account: Account

    def group_arn(self, group: str, wildcard: bool = True) -> str:
        arn = f"arn:aws:logs:{self.account.region}:{self.account.account_id}:log-group:{group}"
        return arn + ":*" if wildcard else arn

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group, wildcard=False)}:log-stream:{stream}"

    def group_of_arn(self, arn: str) -> str | None:
        """The log group an ARN names in this account and region (None: another account or region)."""
        match = _GROUP_ARN.fullmatch(arn)
        if match is None:
            raise invalid_parameter(f"Invalid log group ARN: {arn}")
        if match["region"] != self.account.region or match["account"] != self.account.account_id:
            return None
        return match["name"]

    def group_name(self, params: dict[str, Any]) -> str:
        """`logGroupName` or `logGroupIdentifier` (a name or an ARN): exactly one of them."""
        name = params.get("logGroupName")
        identifier = params.get("logGroupIdentifier")
        if name is not None and identifier is not None:
            raise invalid_parameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        if name is not None:
            return str(name)
        if identifier is None:
            raise invalid_parameter("Should provide either name or ARN of the log group.")
        if not identifier.startswith("arn:"):
            return str(identifier)
        group = self.group_of_arn(identifier)
        if group is None:
            raise group_not_found()
        return group

    def require_group(self, group: str) -> LogGroupInfo:
        info = self.store.get_group(group)
        if info is None:
            raise group_not_found()
        return info

    def require_stream(self, group: str, stream: str) -> LogStream:
        self.require_group(group)
        found = self.store.get_stream(group, stream)
        if found is None:
            raise stream_not_found()
        return found


Handler = Callable[[Ctx, dict[str, Any]], dict[str, Any] | None]


# -- pagination tokens -----------------------------------------------------------------------------------
def encode_token(kind: str, value: Any) -> str:
    """An opaque nextToken carrying `value` (JSON), valid only for the operation `kind`."""
    raw = orjson.dumps([kind, value])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(kind: str, token: str) -> Any:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_token() from None
    if not isinstance(decoded, list) or len(decoded) != 2 or decoded[0] != kind:
        raise invalid_token()
    return decoded[1]


def position_digits(position: EventPosition) -> str:
    """A position in event order as the 56-digit number AWS uses for event ids and stream tokens."""
    timestamp, event_id = position
    return f"{timestamp:020d}{event_id:036d}"


def parse_position(digits: str) -> EventPosition:
    if len(digits) != _POSITION_DIGITS or not digits.isdigit():
        raise invalid_token()
    return int(digits[:20]), int(digits[20:])
