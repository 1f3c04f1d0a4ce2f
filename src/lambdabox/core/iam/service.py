"""IAM: users and their access keys, groups, roles, inline and managed policies, tags.

Every identity lives in one account (`Account.account_id`); IAM is global, so ARNs carry no region. The
questions the rest of the platform asks are at the end: `identity_policies` (what applies to a caller),
`session_policies`, `get_role`, `role_trusts_service`.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from lambdabox.core.clock import Clock
from lambdabox.core.iam import documents, ids
from lambdabox.core.iam.documents import Kind
from lambdabox.core.iam.entities import (
    AccessKeyRecord,
    Group,
    KeyStatus,
    ManagedPolicy,
    PolicyVersion,
    Role,
    Session,
    Tags,
    User,
    document,
)
from lambdabox.core.iam.policy import Request, compile_policy, evaluate, service_principal
from lambdabox.core.iam.profiles import InstanceProfiles
from lambdabox.core.iam.store import IamStore
from lambdabox.core.identity import root_arn
from lambdabox.errors import AwsError

T = TypeVar("T")
MAX_ACCESS_KEYS = 2
MAX_POLICY_VERSIONS = 5
MAX_ATTACHED = 10
MAX_TAGS = 50
MANAGED_POLICY_SIZE = 6144


class EntityKind(enum.Enum):
    USER = "user"
    GROUP = "group"
    ROLE = "role"


# Aggregate inline-policy quota per entity (characters other than whitespace), as IAM's.
_INLINE_QUOTA = {EntityKind.USER: 2048, EntityKind.GROUP: 5120, EntityKind.ROLE: 10240}

Entity = User | Group | Role


def no_such_entity(message: str) -> AwsError:
    return AwsError("NoSuchEntity", message, 404)


def invalid_input(message: str) -> AwsError:
    return AwsError("InvalidInput", message, 400)


def page(items: Sequence[T], marker: str | None, max_items: int | None) -> tuple[list[T], str | None]:
    """One page of a listing and the marker of the next one (None: this was the last page)."""
    start = 0
    if marker is not None:
        if not marker.isdigit() or int(marker) > len(items):
            raise invalid_input("Invalid Marker.")
        start = int(marker)
    size = max_items or 100
    end = start + size
    return list(items[start:end]), (str(end) if end < len(items) else None)


class IamService:
    def __init__(
        self,
        store: IamStore,
        account_id: str,
        clock: Clock,
        aws_managed: dict[str, ManagedPolicy],
        on_key_change: Callable[[str], None] = lambda _key: None,
    ) -> None:
        self._store = store
        self.account_id = account_id
        self._clock = clock
        self._aws = aws_managed
        self._on_key_change = on_key_change
        self._lock = threading.RLock()
        self._policies_of: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        # principal -> (until when the answer holds, session policies); see `session_issued`.
        self._sessions_of: dict[str, tuple[float, Session | None]] = {}
        self.profiles = InstanceProfiles(store, clock, self._arn, self.role)

    # -- helpers -------------------------------------------------------------------------------------------
    def _arn(self, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}{path}{name}"

    def _changed(self) -> None:
        self._policies_of.clear()
        self._sessions_of.clear()

    def user(self, name: str) -> User:
        user = self._store.get_user(name)
        if user is None:
            raise no_such_entity(f"The user with name {name} cannot be found.")
        return user

    def group(self, name: str) -> Group:
        group = self._store.get_group(name)
        if group is None:
            raise no_such_entity(f"The group with name {name} cannot be found.")
        return group

    def role(self, name: str) -> Role:
        role = self._store.get_role(name)
        if role is None:
            raise no_such_entity(f"The role with name {name} cannot be found.")
        return role

    def _entity(self, kind: EntityKind, name: str) -> Entity:
        if kind is EntityKind.USER:
            return self.user(name)
        if kind is EntityKind.GROUP:
            return self.group(name)
        return self.role(name)

    def _save(self, entity: Entity) -> None:
        if isinstance(entity, User):
            self._store.put_user(entity)
        elif isinstance(entity, Group):
            self._store.put_group(entity)
        else:
            self._store.put_role(entity)
        self._changed()

    def _check_tags(self, tags: Tags) -> None:
        keys = [key.lower() for key, _ in tags]
        if len(set(keys)) != len(keys):
            raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        if len(tags) > MAX_TAGS:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPerEntity: {MAX_TAGS}.", 409)

    def _merged_tags(self, current: Tags, added: Tags) -> Tags:
        merged = {key: value for key, value in current}
        for key, value in added:
            for existing in [k for k in merged if k.lower() == key.lower()]:
                del merged[existing]
            merged[key] = value
        result = tuple(merged.items())
        if len(result) > MAX_TAGS:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPerEntity: {MAX_TAGS}.", 409)
        return result

    def _principal_exists(self, arn: str) -> bool:
        resource = arn.split(":", 5)[5]
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        if arn.split(":")[4] != self.account_id:
            return True  # other accounts: not ours to check
        if kind == "user":
            return self._store.get_user(name) is not None
        if kind == "role":
            return self._store.get_role(name) is not None
        return kind == "assumed-role"

    # -- users ---------------------------------------------------------------------------------------------
    def create_user(self, name: str, path: str, tags: Tags, boundary: str | None) -> User:
        with self._lock:
            if self._store.get_user(name) is not None:
                raise AwsError("EntityAlreadyExists", f"User with name {name} already exists.", 409)
            self._check_tags(tags)
            if boundary is not None:
                self.policy(boundary)
            user = User(
                name,
                ids.unique_id(ids.USER),
                self._arn("user", path, name),
                path,
                self._clock.now(),
                tags,
                permissions_boundary=boundary,
            )
            self._save(user)
            return user

    def list_users(self, path_prefix: str) -> list[User]:
        return [user for user in self._store.list_users() if user.path.startswith(path_prefix)]

    def update_user(self, name: str, new_name: str | None, new_path: str | None) -> None:
        with self._lock:
            user = self.user(name)
            target = new_name or user.name
            if new_name and new_name.lower() != user.name.lower() and self._store.get_user(new_name):
                raise AwsError("EntityAlreadyExists", f"User with name {new_name} already exists.", 409)
            path = new_path or user.path
            updated = replace(user, name=target, path=path, arn=self._arn("user", path, target))
            keys = self._store.list_access_keys(user.name)
            with self._store.transaction():
                if target != user.name:
                    self._store.delete_user(user.name)
                    for key in keys:
                        self._store.put_access_key(replace(key, user_name=target))
                    for group in self._store.list_groups():
                        if user.name in group.members:
                            members = tuple(target if m == user.name else m for m in group.members)
                            self._store.put_group(replace(group, members=members))
                self._save(updated)
            for key in keys:  # they now sign as the new ARN
                self._on_key_change(key.access_key_id)

    def delete_user(self, name: str) -> None:
        with self._lock:
            user = self.user(name)
            if self._store.list_access_keys(user.name):
                raise AwsError("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
            if user.inline:
                raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
            if user.attached:
                raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
            if self.groups_for_user(user.name):
                raise AwsError(
                    "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409
                )
            self._store.delete_user(user.name)
            self._changed()

    # -- access keys -----------------------------------------------------------------------------------
    def create_access_key(self, user_name: str) -> AccessKeyRecord:
        with self._lock:
            user = self.user(user_name)
            if len(self._store.list_access_keys(user.name)) >= MAX_ACCESS_KEYS:
                raise AwsError(
                    "LimitExceeded", f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}", 409
                )
            key = AccessKeyRecord(
                ids.access_key_id(), ids.secret_access_key(), user.name, KeyStatus.ACTIVE, self._clock.now()
            )
            self._store.put_access_key(key)
            return key

    def access_keys(self, user_name: str) -> list[AccessKeyRecord]:
        return self._store.list_access_keys(self.user(user_name).name)

    def _key_of(self, user_name: str, access_key_id: str) -> AccessKeyRecord:
        user = self.user(user_name)
        key = self._store.get_access_key(access_key_id)
        if key is None or key.user_name != user.name:
            raise no_such_entity(f"The Access Key with id {access_key_id} cannot be found.")
        return key

    def update_access_key(self, user_name: str, access_key_id: str, status: str) -> None:
        with self._lock:
            key = self._key_of(user_name, access_key_id)
            self._store.put_access_key(replace(key, status=KeyStatus(status)))
            self._on_key_change(access_key_id)

    def delete_access_key(self, user_name: str, access_key_id: str) -> None:
        with self._lock:
            self._key_of(user_name, access_key_id)
            self._store.delete_access_key(access_key_id)
            self._on_key_change(access_key_id)

    def access_key(self, access_key_id: str) -> AccessKeyRecord:
        key = self._store.get_access_key(access_key_id)
        if key is None:
            raise AwsError(
                "AccessDenied",
                "The specified access key ID does not belong to your account or does not exist.",
                403,
            )
        return key

    # -- groups --------------------------------------------------------------------------------------------
    def create_group(self, name: str, path: str) -> Group:
        with self._lock:
            if self._store.get_group(name) is not None:
                raise AwsError("EntityAlreadyExists", f"Group with name {name} already exists.", 409)
            group = Group(
                name, ids.unique_id(ids.GROUP), self._arn("group", path, name), path, self._clock.now()
            )
            self._save(group)
            return group

    def list_groups(self, path_prefix: str) -> list[Group]:
        return [group for group in self._store.list_groups() if group.path.startswith(path_prefix)]

    def groups_for_user(self, user_name: str) -> list[Group]:
        name = self.user(user_name).name
        return [group for group in self._store.list_groups() if name in group.members]

    def group_members(self, group: Group) -> list[User]:
        users = (self._store.get_user(member) for member in group.members)
        return [user for user in users if user is not None]

    def update_group(self, name: str, new_name: str | None, new_path: str | None) -> None:
        with self._lock:
            group = self.group(name)
            target = new_name or group.name
            if new_name and new_name.lower() != group.name.lower() and self._store.get_group(new_name):
                raise AwsError("EntityAlreadyExists", f"Group with name {new_name} already exists.", 409)
            path = new_path or group.path
            with self._store.transaction():
                if target.lower() != group.name.lower():
                    self._store.delete_group(group.name)
                self._save(replace(group, name=target, path=path, arn=self._arn("group", path, target)))

    def delete_group(self, name: str) -> None:
        with self._lock:
            group = self.group(name)
            if group.members:
                raise AwsError(
                    "DeleteConflict", "Cannot delete entity, must remove users from group first.", 409
                )
            if group.inline:
                raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
            if group.attached:
                raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
            self._store.delete_group(group.name)
            self._changed()

    def add_user_to_group(self, group_name: str, user_name: str) -> None:
        with self._lock:
            group, user = self.group(group_name), self.user(user_name)
            if user.name not in group.members:
                self._save(replace(group, members=(*group.members, user.name)))

    def remove_user_from_group(self, group_name: str, user_name: str) -> None:
        with self._lock:
            group, user = self.group(group_name), self.user(user_name)
            if user.name not in group.members:
                raise no_such_entity(f"The user with name {user_name} cannot be found.")
            self._save(replace(group, members=tuple(m for m in group.members if m != user.name)))

    # -- roles ---------------------------------------------------------------------------------------------
    def create_role(
        self,
        name: str,
        path: str,
        trust: str,
        description: str | None,
        max_session: int | None,
        tags: Tags,
        boundary: str | None,
    ) -> Role:
        with self._lock:
            if self._store.get_role(name) is not None:
                raise AwsError("EntityAlreadyExists", f"Role with name {name} already exists.", 409)
            documents.validate(trust, Kind.TRUST, self._principal_exists)
            self._check_tags(tags)
            if boundary is not None:
                self.policy(boundary)
            role = Role(
                name,
                ids.unique_id(ids.ROLE),
                self._arn("role", path, name),
                path,
                self._clock.now(),
                trust,
                description,
                max_session or 3600,
                tags,
                permissions_boundary=boundary,
            )
            self._save(role)
            return role

    def list_roles(self, path_prefix: str) -> list[Role]:
        return [role for role in self._store.list_roles() if role.path.startswith(path_prefix)]

    def update_role(self, name: str, description: str | None, max_session: int | None) -> Role:
        with self._lock:
            role = self.role(name)
            updated = replace(
                role,
                description=role.description if description is None else description,
                max_session_duration=max_session or role.max_session_duration,
            )
            self._save(updated)
            return updated

    def update_assume_role_policy(self, name: str, trust: str) -> None:
        with self._lock:
            role = self.role(name)
            documents.validate(trust, Kind.TRUST, self._principal_exists)
            self._save(replace(role, assume_role_policy_document=trust))

    def delete_role(self, name: str) -> None:
        with self._lock:
            role = self.role(name)
            if role.inline:
                raise AwsError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409)
            if role.attached:
                raise AwsError("DeleteConflict", "Cannot delete entity, must detach all policies first.", 409)
            if self.profiles.for_role(role.name):
                raise AwsError(
                    "DeleteConflict",
                    "Cannot delete entity, must remove roles from instance profile first.",
                    409,
                )
            self._store.delete_role(role.name)
            self._changed()

    # -- inline policies -----------------------------------------------------------------------------------
    def put_inline(self, kind: EntityKind, name: str, policy_name: str, text: str) -> None:
        with self._lock:
            entity = self._entity(kind, name)
            documents.validate(text, Kind.IDENTITY)
            inline = dict(entity.inline)
            inline[policy_name] = text
            total = sum(documents.size(body) for body in inline.values())
            quota = _INLINE_QUOTA[kind]
            if total > quota:
                raise AwsError(
                    "LimitExceeded",
                    f"Maximum policy size of {quota} bytes exceeded for {kind.value} {name}",
                    409,
                )
            self._save(replace(entity, inline=tuple(sorted(inline.items()))))

    def get_inline(self, kind: EntityKind, name: str, policy_name: str) -> tuple[Entity, str]:
        entity = self._entity(kind, name)
        text = dict(entity.inline).get(policy_name)
        if text is None:
            raise no_such_entity(f"The {kind.value} policy with name {policy_name} cannot be found.")
        return entity, text

    def delete_inline(self, kind: EntityKind, name: str, policy_name: str) -> None:
        with self._lock:
            entity, _ = self.get_inline(kind, name, policy_name)
            self._save(
                replace(entity, inline=tuple(item for item in entity.inline if item[0] != policy_name))
            )

    def list_inline(self, kind: EntityKind, name: str) -> list[str]:
        return [policy_name for policy_name, _ in self._entity(kind, name).inline]

    # -- managed policies --------------------------------------------------------------------------------
    def policy(self, arn: str) -> ManagedPolicy:
        found = self._aws.get(arn) or self._store.get_policy(arn)
        if found is None:
            if not arn.startswith("arn:"):
                raise invalid_input(f"ARN {arn} is not valid.")
            raise no_such_entity(f"Policy {arn} does not exist or is not attachable.")
        return found

    def _own_policy(self, arn: str) -> ManagedPolicy:
        found = self.policy(arn)
        if found.aws_managed:
            raise AwsError("AccessDenied", f"AWS managed policy {arn} cannot be modified.", 403)
        return found

    def create_policy(
        self, name: str, path: str, text: str, description: str | None, tags: Tags
    ) -> ManagedPolicy:
        with self._lock:
            arn = self._arn("policy", path, name)
            if any(p.name.lower() == name.lower() for p in self._store.list_policies()):
                raise AwsError(
                    "EntityAlreadyExists",
                    f"A policy called {name} already exists. Duplicate names are not allowed.",
                    409,
                )
            self._check_document(text)
            self._check_tags(tags)
            now = self._clock.now()
            policy = ManagedPolicy(
                name,
                ids.unique_id(ids.POLICY),
                arn,
                path,
                now,
                now,
                "v1",
                (PolicyVersion("v1", text, now),),
                description=description,
                tags=tags,
            )
            self._store.put_policy(policy)
            return policy

    def _check_document(self, text: str) -> None:
        documents.validate(text, Kind.IDENTITY)
        if documents.size(text) > MANAGED_POLICY_SIZE:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}", 409)

    def list_policies(self, scope: str, only_attached: bool, path_prefix: str) -> list[ManagedPolicy]:
        policies: list[ManagedPolicy] = []
        if scope in ("All", "Local"):
            policies.extend(self._store.list_policies())
        if scope in ("All", "AWS"):
            policies.extend(sorted(self._aws.values(), key=lambda p: p.name))
        chosen = [p for p in policies if p.path.startswith(path_prefix)]
        if only_attached:
            chosen = [p for p in chosen if self.attachment_count(p.arn)]
        return chosen

    def delete_policy(self, arn: str) -> None:
        with self._lock:
            policy = self._own_policy(arn)
            if self.attachment_count(arn):
                raise AwsError("DeleteConflict", "Cannot delete a policy attached to entities.", 409)
            if len(policy.versions) > 1:
                raise AwsError(
                    "DeleteConflict",
                    "Cannot delete a policy with more than one version; delete the "
                    "non-default versions first.",
                    409,
                )
            self._store.delete_policy(arn)
            self._changed()

    def create_policy_version(self, arn: str, text: str, set_default: bool) -> PolicyVersion:
        with self._lock:
            policy = self._own_policy(arn)
            if len(policy.versions) >= MAX_POLICY_VERSIONS:
                raise AwsError(
                    "LimitExceeded",
                    f"A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new "
                    "version, you must delete an existing version.",
                    409,
                )
            self._check_document(text)
            now = self._clock.now()
            version = PolicyVersion(f"v{policy.next_version}", text, now)
            self._store.put_policy(
                replace(
                    policy,
                    versions=(*policy.versions, version),
                    next_version=policy.next_version + 1,
                    default_version=version.version_id if set_default else policy.default_version,
                    updated=now if set_default else policy.updated,
                )
            )
            self._changed()
            return version

    def policy_version(self, arn: str, version_id: str) -> tuple[ManagedPolicy, PolicyVersion]:
        policy = self.policy(arn)
        version = policy.version(version_id)
        if version is None:
            raise no_such_entity(f"Policy {arn} version {version_id} does not exist or is not attachable.")
        return policy, version

    def delete_policy_version(self, arn: str, version_id: str) -> None:
        with self._lock:
            policy, _ = self.policy_version(arn, version_id)
            self._own_policy(arn)
            if version_id == policy.default_version:
                raise AwsError("DeleteConflict", "Cannot delete the default version of a policy.", 409)
            versions = tuple(v for v in policy.versions if v.version_id != version_id)
            self._store.put_policy(replace(policy, versions=versions))

    def set_default_policy_version(self, arn: str, version_id: str) -> None:
        with self._lock:
            policy, _ = self.policy_version(arn, version_id)
            self._own_policy(arn)
            self._store.put_policy(replace(policy, default_version=version_id, updated=self._clock.now()))
            self._changed()

    def attach(self, kind: EntityKind, name: str, arn: str) -> None:
        with self._lock:
            entity = self._entity(kind, name)
            self.policy(arn)
            if arn in entity.attached:
                return
            if len(entity.attached) >= MAX_ATTACHED:
                raise AwsError(
                    "LimitExceeded",
                    f"Cannot exceed quota for PoliciesPer{kind.value.capitalize()}: {MAX_ATTACHED}",
                    409,
                )
            self._save(replace(entity, attached=(*entity.attached, arn)))

    def detach(self, kind: EntityKind, name: str, arn: str) -> None:
        with self._lock:
            entity = self._entity(kind, name)
            if arn not in entity.attached:
                self.policy(arn)
                raise no_such_entity(f"Policy {arn} was not found.")
            self._save(replace(entity, attached=tuple(a for a in entity.attached if a != arn)))

    def attached(self, kind: EntityKind, name: str, path_prefix: str) -> list[ManagedPolicy]:
        policies = (
            self._aws.get(arn) or self._store.get_policy(arn) for arn in self._entity(kind, name).attached
        )
        return [p for p in policies if p is not None and p.path.startswith(path_prefix)]

    def entities_for_policy(
        self, arn: str, as_boundary: bool = False
    ) -> tuple[list[User], list[Group], list[Role]]:
        """Who has the policy attached (or, `as_boundary`, set as permissions boundary; groups have none)."""
        self.policy(arn)
        if as_boundary:
            return (
                [u for u in self._store.list_users() if u.permissions_boundary == arn],
                [],
                [r for r in self._store.list_roles() if r.permissions_boundary == arn],
            )
        return (
            [u for u in self._store.list_users() if arn in u.attached],
            [g for g in self._store.list_groups() if arn in g.attached],
            [r for r in self._store.list_roles() if arn in r.attached],
        )

    def attachment_count(self, arn: str) -> int:
        users, groups, roles = self._entities_unchecked(arn)
        return users + groups + roles

    def _entities_unchecked(self, arn: str) -> tuple[int, int, int]:
        return (
            sum(arn in u.attached for u in self._store.list_users()),
            sum(arn in g.attached for g in self._store.list_groups()),
            sum(arn in r.attached for r in self._store.list_roles()),
        )

    def boundary_count(self, arn: str) -> int:
        return sum(u.permissions_boundary == arn for u in self._store.list_users()) + sum(
            r.permissions_boundary == arn for r in self._store.list_roles()
        )

    def set_boundary(self, kind: EntityKind, name: str, arn: str | None) -> None:
        """Put (or, with None, delete) the permissions boundary of a user or role."""
        with self._lock:
            entity = self.user(name) if kind is EntityKind.USER else self.role(name)
            if arn is not None:
                self.policy(arn)
            self._save(replace(entity, permissions_boundary=arn))

    # -- tags ----------------------------------------------------------------------------------------------
    def tag(self, kind: str, name: str, tags: Tags) -> None:
        with self._lock:
            if kind == "policy":
                policy = self._own_policy(name)
                self._store.put_policy(replace(policy, tags=self._merged_tags(policy.tags, tags)))
                return
            entity = self.user(name) if kind == "user" else self.role(name)
            assert not isinstance(entity, Group)
            self._save(replace(entity, tags=self._merged_tags(entity.tags, tags)))

    def untag(self, kind: str, name: str, keys: Iterable[str]) -> None:
        with self._lock:
            drop = {key for key in keys}
            if kind == "policy":
                policy = self._own_policy(name)
                self._store.put_policy(
                    replace(policy, tags=tuple(t for t in policy.tags if t[0] not in drop))
                )
                return
            entity = self.user(name) if kind == "user" else self.role(name)
            assert not isinstance(entity, Group)
            self._save(replace(entity, tags=tuple(t for t in entity.tags if t[0] not in drop)))

    # -- what the rest of the platform asks ----------------------------------------------------------------
    def caller_user(self, principal_arn: str) -> User | None:
        """The IAM user a caller is (None: root, a role session, or a user that no longer exists)."""
        resource = principal_arn.split(":", 5)[-1]
        if not principal_arn.startswith("arn:aws:iam::") or not resource.startswith("user/"):
            return None
        user = self._store.get_user(resource.rsplit("/", 1)[-1])
        return user if user is not None and user.arn == principal_arn else None

    def get_role(self, arn_or_name: str) -> Role | None:
        """A role by name or ARN (the ARN must be the role's own, path included)."""
        if arn_or_name.startswith("arn:"):
            name = arn_or_name.rsplit("/", 1)[-1]
            role = self._store.get_role(name)
            return role if role is not None and role.arn == arn_or_name else None
        return self._store.get_role(arn_or_name)

    def role_trusts_service(self, role_arn: str, service: str) -> bool:
        """Whether the role's trust policy lets `service` (e.g. lambda.amazonaws.com) assume it."""
        role = self.get_role(role_arn)
        if role is None:
            return False
        request = Request(service_principal(service), "sts:AssumeRole", role.arn, {})
        return evaluate(request, resource=compile_policy(role.assume_role_policy_document)).allowed

    def identity_policies(self, principal_arn: str) -> list[tuple[str, dict[str, Any]]]:
        """Every identity-based policy that applies to the principal: (source label, document). A user's own
        inline and attached policies and those of its groups; a role session's role's; root: none."""
        cached = self._policies_of.get(principal_arn)
        if cached is not None:
            return cached
        found: list[tuple[str, dict[str, Any]]] = []
        user = self.caller_user(principal_arn)
        if user is not None:
            found.extend(self._policies_of_entity(user))
            for group in self._store.list_groups():
                if user.name in group.members:
                    found.extend(self._policies_of_entity(group))
        elif ":assumed-role/" in principal_arn:
            role_name = principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
            role = self._store.get_role(role_name)
            if role is not None:
                found.extend(self._policies_of_entity(role))
        self._policies_of[principal_arn] = found
        return found

    def policies_of_arn(self, arn: str) -> list[tuple[str, dict[str, Any]]]:
        """The identity-based policies of a user (its groups' included), group or role, named by ARN;
        NoSuchEntity when there is none."""
        resource = arn.split(":", 5)[-1] if arn.startswith(f"arn:aws:iam::{self.account_id}:") else ""
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        if kind == "user":
            user = self.user(name)
            return self.identity_policies(user.arn)
        if kind == "group":
            return self._policies_of_entity(self.group(name))
        if kind == "role":
            return self._policies_of_entity(self.role(name))
        raise invalid_input(f"Invalid ARN {arn}: it must name a user, group or role of this account.")

    def session_policies(self, principal_arn: str) -> list[tuple[str, dict[str, Any]]]:
        """The session policies (inline `Policy`, then `PolicyArns`) of the principal's most recent unexpired
        STS session; [] when it has none (then only its identity-based policies apply)."""
        session = self._session_of(principal_arn)
        if session is None:
            return []
        found: list[tuple[str, dict[str, Any]]] = []
        if session.policy is not None:
            found.append((f"{principal_arn}#session", document(session.policy)))
        for arn in session.policy_arns:
            policy = self._aws.get(arn) or self._store.get_policy(arn)
            if policy is not None:
                found.append((arn, document(policy.default.document)))
        return found

    def principal_tags(self, principal_arn: str) -> dict[str, str]:
        """`aws:PrincipalTag/*`: a user's tags; for a role session its role's tags, overridden by the session
        tags passed to AssumeRole (keys compared without regard to case, as IAM compares them)."""
        user = self.caller_user(principal_arn)
        if user is not None:
            return dict(user.tags)
        if ":assumed-role/" not in principal_arn:
            return {}
        role = self._store.get_role(principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0])
        tags = dict(role.tags) if role is not None else {}
        session = self._session_of(principal_arn)
        for key, value in session.tags if session is not None else ():
            for existing in [k for k in tags if k.lower() == key.lower()]:
                del tags[existing]
            tags[key] = value
        return tags

    def _session_of(self, principal_arn: str) -> Session | None:
        """The principal's newest unexpired STS session (cached until it expires or another is issued)."""
        now = self._clock.now()
        cached = self._sessions_of.get(principal_arn)
        if cached is not None and cached[0] > now:
            return cached[1]
        session = self._store.latest_session(principal_arn, now)
        self._sessions_of[principal_arn] = (session.expiration if session else float("inf"), session)
        return session

    def session_issued(self, principal_arn: str) -> None:
        """STS issued a new session for the principal: its session policies are asked again."""
        self._sessions_of.pop(principal_arn, None)

    def _policies_of_entity(self, entity: Entity) -> list[tuple[str, dict[str, Any]]]:
        found = [(f"{entity.arn}#inline/{name}", document(text)) for name, text in entity.inline]
        for arn in entity.attached:
            policy = self._aws.get(arn) or self._store.get_policy(arn)
            if policy is not None:
                found.append((arn, document(policy.default.document)))
        return found

    def boundary_of(self, principal_arn: str) -> dict[str, Any] | None:
        """The permissions boundary of a user or a role session's role (None: none set)."""
        entity: User | Role | None = self.caller_user(principal_arn)
        if entity is None and ":assumed-role/" in principal_arn:
            entity = self._store.get_role(principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0])
        if entity is None or entity.permissions_boundary is None:
            return None
        policy = self._aws.get(entity.permissions_boundary) or self._store.get_policy(
            entity.permissions_boundary
        )
        return document(policy.default.document) if policy is not None else None

    def is_root(self, principal_arn: str) -> bool:
        return principal_arn == root_arn(self.account_id)
