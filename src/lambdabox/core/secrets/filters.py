"""ListSecrets filters, as AWS documents them: prefix matches, `!` negates; `name`, `tag-key` and
`tag-value` are case-sensitive, `description` is not, and `all` splits both sides into words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambdabox.core.secrets.models import Secret


@dataclass(frozen=True)
class ListFilter:
    key: str
    values: tuple[str, ...]


_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _words(text: str) -> list[str]:
    """`all` splits text into words at case changes, letter/number changes and punctuation."""
    return [word.lower() for word in _WORD.findall(text)]


def _fields(secret: Secret, key: str) -> list[str]:
    if key == "name":
        return [secret.name]
    if key == "description":
        return [(secret.description or "").lower()]
    if key == "tag-key":
        return list(secret.tags)
    if key == "tag-value":
        return list(secret.tags.values())
    if key == "all":
        texts = [secret.name, secret.description or "", *secret.tags.keys(), *secret.tags.values()]
        return [word for text in texts for word in _words(text)]
    return []  # primary-region, owning-service: Lambdabox secrets are neither replicated nor service-owned


def matches(secret: Secret, chosen: ListFilter) -> bool:
    fields = _fields(secret, chosen.key)
    for raw in chosen.values:
        negate = raw.startswith("!")
        value = raw[1:] if negate else raw
        if chosen.key == "all":
            hit = any(f.startswith(word) for word in _words(value) for f in fields)
        else:
            value = value.lower() if chosen.key == "description" else value
            hit = any(f.startswith(value) for f in fields)
        if hit != negate:
            return True
    return False
