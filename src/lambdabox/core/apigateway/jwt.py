"""JWT authorizers of HTTP APIs: validate a bearer token as API Gateway does.

The token must be an RS256 JWS whose `kid` is in the issuer's JWKS (found through
`<issuer>/.well-known/openid-configuration` → `jwks_uri`, cached), with `iss` equal to the configured
issuer, `aud` (or, without `aud`, `client_id`) among the configured audiences, an `exp` in the future and
`nbf`/`iat`, when present, not in the future. Routes with AuthorizationScopes need one of them in the
token's `scope` or `scp` claim. How JWKS documents are fetched is injected (no HTTP in the core)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:  # joserfc (and cryptography) load with the first token: ~10 MB the server need not hold
    from joserfc.jwk import KeySet

FetchJson = Callable[[str], Awaitable[Any]]

JWKS_TTL = 300.0  # seconds a fetched key set is used before it is fetched again
REFRESH_AFTER = 30.0  # an unknown kid refetches the key set at most this often
LEEWAY = 0  # API Gateway allows no clock skew on exp / nbf


class Unauthorized(Exception):
    """401: the token is missing or invalid (the message goes into `www-authenticate`)."""


class Forbidden(Exception):
    """403: a valid token without any of the route's scopes."""


@dataclass(frozen=True)
class JwtResult:
    claims: dict[str, str]
    scopes: list[str] | None


def claim_text(value: Any) -> str:
    """API Gateway hands claims to the integration as strings; arrays as `[a b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bearer(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value[:7].lower() == "bearer " or value.lower() == "bearer":
        value = value[7:].strip()
    return value or None


class JwtValidator:
    def __init__(self, fetch_json: FetchJson, now: Callable[[], float] = time.time) -> None:
        self._fetch_json = fetch_json
        self._now = now
        self._keys: dict[str, tuple[KeySet, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _key_set(self, issuer: str, refresh: bool = False) -> KeySet:
        cached = self._keys.get(issuer)
        now = self._now()
        if cached is not None:
            keys, fetched = cached
            if now - fetched < (REFRESH_AFTER if refresh else JWKS_TTL):
                return keys
        lock = self._locks.setdefault(issuer, asyncio.Lock())
        async with lock:
            cached = self._keys.get(issuer)
            if cached is not None and self._now() - cached[1] < (REFRESH_AFTER if refresh else JWKS_TTL):
                return cached[0]
            try:
                config = await self._fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
                jwks_uri = config["jwks_uri"] if isinstance(config, dict) else None
                if not isinstance(jwks_uri, str):
                    raise Unauthorized("the issuer's OpenID configuration has no jwks_uri")
                from joserfc.jwk import KeySet

                keys = KeySet.import_key_set(await self._fetch_json(jwks_uri))
            except Unauthorized:
                raise
            except Exception as exc:
                raise Unauthorized(f"unable to fetch the issuer's signing keys: {exc}") from None
            self._keys[issuer] = (keys, self._now())
            return keys

    async def validate(
        self, token: str | None, issuer: str, audiences: Sequence[str], scopes: Sequence[str] = ()
    ) -> JwtResult:
        from joserfc import jws, jwt
        from joserfc.errors import InvalidKeyIdError, JoseError

        if token is None:
            raise Unauthorized("the request has no token")
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError):
            raise Unauthorized("the token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise Unauthorized(f"unsupported signing algorithm {header.get('alg')!r}")
        if "kid" not in header:
            raise Unauthorized("the token has no kid")
        try:
            decoded = jwt.decode(token, await self._key_set(issuer), algorithms=["RS256"])
        except InvalidKeyIdError:
            try:
                decoded = jwt.decode(token, await self._key_set(issuer, refresh=True), algorithms=["RS256"])
            except JoseError as exc:
                raise Unauthorized(f"signing key not found: {exc}") from None
        except JoseError as exc:
            raise Unauthorized(f"signature validation failed: {exc}") from None
        claims: Mapping[str, Any] = decoded.claims
        self._check_claims(claims, issuer, audiences)
        granted = _scopes(claims)
        if scopes and not set(scopes) & set(granted or []):
            raise Forbidden("the token has none of the route's authorization scopes")
        return JwtResult({key: claim_text(value) for key, value in claims.items()}, granted)

    def _check_claims(self, claims: Mapping[str, Any], issuer: str, audiences: Sequence[str]) -> None:
        now = self._now()
        if claims.get("iss") != issuer:
            raise Unauthorized("the token's iss does not match the authorizer's issuer")
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise Unauthorized("the token has no exp")
        if expires + LEEWAY <= now:
            raise Unauthorized("the token has expired")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is not None and (not isinstance(value, (int, float)) or value - LEEWAY > now):
                raise Unauthorized(f"the token's {name} is in the future")
        audience = claims.get("aud")
        if audience is None:
            audience = claims.get("client_id")
        presented = audience if isinstance(audience, list) else [audience]
        if not any(item in audiences for item in presented if isinstance(item, str)):
            raise Unauthorized("the token's aud (or client_id) is not one of the authorizer's audiences")


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(item) for item in value]
    return None
