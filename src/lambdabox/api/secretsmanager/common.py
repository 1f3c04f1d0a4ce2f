"""What the Secrets Manager handlers share: their context, output shapes, tags and pagination tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lambdabox.aws.pagination import page_by_index
from lambdabox.core.secrets.filters import ListFilter
from lambdabox.core.secrets.models import RotationRules, Secret
from lambdabox.core.secrets.rotation import Rotator
from lambdabox.core.secrets.service import NewValue, SecretsService
from lambdabox.errors import AwsError

T = TypeVar("T")


@dataclass(frozen=True)
class SecretsDeps:
    secrets: SecretsService
    rotator: Rotator


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tag_map(tags: Sequence[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tags or []}


def value_of(params: dict[str, Any]) -> NewValue | None:
    return NewValue.of(params.get("SecretString"), params.get("SecretBinary"))


def rules_in(shape: dict[str, Any] | None) -> RotationRules | None:
    if shape is None:
        return None
    return RotationRules(
        shape.get("AutomaticallyAfterDays"), shape.get("Duration"), shape.get("ScheduleExpression")
    )


def rules_out(rules: RotationRules | None) -> dict[str, Any] | None:
    if rules is None:
        return None
    return {
        "AutomaticallyAfterDays": rules.automatically_after_days,
        "Duration": rules.duration,
        "ScheduleExpression": rules.schedule_expression,
    }


def filters_of(shapes: Sequence[dict[str, Any]] | None) -> list[ListFilter]:
    return [ListFilter(f["Key"], tuple(f.get("Values") or ())) for f in shapes or []]


def secret_shape(secrets: SecretsService, secret: Secret, *, list_entry: bool = False) -> dict[str, Any]:
    stages = {vid: list(v.stages) for vid, v in secret.versions.items() if v.stages}
    return {
        "ARN": secret.arn,
        "Name": secret.name,
        "Description": secret.description,
        "KmsKeyId": secret.kms_key_id,
        "RotationEnabled": secret.rotation_enabled,
        "RotationLambdaARN": secret.rotation_lambda,
        "RotationRules": rules_out(secret.rotation_rules),
        "LastRotatedDate": secret.last_rotated,
        "LastChangedDate": secret.last_changed,
        "LastAccessedDate": secret.last_accessed,
        "DeletedDate": secret.deleted,
        "NextRotationDate": secrets.next_rotation(secret),
        "Tags": tag_list(secret.tags) if secret.tags or not list_entry else None,
        ("SecretVersionsToStages" if list_entry else "VersionIdsToStages"): stages,
        "CreatedDate": secret.created,
    }


def _invalid_token() -> AwsError:
    return AwsError("InvalidNextTokenException", "The NextToken value is invalid.")


def page(kind: str, items: Sequence[T], params: dict[str, Any], default: int) -> tuple[list[T], str | None]:
    """One page of `items` from the position `NextToken` names, at most `MaxResults` long."""
    return page_by_index(kind, items, params, default, _invalid_token)
