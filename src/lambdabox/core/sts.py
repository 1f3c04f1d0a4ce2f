"""STS: who is calling (GetCallerIdentity) and temporary credentials (AssumeRole, GetSessionToken).

A role may be assumed when its trust policy allows the caller, evaluated by the IAM policy engine as AWS
does within one account: the trust policy is the role's resource-based policy, so naming the caller (its
ARN, or its role for a session) is enough on its own, while naming the account delegates to the caller's
identity-based policies (which must allow `sts:AssumeRole` on the role). Sessions are stored and expire on
the platform clock; `credentials_for_role` issues the credentials the platform gives execution
environments, without a caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lambdabox.core.clock import Clock
from lambdabox.core.iam import documents, ids
from lambdabox.core.iam.documents import Kind
from lambdabox.core.iam.entities import Role, Session, Tags, TemporaryCredentials
from lambdabox.core.iam.policy import Request, compile_policy, evaluate, principal_of
from lambdabox.core.iam.service import IamService
from lambdabox.core.iam.store import IamStore
from lambdabox.core.identity import root_arn
from lambdabox.errors import AwsError

MIN_DURATION = 900
CHAINED_MAX = 3600
SESSION_TOKEN_DEFAULT = 43200
SESSION_TOKEN_MAX = 129600  # 36 hours (root: 1 hour)
SESSION_POLICY_MAX = 2048
KEEP_EXPIRED = 86400.0  # expired sessions still answer ExpiredToken for a day, then are forgotten


@dataclass(frozen=True)
class CallerIdentity:
    user_id: str
    account: str
    arn: str


@dataclass(frozen=True)
class AssumeRoleRequest:
    role_arn: str
    session_name: str
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: Tags = ()
    external_id: str | None = None
    source_identity: str | None = None


def access_denied(message: str) -> AwsError:
    return AwsError("AccessDenied", message, 403)


class Sts:
    def __init__(self, iam: IamService, store: IamStore, clock: Clock) -> None:
        self._iam = iam
        self._store = store
        self._clock = clock
        self.account_id = iam.account_id

    # -- GetCallerIdentity -------------------------------------------------------------------------------
    def caller_identity(self, principal_arn: str) -> CallerIdentity:
        account = self.account_id
        if principal_arn == root_arn(account):
            return CallerIdentity(account, account, principal_arn)
        user = self._iam.caller_user(principal_arn)
        if user is not None:
            return CallerIdentity(user.user_id, account, principal_arn)
        principal = principal_of(principal_arn)
        if principal.role_arn is not None and principal.name is not None:
            role = self._iam.get_role(principal.role_arn.rsplit("/", 1)[-1])
            role_id = role.role_id if role is not None else "AROA" + "0" * 17
            return CallerIdentity(f"{role_id}:{principal.name.split(':', 1)[1]}", account, principal_arn)
        return CallerIdentity(principal_arn.rsplit("/", 1)[-1], account, principal_arn)

    # -- AssumeRole ----------------------------------------------------------------------------------------
    def assume_role(self, caller_arn: str, ask: AssumeRoleRequest) -> tuple[Session, Role, int | None]:
        """The new session, its role and the packed size of its session policies and tags (percent of the
        limit; None when it has neither)."""
        caller = principal_of(caller_arn)
        if caller.is_root:
            raise access_denied("Roles may not be assumed by root accounts.")
        role = self._role_for(ask.role_arn)
        # Passing session tags or a source identity needs sts:TagSession / sts:SetSourceIdentity too.
        needed = ["sts:AssumeRole"]
        if ask.tags:
            needed.append("sts:TagSession")
        if ask.source_identity is not None:
            needed.append("sts:SetSourceIdentity")
        for action in needed:
            if role is None or not self._trusted(caller_arn, role, ask, action):
                raise access_denied(
                    f"User: {caller_arn} is not authorized to perform: {action} on resource: {ask.role_arn}"
                )
        assert role is not None
        duration = ask.duration_seconds or 3600
        chained = caller.role_arn is not None
        if chained and duration > CHAINED_MAX:
            raise AwsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role "
                "chaining.",
            )
        if duration > role.max_session_duration:
            raise AwsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
        packed = self._check_session_policies(ask)
        session = self._issue(
            f"arn:aws:sts::{self.account_id}:assumed-role/{role.name}/{ask.session_name}",
            f"{role.role_id}:{ask.session_name}",
            duration,
            role_arn=role.arn,
            session_name=ask.session_name,
            policy=ask.policy,
            policy_arns=ask.policy_arns,
            tags=ask.tags,
            source_identity=ask.source_identity,
        )
        return session, role, packed

    def _role_for(self, role_arn: str) -> Role | None:
        parts = role_arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
            raise AwsError("ValidationError", f"{role_arn} is invalid")
        if parts[4] != self.account_id:
            return None
        return self._iam.get_role(role_arn)

    def _trusted(self, caller_arn: str, role: Role, ask: AssumeRoleRequest, action: str) -> bool:
        caller = principal_of(caller_arn)
        now = self._clock.now()
        keys: dict[str, list[str]] = {
            "aws:principalarn": [caller.role_arn or caller_arn],
            "aws:principalaccount": [self.account_id],
            "aws:principaltype": [caller.type.value],
            "aws:currenttime": [datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
            "aws:epochtime": [str(int(now))],
            "sts:rolesessionname": [ask.session_name],
        }
        identity = self.caller_identity(caller_arn)
        keys["aws:userid"] = [identity.user_id]
        if caller.name is not None and caller.role_arn is None:
            keys["aws:username"] = [caller.name]
        if ask.external_id is not None:
            keys["sts:externalid"] = [ask.external_id]
        if ask.source_identity is not None:
            keys["sts:sourceidentity"] = [ask.source_identity]
        for key, value in ask.tags:
            keys[f"aws:requesttag/{key.lower()}"] = [value]
        if ask.tags:
            keys["aws:tagkeys"] = [key for key, _ in ask.tags]
        request = Request(caller, action, role.arn, keys)
        identity_policies = [compile_policy(doc) for _, doc in self._iam.identity_policies(caller_arn)]
        session = [compile_policy(doc) for _, doc in self._iam.session_policies(caller_arn)] or None
        boundary = self._iam.boundary_of(caller_arn)
        return evaluate(
            request,
            identity_policies,
            compile_policy(role.assume_role_policy_document),
            session,
            compile_policy(boundary) if boundary is not None else None,
        ).allowed

    def _check_session_policies(self, ask: AssumeRoleRequest) -> int | None:
        if ask.policy is not None:
            documents.validate(ask.policy, Kind.SESSION)
        for arn in ask.policy_arns:
            self._iam.policy(arn)
        if ask.policy is None and not ask.policy_arns and not ask.tags:
            return None
        plain = documents.size(ask.policy or "") + sum(len(a) for a in ask.policy_arns)
        plain += sum(len(k) + len(v) for k, v in ask.tags)
        percent = -(-plain * 100 // SESSION_POLICY_MAX)
        if percent > 100:
            raise AwsError(
                "PackedPolicyTooLarge",
                f"Packed size of consumed session policies and session tags exceeds the limit: {percent}% of the "
                "allowed size.",
            )
        return percent

    # -- GetSessionToken -------------------------------------------------------------------------------
    def session_token(self, caller_arn: str, duration_seconds: int | None) -> Session:
        caller = principal_of(caller_arn)
        if caller.role_arn is not None:
            raise access_denied("Cannot call GetSessionToken with session credentials")
        limit = CHAINED_MAX if caller.is_root else SESSION_TOKEN_MAX
        duration = min(duration_seconds or SESSION_TOKEN_DEFAULT, limit)
        identity = self.caller_identity(caller_arn)
        return self._issue(caller_arn, identity.user_id, duration)

    # -- for the platform ------------------------------------------------------------------------------
    def credentials_for_role(
        self, role_arn: str, session_name: str, duration_seconds: int
    ) -> TemporaryCredentials:
        """Credentials of a session of `role_arn` (the platform gives them to execution environments)."""
        role = self._iam.get_role(role_arn)
        if role is None:
            raise AwsError(
                "NoSuchEntity", f"The role with name {role_arn.rsplit('/', 1)[-1]} cannot be found.", 404
            )
        duration = max(MIN_DURATION, min(duration_seconds, role.max_session_duration))
        session = self._issue(
            f"arn:aws:sts::{self.account_id}:assumed-role/{role.name}/{session_name}",
            f"{role.role_id}:{session_name}",
            duration,
            role_arn=role.arn,
            session_name=session_name,
        )
        return TemporaryCredentials(
            session.access_key_id,
            session.secret_access_key,
            session.session_token,
            session.expiration,
            session.principal_arn,
            session.user_id,
        )

    def _issue(
        self,
        principal_arn: str,
        user_id: str,
        duration: int,
        *,
        role_arn: str | None = None,
        session_name: str | None = None,
        policy: str | None = None,
        policy_arns: tuple[str, ...] = (),
        tags: Tags = (),
        source_identity: str | None = None,
    ) -> Session:
        now = self._clock.now()
        session = Session(
            ids.access_key_id(ids.SESSION_KEY),
            ids.secret_access_key(),
            ids.session_token(),
            principal_arn,
            user_id,
            float(int(now) + duration),
            role_arn,
            session_name,
            policy,
            policy_arns,
            tags,
            source_identity,
        )
        self._store.delete_sessions_before(now - KEEP_EXPIRED)
        self._store.put_session(session)
        self._iam.session_issued(principal_arn)
        return session


class RoleSessions:
    """The execution-role sessions Lambda hands to environments: one per (role, function), shared by the
    function's new environments while it has at least half its lifetime left, then replaced (as Lambda
    caches role credentials). Issuing a session costs a sealed write; a burst of cold starts pays it once."""

    def __init__(self, sts: Sts, clock: Clock, duration_seconds: int) -> None:
        self._sts = sts
        self._clock = clock
        self._duration = duration_seconds
        self._sessions: dict[tuple[str, str], tuple[float, TemporaryCredentials]] = {}

    def credentials(self, role_arn: str, function_name: str) -> TemporaryCredentials:
        key = (role_arn, function_name)
        now = self._clock.now()
        cached = self._sessions.get(key)
        if cached is not None:
            issued, session = cached
            if now < issued + (session.expiration - issued) / 2:
                return session
        session = self._sts.credentials_for_role(role_arn, function_name, self._duration)
        self._sessions[key] = (now, session)
        return session
