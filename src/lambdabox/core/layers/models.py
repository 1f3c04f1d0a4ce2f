"""A layer version as the platform keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field

from lambdabox.core.models import CodeRef


@dataclass(frozen=True)
class LayerVersion:
    """One published version of a layer. `deleted`: DeleteLayerVersion removed it from the API; its content
    stays for the functions that already use it, as on AWS."""

    name: str
    version: int
    code: CodeRef
    created: str  # CreatedDate, as AWS prints it
    description: str = ""
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()
    license_info: str | None = None
    # The version's resource policy: JSON-ready statements, and the policy's RevisionId.
    statements: tuple[dict[str, object], ...] = field(default_factory=tuple)
    policy_revision: str = ""
    deleted: bool = False
