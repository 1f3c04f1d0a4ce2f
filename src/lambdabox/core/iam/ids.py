"""Identifiers IAM and STS hand out: unique ids with their type prefix, access keys, secrets, tokens."""

from __future__ import annotations

import base64
import secrets
import string

_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

# Unique-id prefixes, as IAM uses them.
USER, GROUP, ROLE, POLICY, ACCESS_KEY, SESSION_KEY = "AIDA", "AGPA", "AROA", "ANPA", "AKIA", "ASIA"
INSTANCE_PROFILE = "AIPA"


def unique_id(prefix: str) -> str:
    """`AIDA…`, `AROA…`, `ANPA…`, `AGPA…`: 21 characters."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def access_key_id(prefix: str = ACCESS_KEY) -> str:
    """`AKIA…` (long-term) or `ASIA…` (temporary): 20 characters."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def session_token() -> str:
    """An opaque session token, as long as the ones STS returns."""
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(300)).decode()
