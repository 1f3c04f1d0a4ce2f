"""EventBridge Scheduler ARNs and the errors that name a schedule or a group."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdabox.core.names import Account
from lambdabox.errors import AwsError

_GROUP_ARN = re.compile(
    r"arn:aws[a-z-]*:scheduler:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):schedule-group/(?P<name>[0-9a-zA-Z-_.]+)"
)


def invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def schedule_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Schedule {name} does not exist.", 404)


def group_not_found(name: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)


def conflict(message: str) -> AwsError:
    return AwsError("ConflictException", message, 409)


@dataclass(frozen=True)
class SchedulerNames:
    account: Account

    def group_arn(self, group: str) -> str:
        return f"arn:aws:scheduler:{self.account.region}:{self.account.account_id}:schedule-group/{group}"

    def schedule_arn(self, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{self.account.region}:{self.account.account_id}:schedule/{group}/{name}"

    def group_of(self, arn: str) -> str:
        """The group a taggable resource ARN names (only schedule groups are taggable)."""
        match = _GROUP_ARN.fullmatch(arn)
        if match is None:
            raise invalid(f"Invalid ResourceArn {arn}.")
        if match["region"] != self.account.region or match["account"] != self.account.account_id:
            raise group_not_found(match["name"])
        return match["name"]
