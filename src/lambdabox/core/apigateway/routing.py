"""Matching a request path against API Gateway path templates (`/items/{id}`, `/{proxy+}`).

The most specific match wins, as API Gateway decides: compared segment by segment from the left, a literal
segment beats a `{param}`, which beats a greedy `{name+}`; then an exact method beats `ANY`. A `{param}`
matches one non-empty segment, a greedy variable (last segment only) one or more. Values are decoded."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
ANY = "ANY"
DEFAULT_ROUTE = "$default"

_VARIABLE = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")

LITERAL, PARAM, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class PathTemplate:
    path: str
    segments: tuple[tuple[int, str], ...]  # (kind, literal text or variable name)

    @classmethod
    def parse(cls, path: str) -> PathTemplate:
        """Raises ValueError for a template API Gateway refuses (greedy variable not last, a variable
        mixed with text in one segment, empty segments)."""
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        parts = [] if path == "/" else path[1:].split("/")
        segments: list[tuple[int, str]] = []
        for index, part in enumerate(parts):
            if part == "":
                raise ValueError("empty path segment")
            match = _VARIABLE.fullmatch(part)
            if match is None:
                if "{" in part or "}" in part:
                    raise ValueError(f"invalid path segment {part}")
                segments.append((LITERAL, part))
            elif match.group(2):
                if index != len(parts) - 1:
                    raise ValueError("a greedy path variable must be the last segment")
                segments.append((GREEDY, match.group(1)))
            else:
                segments.append((PARAM, match.group(1)))
        return cls(path, tuple(segments))

    @property
    def rank(self) -> tuple[int, ...]:
        return tuple(kind for kind, _ in self.segments)

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The path parameters when `raw_path` (percent-encoded) matches, else None."""
        parts = [] if raw_path in ("", "/") else raw_path[1:].split("/")
        params: dict[str, str] = {}
        for index, (kind, text) in enumerate(self.segments):
            if kind == GREEDY:
                rest = parts[index:]
                if not rest or rest == [""]:
                    return None
                params[text] = unquote("/".join(rest))
                return params
            if index >= len(parts):
                return None
            part = parts[index]
            if kind == LITERAL:
                if part != text:
                    return None
            else:
                if part == "":
                    return None
                params[text] = unquote(part)
        return params if len(parts) == len(self.segments) else None


T = TypeVar("T")


@dataclass(frozen=True)
class Candidate(Generic[T]):
    method: str  # a method or ANY
    template: PathTemplate
    item: T


@dataclass(frozen=True)
class Match(Generic[T]):
    item: T
    template: PathTemplate
    path_parameters: dict[str, str]


def best_match(candidates: Iterable[Candidate[T]], method: str, raw_path: str) -> Match[T] | None:
    """The most specific candidate for `method` on `raw_path`."""
    best: tuple[tuple[int, ...], bool] | None = None
    found: Match[T] | None = None
    for candidate in candidates:
        if candidate.method not in (method, ANY):
            continue
        params = candidate.template.match(raw_path)
        if params is None:
            continue
        key = (candidate.template.rank, candidate.method == ANY)
        if best is None or key < best:
            best, found = key, Match(candidate.item, candidate.template, params)
    return found


def parse_route_key(route_key: str) -> tuple[str, PathTemplate] | None:
    """`(method, template)` of an HTTP API route key; None for `$default`. Raises ValueError."""
    if route_key == DEFAULT_ROUTE:
        return None
    method, sep, path = route_key.partition(" ")
    if not sep or method not in (*METHODS, ANY):
        raise ValueError(f"invalid route key {route_key}")
    return method, PathTemplate.parse(path)
