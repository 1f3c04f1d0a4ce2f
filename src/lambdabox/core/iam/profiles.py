"""IAM instance profiles: a named container for one role (EC2 hands it to instances; Lambdabox keeps
them so that tools which create or clean them up alongside roles work unchanged)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from lambdabox.core.clock import Clock
from lambdabox.core.iam import ids
from lambdabox.core.iam.entities import InstanceProfile, Role, Tags
from lambdabox.core.iam.store import IamStore
from lambdabox.errors import AwsError

_ONE_ROLE = "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"


class InstanceProfiles:
    def __init__(
        self,
        store: IamStore,
        clock: Clock,
        arn: Callable[[str, str, str], str],
        role: Callable[[str], Role],
    ) -> None:
        self._store = store
        self._clock = clock
        self._arn = arn  # (kind, path, name) -> ARN
        self._role = role  # name -> Role, or NoSuchEntity
        self._lock = threading.RLock()

    def get(self, name: str) -> InstanceProfile:
        profile = self._store.get_instance_profile(name)
        if profile is None:
            raise AwsError("NoSuchEntity", f"Instance Profile {name} cannot be found.", 404)
        return profile

    def create(self, name: str, path: str, tags: Tags) -> InstanceProfile:
        with self._lock:
            if self._store.get_instance_profile(name) is not None:
                raise AwsError("EntityAlreadyExists", f"Instance Profile {name} already exists.", 409)
            profile = InstanceProfile(
                name,
                ids.unique_id(ids.INSTANCE_PROFILE),
                self._arn("instance-profile", path, name),
                path,
                self._clock.now(),
                tags=tags,
            )
            self._store.put_instance_profile(profile)
            return profile

    def listed(self, path_prefix: str) -> list[InstanceProfile]:
        return [p for p in self._store.list_instance_profiles() if p.path.startswith(path_prefix)]

    def for_role(self, role_name: str) -> list[InstanceProfile]:
        name = self._role(role_name).name
        return [p for p in self._store.list_instance_profiles() if name in p.roles]

    def roles_of(self, profile: InstanceProfile) -> list[Role]:
        roles = (self._store.get_role(name) for name in profile.roles)
        return [role for role in roles if role is not None]

    def add_role(self, name: str, role_name: str) -> None:
        with self._lock:
            profile, role = self.get(name), self._role(role_name)
            if profile.roles:
                raise AwsError("LimitExceeded", _ONE_ROLE, 409)
            self._store.put_instance_profile(replace(profile, roles=(role.name,)))

    def remove_role(self, name: str, role_name: str) -> None:
        with self._lock:
            profile, role = self.get(name), self._role(role_name)
            if role.name not in profile.roles:
                raise AwsError("NoSuchEntity", f"The role with name {role_name} cannot be found.", 404)
            self._store.put_instance_profile(replace(profile, roles=()))

    def delete(self, name: str) -> None:
        with self._lock:
            profile = self.get(name)
            if profile.roles:
                raise AwsError(
                    "DeleteConflict",
                    "Cannot delete entity, must remove roles from instance profile first.",
                    409,
                )
            self._store.delete_instance_profile(profile.name)
