"""The ciphertext blob: AES-256-GCM under a key's material, naming the key so Decrypt needs no KeyId.

Layout: version byte (1) · key id (16 bytes, the UUID) · nonce (12) · ciphertext and GCM tag. The encryption
context is the additional authenticated data (canonical JSON, keys sorted): a different context fails the tag.
`cryptography` is imported on first use (~6 MB of the server's memory that a platform without KMS use
does not need to hold).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
_HEADER = 1 + 16 + 12
_TAG = 16


class BadCiphertext(Exception):
    """The blob is not one of ours, or its tag does not verify (wrong context, tampered)."""


def _aesgcm(material: bytes) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(material)


def new_material() -> bytes:
    return os.urandom(32)  # an AES-256 key


def _aad(context: Mapping[str, str] | None) -> bytes:
    return orjson.dumps(dict(context or {}), option=orjson.OPT_SORT_KEYS)


def seal(key_id: str, material: bytes, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
    nonce = os.urandom(12)
    header = bytes([VERSION]) + uuid.UUID(key_id).bytes + nonce
    return header + _aesgcm(material).encrypt(nonce, plaintext, header + _aad(context))


def key_of(blob: bytes) -> str:
    """The id of the key that sealed `blob`."""
    if len(blob) < _HEADER + _TAG or blob[0] != VERSION:
        raise BadCiphertext
    return str(uuid.UUID(bytes=blob[1:17]))


def unseal(material: bytes, blob: bytes, context: Mapping[str, str] | None) -> bytes:
    from cryptography.exceptions import InvalidTag

    header = blob[:_HEADER]
    try:
        return _aesgcm(material).decrypt(header[17:], blob[_HEADER:], header + _aad(context))
    except InvalidTag:
        raise BadCiphertext from None
