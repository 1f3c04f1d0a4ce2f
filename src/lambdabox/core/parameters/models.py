"""Parameter Store domain records."""

from __future__ import annotations

from dataclasses import dataclass, field

STRING = "String"
STRING_LIST = "StringList"
SECURE_STRING = "SecureString"
STANDARD = "Standard"
ADVANCED = "Advanced"
INTELLIGENT_TIERING = "Intelligent-Tiering"


@dataclass(frozen=True)
class ParameterVersion:
    version: int
    type: str
    value: str  # plaintext; SecureString: the KMS ciphertext blob, base64 (what AWS shows undecrypted)
    modified: float
    modified_by: str
    key_id: str | None = None  # SecureString only: as given, or alias/aws/ssm
    description: str | None = None
    allowed_pattern: str | None = None
    tier: str = STANDARD
    data_type: str = "text"
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parameter:
    name: str
    versions: tuple[ParameterVersion, ...]  # oldest first; the last is the current version
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def current(self) -> ParameterVersion:
        return self.versions[-1]

    def version(self, number: int) -> ParameterVersion | None:
        return next((v for v in self.versions if v.version == number), None)

    def labelled(self, label: str) -> ParameterVersion | None:
        return next((v for v in self.versions if label in v.labels), None)


@dataclass(frozen=True)
class Selected:
    """A parameter version as GetParameter(s) returns it: the value decrypted if asked, and the selector."""

    name: str
    version: ParameterVersion
    value: str
    selector: str | None = None
    arn: str = ""
    source_result: str | None = None
