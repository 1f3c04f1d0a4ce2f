"""JWT validation of HTTP API JWT authorizers, with an in-memory issuer (no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from lambdabox.core.apigateway.jwt import Forbidden, JwtValidator, Unauthorized, bearer, claim_text

ISSUER = "https://issuer.example"
NOW = 1_800_000_000.0
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)


class Issuer:
    def __init__(self) -> None:
        self.keys = [KEY]
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> Any:
        self.fetched.append(url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return {"jwks_uri": f"{ISSUER}/keys"}
        if url == f"{ISSUER}/keys":
            return {"keys": [key.as_dict(private=False) for key in self.keys]}
        raise OSError("404")


def token(key: RSAKey = KEY, header: dict[str, Any] | None = None, **claims: Any) -> str:
    body = {"iss": ISSUER, "aud": "app", "exp": NOW + 60, "sub": "u1", **claims}
    return jwt.encode(header or {"alg": "RS256", "kid": key.kid}, body, key)


def validate(issuer: Issuer, value: str | None, **kwargs: Any) -> Any:
    validator = JwtValidator(issuer.fetch, now=lambda: NOW)
    return asyncio.run(validator.validate(value, ISSUER, ["app"], **kwargs))


def test_valid_token_gives_string_claims_and_scopes() -> None:
    result = validate(Issuer(), token(scope="a b", n=3, flag=True, list=["x", "y"]))
    assert result.claims["sub"] == "u1"
    assert result.claims["exp"] == str(int(NOW + 60))
    assert result.claims["flag"] == "true" and result.claims["list"] == "[x y]"
    assert result.scopes == ["a", "b"]


def test_client_id_stands_for_a_missing_audience() -> None:
    assert validate(Issuer(), token(aud=None, client_id="app")).claims["client_id"] == "app"


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - 1},
        {"exp": None},
        {"nbf": NOW + 10},
        {"iat": NOW + 10},
        {"iss": "https://elsewhere"},
        {"aud": "other"},
        {"aud": ["x", "y"]},
    ],
)
def test_invalid_claims_are_unauthorized(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized):
        validate(Issuer(), token(**claims))


def test_bad_tokens_are_unauthorized() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    for value in (None, "", "a.b.c", token(key=other), token(header={"alg": "RS256"})):
        with pytest.raises(Unauthorized):
            validate(Issuer(), value)
    hs = jwt.encode({"alg": "HS256", "kid": "k1"}, {"iss": ISSUER}, OctKey.import_key("s" * 32))
    with pytest.raises(Unauthorized):
        validate(Issuer(), hs)


def test_scopes_are_checked() -> None:
    with pytest.raises(Forbidden):
        validate(Issuer(), token(scope="read"), scopes=["admin"])
    assert validate(Issuer(), token(scp=["admin"]), scopes=["admin", "x"]).scopes == ["admin"]


def test_keys_are_cached_and_refetched_for_a_new_kid() -> None:
    issuer = Issuer()
    clock = [NOW]
    validator = JwtValidator(issuer.fetch, now=lambda: clock[0])

    async def run() -> None:
        await validator.validate(token(), ISSUER, ["app"])
        await validator.validate(token(), ISSUER, ["app"])
        assert len(issuer.fetched) == 2
        rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"}, private=True)
        issuer.keys.append(rotated)
        clock[0] += 60  # past the refresh guard: an unknown kid refetches the key set
        body = token(key=rotated, exp=clock[0] + 60)
        await validator.validate(body, ISSUER, ["app"])
        assert len(issuer.fetched) == 4

    asyncio.run(run())


def test_unreachable_issuer_is_unauthorized() -> None:
    async def fail(url: str) -> Any:
        raise OSError("connection refused")

    with pytest.raises(Unauthorized):
        asyncio.run(JwtValidator(fail, now=lambda: NOW).validate(token(), ISSUER, ["app"]))


def test_helpers() -> None:
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc" and bearer("abc") == "abc"
    assert bearer(None) is None and bearer("Bearer ") is None
    assert claim_text({"a": 1}) == '{"a":1}'
