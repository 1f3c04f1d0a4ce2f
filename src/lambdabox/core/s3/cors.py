"""A bucket's CORS configuration: the rules, their validation as S3 validates them, and which rule (the
first that matches) answers a cross-origin request.

A rule matches when the request's Origin matches one of its AllowedOrigins, the method (for a
preflight: Access-Control-Request-Method) is one of its AllowedMethods and, for a preflight, every header
of Access-Control-Request-Headers matches one of its AllowedHeaders. Origins and headers may hold one
`*` wildcard; headers compare case-insensitively, origins exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdabox.core.s3.errors import invalid_request, malformed_xml

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
MAX_ID = 255
MAX_AGE = 2**31 - 1
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


@dataclass(frozen=True)
class CorsRule:
    allowed_methods: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None


def parse_rules(document: Mapping[str, Any] | None) -> tuple[CorsRule, ...]:
    """The rules of a PutBucketCors `CORSConfiguration` (already parsed by the model): structure first
    (MalformedXML), then each rule's values in S3's order (InvalidRequest)."""
    entries: Sequence[Mapping[str, Any]] = (document or {}).get("CORSRules") or []
    if not entries or len(entries) > MAX_RULES:
        raise malformed_xml()
    rules = []
    for entry in entries:
        methods = tuple(entry.get("AllowedMethods") or ())
        origins = tuple(entry.get("AllowedOrigins") or ())
        max_age = entry.get("MaxAgeSeconds")
        rule_id = entry.get("ID")
        if not methods or not origins:
            raise malformed_xml()
        if max_age is not None and not 0 <= max_age <= MAX_AGE:
            raise malformed_xml()
        if rule_id is not None and len(rule_id) > MAX_ID:
            raise malformed_xml()
        rules.append(
            CorsRule(
                methods,
                origins,
                tuple(entry.get("AllowedHeaders") or ()),
                tuple(entry.get("ExposeHeaders") or ()),
                max_age,
                rule_id,
            )
        )
    for rule in rules:
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise invalid_request(
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}"
                )
        for origin in rule.allowed_origins:
            if origin.count("*") > 1:
                raise invalid_request(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.allowed_headers:
            if header.count("*") > 1:
                raise invalid_request(f'AllowedHeader "{header}" can not have more than one wildcard.')
        for header in rule.expose_headers:
            if "*" in header:
                raise invalid_request(
                    f'ExposeHeader "{header}" contains wildcard. We currently do not support wildcard for '
                    "ExposeHeader."
                )
    return tuple(rules)


def rules_output(rules: Iterable[CorsRule]) -> list[dict[str, Any]]:
    out = []
    for rule in rules:
        entry: dict[str, Any] = {
            "ID": rule.id,
            "AllowedHeaders": list(rule.allowed_headers) or None,
            "AllowedMethods": list(rule.allowed_methods),
            "AllowedOrigins": list(rule.allowed_origins),
            "ExposeHeaders": list(rule.expose_headers) or None,
            "MaxAgeSeconds": rule.max_age_seconds,
        }
        out.append({k: v for k, v in entry.items() if v is not None})
    return out


def wildcard_match(pattern: str, value: str) -> bool:
    """`*` matches any run of characters (at most one `*` in a pattern)."""
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def split_header_list(text: str | None) -> list[str]:
    return [part.strip().lower() for part in (text or "").split(",") if part.strip()]


def find_rule(
    rules: Iterable[CorsRule], origin: str, method: str, requested_headers: Sequence[str] = ()
) -> CorsRule | None:
    for rule in rules:
        if method not in rule.allowed_methods:
            continue
        if not any(wildcard_match(allowed, origin) for allowed in rule.allowed_origins):
            continue
        allowed_headers = [header.lower() for header in rule.allowed_headers]
        if all(
            any(wildcard_match(allowed, header) for allowed in allowed_headers)
            for header in requested_headers
        ):
            return rule
    return None


def response_headers(rule: CorsRule, origin: str, requested_headers: Sequence[str] = ()) -> dict[str, str]:
    """The Access-Control-* headers S3 answers for a matching rule (preflight or actual request)."""
    wildcard = "*" in rule.allowed_origins
    headers = {
        "Access-Control-Allow-Origin": "*" if wildcard else origin,
        "Access-Control-Allow-Methods": ", ".join(rule.allowed_methods),
        "Vary": VARY,
    }
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    if requested_headers:
        headers["Access-Control-Allow-Headers"] = ", ".join(requested_headers)
    if rule.expose_headers:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule.expose_headers)
    if rule.max_age_seconds is not None:
        headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
    return headers
