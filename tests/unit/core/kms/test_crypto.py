"""The ciphertext blob format: AES-256-GCM, the key id inside, the encryption context authenticated."""

from __future__ import annotations

import uuid

import pytest

from lambdabox.core.kms import crypto


def test_round_trip_names_the_key_and_ignores_context_order() -> None:
    key_id = str(uuid.uuid4())
    material = crypto.new_material()
    blob = crypto.seal(key_id, material, b"payload", {"a": "1", "b": "2"})
    assert crypto.key_of(blob) == key_id
    assert b"payload" not in blob
    assert crypto.unseal(material, blob, {"b": "2", "a": "1"}) == b"payload"
    assert crypto.seal(key_id, material, b"payload", None) != crypto.seal(key_id, material, b"payload", None)


@pytest.mark.parametrize("context", [None, {"a": "1"}, {"a": "1", "b": "3"}, {"a": "1", "b": "2", "c": ""}])
def test_a_different_context_fails(context: dict[str, str] | None) -> None:
    material = crypto.new_material()
    blob = crypto.seal(str(uuid.uuid4()), material, b"x", {"a": "1", "b": "2"})
    with pytest.raises(crypto.BadCiphertext):
        crypto.unseal(material, blob, context)


def test_tampering_the_wrong_key_and_short_blobs_fail() -> None:
    key_id = str(uuid.uuid4())
    material = crypto.new_material()
    blob = bytearray(crypto.seal(key_id, material, b"secret", None))
    blob[-1] ^= 1
    with pytest.raises(crypto.BadCiphertext):
        crypto.unseal(material, bytes(blob), None)
    with pytest.raises(crypto.BadCiphertext):
        crypto.unseal(crypto.new_material(), crypto.seal(key_id, material, b"s", None), None)
    for bad in (b"", b"\x01short", b"\x02" + bytes(60)):
        with pytest.raises(crypto.BadCiphertext):
            crypto.key_of(bad)
