"""The STS front end (query protocol, version 2011-06-15): GetCallerIdentity, AssumeRole, GetSessionToken,
GetAccessKeyInfo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdabox.aws.model import load_service_model
from lambdabox.aws.query_protocol import QueryProtocol
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.entities import Session
from lambdabox.core.identity import root_arn
from lambdabox.core.sts import AssumeRoleRequest, Sts
from lambdabox.errors import AwsError


@dataclass(frozen=True)
class StsCall:
    sts: Sts
    caller: str


Output = dict[str, Any] | None


def _credentials(session: Session) -> dict[str, Any]:
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": session.expiration,
    }


def get_caller_identity(call: StsCall, params: dict[str, Any]) -> Output:
    identity = call.sts.caller_identity(call.caller)
    return {"UserId": identity.user_id, "Account": identity.account, "Arn": identity.arn}


def assume_role(call: StsCall, params: dict[str, Any]) -> Output:
    ask = AssumeRoleRequest(
        params["RoleArn"],
        params["RoleSessionName"],
        params.get("DurationSeconds"),
        params.get("Policy"),
        tuple(item["arn"] for item in params.get("PolicyArns") or [] if item.get("arn")),
        tuple((tag["Key"], tag["Value"]) for tag in params.get("Tags") or []),
        params.get("ExternalId"),
        params.get("SourceIdentity"),
    )
    session, _, packed = call.sts.assume_role(call.caller, ask)
    out: dict[str, Any] = {
        "Credentials": _credentials(session),
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.principal_arn},
    }
    if packed is not None:
        out["PackedPolicySize"] = packed
    if session.source_identity is not None:
        out["SourceIdentity"] = session.source_identity
    return out


def get_session_token(call: StsCall, params: dict[str, Any]) -> Output:
    session = call.sts.session_token(call.caller, params.get("DurationSeconds"))
    return {"Credentials": _credentials(session)}


def get_access_key_info(call: StsCall, params: dict[str, Any]) -> Output:
    return {"Account": call.sts.account_id}  # every key this server knows is of its one account


HANDLERS: dict[str, Callable[[StsCall, dict[str, Any]], Output]] = {
    "GetCallerIdentity": get_caller_identity,
    "GetAccessKeyInfo": get_access_key_info,
    "AssumeRole": assume_role,
    "GetSessionToken": get_session_token,
}


class StsApi:
    def __init__(self, sts: Sts) -> None:
        self._sts = sts
        self._protocol: QueryProtocol | None = None

    @property
    def protocol(self) -> QueryProtocol:
        """Loaded on the first STS request, not at start."""
        if self._protocol is None:
            self._protocol = QueryProtocol(load_service_model("sts"))
        return self._protocol

    async def handle(self, request: WireRequest) -> WireResponse:
        call = StsCall(self._sts, request.principal_arn or root_arn(self._sts.account_id))
        return self.protocol.answer(request, HANDLERS, call, service="STS")

    def refuse(self, error: AwsError) -> WireResponse:
        """A request the edge refused (authentication), worded as STS words it."""
        return self.protocol.refuse(error)
