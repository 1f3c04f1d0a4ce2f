"""AWS managed policies (`arn:aws:iam::aws:policy/…`), read from the JSON data files beside this module.

Each file holds one policy as IAM describes it (name, path, id, default version, dates, description) and
its document. They are read-only: attachable by everyone, never created, changed or deleted.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

from lambdabox.core.iam.entities import ManagedPolicy, PolicyVersion

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def load_aws_managed() -> dict[str, ManagedPolicy]:
    """Every AWS managed policy shipped with Lambdabox, by ARN."""
    policies: dict[str, ManagedPolicy] = {}
    folder = resources.files(__package__).joinpath("managed")
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".json"):
            continue
        raw = json.loads(entry.read_text(encoding="utf-8"))
        created = _epoch(raw["CreateDate"])
        version = PolicyVersion(raw["DefaultVersionId"], json.dumps(raw["Document"], indent=4), created)
        arn = f"{AWS_POLICY_PREFIX}{raw['Path']}{raw['PolicyName']}"
        policies[arn] = ManagedPolicy(
            name=raw["PolicyName"],
            policy_id=raw["PolicyId"],
            arn=arn,
            path=raw["Path"],
            created=created,
            updated=created,
            default_version=version.version_id,
            versions=(version,),
            description=raw.get("Description"),
        )
    return policies
