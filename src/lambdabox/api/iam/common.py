"""What every IAM handler shares: the per-request context and listings with Marker/MaxItems."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lambdabox.core.iam.credentials import IamCredentialStore
from lambdabox.core.iam.service import IamService, page
from lambdabox.errors import AwsError

T = TypeVar("T")
Output = dict[str, Any] | None


@dataclass(frozen=True)
class IamCall:
    iam: IamService
    caller: str  # the principal ARN that signed the request (root when authentication is off)
    credentials: IamCredentialStore | None = None

    def user_name(self, given: str | None) -> str:
        """`UserName`, or the calling user's own name when it is omitted (IAM's implicit self)."""
        if given:
            return given
        user = self.iam.caller_user(self.caller)
        if user is None:
            raise AwsError("ValidationError", "Must specify userName when calling with non-User credentials")
        return user.name


Handler = Callable[[IamCall, dict[str, Any]], Output]


def listing(
    key: str, items: Sequence[T], params: dict[str, Any], shape: Callable[[T], Any]
) -> dict[str, Any]:
    chosen, marker = page(items, params.get("Marker"), params.get("MaxItems"))
    out: dict[str, Any] = {key: [shape(item) for item in chosen], "IsTruncated": marker is not None}
    if marker is not None:
        out["Marker"] = marker
    return out
