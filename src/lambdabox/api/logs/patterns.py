"""CloudWatch Logs filter patterns: term patterns, `%regex%` and `{ JSON }` patterns.

Term patterns: plain terms must all occur (case-sensitive), `"quoted phrases"` are one term, `?term` terms
match when any of them occurs, `-term` excludes events containing it. An empty pattern matches everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lambdabox.errors import AwsError

Matcher = Callable[[str], bool]

_JSON_TOKEN = re.compile(
    r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))"""
    r"""|(?P<str>"(?:[^"\\]|\\.)*")"""
    r"""|(?P<regex>%[^%]*%)"""
    r"""|(?P<sel>\$(?:\.[A-Za-z0-9_\-@$]+|\[\d+\])*)"""
    r"""|(?P<word>[^\s()=!<>&|"]+))"""
)


def invalid(pattern: str) -> AwsError:
    return AwsError("InvalidParameterException", f"Invalid filter pattern: {pattern}")


def compile_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if text in ("", '""'):
        return lambda message: True
    if text.startswith("{"):
        return _json_pattern(text)
    if text.startswith("["):
        raise AwsError(
            "InvalidParameterException",
            "Lambdabox does not support space-delimited filter patterns ([...]) yet; "
            "use terms, %regex% or { JSON } patterns.",
        )
    if len(text) > 1 and text.startswith("%") and text.endswith("%"):
        regex = _regex(text, pattern or "")
        return lambda message: regex.search(message) is not None
    return _term_pattern(text, pattern or "")


def _regex(text: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(text[1:-1])
    except re.error:
        raise invalid(pattern) from None


def _term_pattern(text: str, pattern: str) -> Matcher:
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        target = required
        if text[position] in "?-" and position + 1 < len(text) and not text[position + 1].isspace():
            target = optional if text[position] == "?" else excluded
            position += 1
        if text[position] == '"':
            end = position + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= len(text):
                raise invalid(pattern)
            term = re.sub(r"\\(.)", r"\1", text[position + 1 : end])
            position = end + 1
        else:
            end = position
            while end < len(text) and not text[end].isspace():
                end += 1
            term = text[position:end]
            position = end
        if term:
            target.append(term)

    def matches(message: str) -> bool:
        if any(term in message for term in excluded):
            return False
        if not all(term in message for term in required):
            return False
        return not optional or any(term in message for term in optional)

    return matches


# -- { JSON } patterns ---------------------------------------------------------------------------------
JsonTest = Callable[[Any], bool]
_MISSING = object()


def _json_pattern(text: str) -> Matcher:
    if not text.endswith("}"):
        raise invalid(text)
    tokens: list[tuple[str, str]] = []
    body = text[1:-1]
    position = 0
    while position < len(body):
        match = _JSON_TOKEN.match(body, position)
        if match is None or match.end() == position:
            if body[position:].strip() == "":
                break
            raise invalid(text)
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    parser = _JsonParser(tokens, text)
    test = parser.parse()

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return test(document)

    return matches


class _JsonParser:
    def __init__(self, tokens: list[tuple[str, str]], text: str) -> None:
        self._tokens = tokens
        self._at = 0
        self._text = text

    def parse(self) -> JsonTest:
        test = self._or()
        if self._at != len(self._tokens):
            raise invalid(self._text)
        return test

    def _peek(self) -> tuple[str, str] | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise invalid(self._text)
        self._at += 1
        return token

    def _or(self) -> JsonTest:
        tests = [self._and()]
        while self._peek() == ("op", "||"):
            self._at += 1
            tests.append(self._and())
        return tests[0] if len(tests) == 1 else lambda doc: any(t(doc) for t in tests)

    def _and(self) -> JsonTest:
        tests = [self._unary()]
        while self._peek() == ("op", "&&"):
            self._at += 1
            tests.append(self._unary())
        return tests[0] if len(tests) == 1 else lambda doc: all(t(doc) for t in tests)

    def _unary(self) -> JsonTest:
        if self._peek() == ("op", "("):
            self._at += 1
            test = self._or()
            if self._take() != ("op", ")"):
                raise invalid(self._text)
            return test
        kind, selector = self._take()
        if kind != "sel":
            raise invalid(self._text)
        path = _path(selector)
        kind, word = self._take()
        if kind == "word" and word.upper() in ("IS", "NOT"):
            return self._keyword(path, word.upper())
        if kind != "op" or word not in ("=", "!=", "<", ">", "<=", ">="):
            raise invalid(self._text)
        return _comparison(path, word, self._take(), self._text)

    def _keyword(self, path: list[str | int], keyword: str) -> JsonTest:
        _, word = self._take()
        word = word.upper()
        if keyword == "NOT" and word == "EXISTS":
            return lambda doc: _select(doc, path) is _MISSING
        if keyword == "IS" and word in ("TRUE", "FALSE", "NULL"):
            expected = {"TRUE": True, "FALSE": False, "NULL": None}[word]
            return lambda doc: _select(doc, path) is expected
        raise invalid(self._text)


def _path(selector: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p[1:] for p in re.findall(r"\.[^.\[]+|\[\d+\]", selector)]


def _select(document: Any, path: list[str | int]) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(document, list) or part >= len(document):
                return _MISSING
            document = document[part]
        elif isinstance(document, dict) and part in document:
            document = document[part]
        else:
            return _MISSING
    return document


def _comparison(path: list[str | int], op: str, token: tuple[str, str], text: str) -> JsonTest:
    kind, raw = token
    number: float | None = None
    if kind == "word":
        try:
            number = float(raw)
        except ValueError:
            number = None
    if number is not None:
        value = number
        compare: dict[str, Callable[[float], bool]] = {
            "=": lambda v: v == value,
            "!=": lambda v: v != value,
            "<": lambda v: v < value,
            ">": lambda v: v > value,
            "<=": lambda v: v <= value,
            ">=": lambda v: v >= value,
        }
        check = compare[op]
        return lambda doc: _is_number(found := _select(doc, path)) and check(found)
    if op not in ("=", "!="):
        raise invalid(text)
    if kind == "regex":
        regex = _regex(raw, text)
        equal: Callable[[str], bool] = lambda v: regex.search(v) is not None  # noqa: E731
    elif kind in ("str", "word"):
        expected: str = json.loads(raw) if kind == "str" else raw
        if "*" in expected:
            wildcard = re.compile(".*".join(re.escape(part) for part in expected.split("*")), re.DOTALL)
            equal = lambda v: wildcard.fullmatch(v) is not None  # noqa: E731
        else:
            equal = expected.__eq__
    else:
        raise invalid(text)
    if op == "=":
        return lambda doc: isinstance(found := _select(doc, path), str) and equal(found)
    return lambda doc: isinstance(found := _select(doc, path), str) and not equal(found)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
