"""The IAM front end: query-protocol dispatch around the operation handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel

from lambdabox.api.iam import groups, policies, roles, simulate, users
from lambdabox.api.iam.common import Handler, IamCall
from lambdabox.aws.model import load_service_model
from lambdabox.aws.query_protocol import QueryProtocol
from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.iam.actions import iam_checks
from lambdabox.core.iam.authorizer import Authorizer
from lambdabox.core.iam.credentials import IamCredentialStore
from lambdabox.core.iam.service import IamService
from lambdabox.core.identity import root_arn
from lambdabox.core.names import Account
from lambdabox.errors import AwsError

HANDLERS: dict[str, Handler] = {
    "CreateUser": users.create_user,
    "GetUser": users.get_user,
    "ListUsers": users.list_users,
    "UpdateUser": users.update_user,
    "DeleteUser": users.delete_user,
    "TagUser": users.tag_user,
    "UntagUser": users.untag_user,
    "ListUserTags": users.list_user_tags,
    "CreateAccessKey": users.create_access_key,
    "ListAccessKeys": users.list_access_keys,
    "UpdateAccessKey": users.update_access_key,
    "DeleteAccessKey": users.delete_access_key,
    "GetAccessKeyLastUsed": users.get_access_key_last_used,
    "ListMFADevices": users.list_mfa_devices,
    "ListSigningCertificates": users.list_signing_certificates,
    "ListSSHPublicKeys": users.list_ssh_public_keys,
    "ListServiceSpecificCredentials": users.list_service_specific_credentials,
    "GetLoginProfile": users.get_login_profile,
    "ListAccountAliases": users.list_account_aliases,
    "CreateGroup": groups.create_group,
    "GetGroup": groups.get_group,
    "ListGroups": groups.list_groups,
    "ListGroupsForUser": groups.list_groups_for_user,
    "UpdateGroup": groups.update_group,
    "DeleteGroup": groups.delete_group,
    "AddUserToGroup": groups.add_user_to_group,
    "RemoveUserFromGroup": groups.remove_user_from_group,
    "CreateRole": roles.create_role,
    "GetRole": roles.get_role,
    "ListRoles": roles.list_roles,
    "UpdateRole": roles.update_role,
    "UpdateRoleDescription": roles.update_role_description,
    "UpdateAssumeRolePolicy": roles.update_assume_role_policy,
    "DeleteRole": roles.delete_role,
    "TagRole": roles.tag_role,
    "UntagRole": roles.untag_role,
    "ListRoleTags": roles.list_role_tags,
    "CreateInstanceProfile": roles.create_instance_profile,
    "GetInstanceProfile": roles.get_instance_profile,
    "ListInstanceProfiles": roles.list_instance_profiles,
    "ListInstanceProfilesForRole": roles.list_instance_profiles_for_role,
    "AddRoleToInstanceProfile": roles.add_role_to_instance_profile,
    "RemoveRoleFromInstanceProfile": roles.remove_role_from_instance_profile,
    "DeleteInstanceProfile": roles.delete_instance_profile,
    **policies.per_entity(),
    "CreatePolicy": policies.create_policy,
    "GetPolicy": policies.get_policy,
    "ListPolicies": policies.list_policies,
    "DeletePolicy": policies.delete_policy,
    "CreatePolicyVersion": policies.create_policy_version,
    "GetPolicyVersion": policies.get_policy_version,
    "ListPolicyVersions": policies.list_policy_versions,
    "DeletePolicyVersion": policies.delete_policy_version,
    "SetDefaultPolicyVersion": policies.set_default_policy_version,
    "ListEntitiesForPolicy": policies.list_entities_for_policy,
    "TagPolicy": policies.tag_policy,
    "UntagPolicy": policies.untag_policy,
    "ListPolicyTags": policies.list_policy_tags,
    "SimulatePrincipalPolicy": simulate.simulate_principal_policy,
    "SimulateCustomPolicy": simulate.simulate_custom_policy,
}


class IamApi:
    def __init__(
        self,
        iam: IamService,
        credentials: IamCredentialStore | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._iam = iam
        self._credentials = credentials
        self._authorizer = authorizer  # IAM authorization of every call (None: authentication is off)
        self._protocol: QueryProtocol | None = None

    @property
    def protocol(self) -> QueryProtocol:
        """IAM's model is large: loaded on the first IAM request, not at start."""
        if self._protocol is None:
            self._protocol = QueryProtocol(load_service_model("iam"))
        return self._protocol

    async def handle(self, request: WireRequest) -> WireResponse:
        caller = request.principal_arn or root_arn(self._iam.account_id)
        call = IamCall(self._iam, caller, self._credentials)
        before = None if self._authorizer is None else self._authorize(request, caller)
        return self.protocol.answer(request, HANDLERS, call, service="IAM", before=before)

    def _authorize(
        self, request: WireRequest, caller: str
    ) -> Callable[[OperationModel, dict[str, Any]], None]:
        authorizer = self._authorizer
        assert authorizer is not None
        account = Account(self._iam.account_id, authorizer.region)

        def authorize(operation: OperationModel, params: dict[str, Any]) -> None:
            authorizer.authorize(
                request.principal_arn,
                lambda: iam_checks(account, operation.name, params, caller, self._arn_of),
                service="iam",
                source_ip=request.client_host,
            )

        return authorize

    def _arn_of(self, kind: str, name: str) -> str | None:
        try:
            if kind == "user":
                return self._iam.user(name).arn
            if kind == "group":
                return self._iam.group(name).arn
            return self._iam.role(name).arn
        except AwsError:
            return None

    def refuse(self, error: AwsError) -> WireResponse:
        """A request the edge refused (authentication), worded as IAM words it."""
        return self.protocol.refuse(error)
