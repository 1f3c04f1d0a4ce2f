"""EventBridge ARNs and the names the API accepts in their place."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdabox.core.events.models import DEFAULT_BUS
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

_BUS_ARN = re.compile(
    r"arn:aws[\w-]*:events:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):event-bus/(?P<name>.+)"
)
_RULE_ARN = re.compile(
    r"arn:aws[\w-]*:events:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):rule/(?:(?P<bus>[^/]+)/)?(?P<name>[^/]+)"
)


def invalid(message: str) -> AwsError:
    """EventBridge's ValidationException."""
    return AwsError("ValidationException", message)


def bus_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")


@dataclass(frozen=True)
class EventsNames:
    account: Account

    def bus_arn(self, bus: str) -> str:
        return f"arn:aws:events:{self.account.region}:{self.account.account_id}:event-bus/{bus}"

    def rule_arn(self, bus: str, rule: str) -> str:
        prefix = f"arn:aws:events:{self.account.region}:{self.account.account_id}:rule/"
        return prefix + (rule if bus == DEFAULT_BUS else f"{bus}/{rule}")

    def bus_name(self, name_or_arn: str | None) -> str:
        """`EventBusName` as a name or an ARN (absent: the default bus)."""
        if not name_or_arn:
            return DEFAULT_BUS
        match = _BUS_ARN.fullmatch(name_or_arn)
        if match is None:
            return name_or_arn
        if match["region"] != self.account.region or match["account"] != self.account.account_id:
            raise bus_not_found(name_or_arn)
        return match["name"]

    def resource(self, arn: str) -> tuple[str, str | None]:
        """(bus, rule name or None) of a taggable resource ARN: a rule or an event bus of this account."""
        for pattern in (_RULE_ARN, _BUS_ARN):
            match = pattern.fullmatch(arn)
            if match is None:
                continue
            if match["region"] != self.account.region or match["account"] != self.account.account_id:
                break
            if pattern is _BUS_ARN:
                return match["name"], None
            return match["bus"] or DEFAULT_BUS, match["name"]
        raise AwsError(
            "ValidationException",
            f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.",
        )
