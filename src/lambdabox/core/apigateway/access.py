"""Who may call an API's route or method: `execute-api:Invoke` for AWS_IAM routes and methods (the
signer's IAM policies, a REST API's resource policy), and the kind of refusal an authorizer's answer is.
Each API type words the refusals its own way (http_api_plane, rest_api_plane)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from lambdabox.core.apigateway.authorizers import AuthorizerFailed, ExplicitlyDenied
from lambdabox.core.apigateway.jwt import Forbidden, Unauthorized
from lambdabox.core.iam.actions import Check
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.iam.policy import ALLOWED, Decision, Outcome, document_decision
from lambdabox.core.identity import AccessKey

log = logging.getLogger("lambdabox.apigateway")

Signer = Callable[[], AccessKey | None]
"""The verified signer of the request being answered (None: it is not signed); raises SignatureRefused.
Asked only when the route or method is AWS_IAM."""


def unsigned() -> AccessKey | None:
    return None


class SignatureRefused(Exception):
    """The request's signature is malformed or does not match (the message: AWS's words)."""


class IamRefused(Exception):
    """An AWS_IAM route or method refused the request; `kind`: unsigned | signature | iam-denied."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ExecuteAccess:
    def __init__(self, iam: Authorizer | None) -> None:
        """`iam`: who may invoke AWS_IAM routes and methods (None: authorization is off, every signer
        may)."""
        self._iam = iam

    def caller(self, signer: Signer, arn: str, source_ip: str, policy: str | None = None) -> AccessKey:
        """The signer of a request to an AWS_IAM route or method, allowed `execute-api:Invoke` on `arn`
        by its IAM policies or by the API's resource `policy` (a REST API's)."""
        try:
            caller = signer()
        except SignatureRefused as refused:
            raise IamRefused("signature", str(refused)) from None
        if caller is None:
            raise IamRefused("unsigned", "the request is not signed")
        self.check(caller.principal_arn, arn, source_ip, policy)
        return caller

    def check(
        self,
        principal_arn: str | None,
        arn: str,
        source_ip: str,
        policy: str | None,
        *,
        deny_only: bool = False,
    ) -> None:
        """`execute-api:Invoke` on `arn` for `principal_arn` (None: anonymous), by its IAM policies and the
        API's resource `policy`; `deny_only`: only an explicit deny in `policy` refuses (the caller was
        admitted otherwise: by a Lambda authorizer). The root user is refused only by an explicit deny.
        Raises IamRefused("iam-denied") in API Gateway's words; nothing is checked with authorization off."""
        if self._iam is None:
            return
        principal = self._iam.principal(principal_arn)
        if (principal.is_root or deny_only) and policy is None:
            return
        check = Check("execute-api:Invoke", arn, policy=policy)
        keys = self._iam.request_keys(principal, source_ip)
        if principal.is_root or deny_only:
            decision = (
                Decision.IMPLICIT_DENY
                if policy is None
                else document_decision(policy, check.action, arn, keys)
            )
            outcome = Outcome(Decision.EXPLICIT_DENY) if decision is Decision.EXPLICIT_DENY else ALLOWED
        else:
            outcome = self._iam.decide(principal, check, keys)
        if not outcome.allowed:
            explicit = " with an explicit deny" if outcome.decision is Decision.EXPLICIT_DENY else ""
            raise IamRefused(
                "iam-denied",
                f"User: {principal_arn or 'anonymous'} is not authorized to perform: execute-api:Invoke on "
                f"resource: {arn}{explicit}",
            )


def refusal(error: Unauthorized | Forbidden | AuthorizerFailed, api_id: str, request_id: str) -> str:
    """The kind of answer a request its authorizer refused gets (each API type words it), logged."""
    if isinstance(error, AuthorizerFailed):
        log.warning("API %s request %s: authorizer failed: %s", api_id, request_id, error)
        return "authorizer-failed"
    log.info("API %s request %s: refused by its authorizer: %s", api_id, request_id, error)
    if isinstance(error, Unauthorized):
        return "unauthorized"
    return "explicitly-denied" if isinstance(error, ExplicitlyDenied) else "denied"
