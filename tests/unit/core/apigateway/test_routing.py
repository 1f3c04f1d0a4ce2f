"""Route matching as API Gateway does it: most specific template, path parameters, greedy paths, ANY."""

from __future__ import annotations

import pytest

from lambdabox.core.apigateway.routing import Candidate, PathTemplate, best_match, parse_route_key


def _routes(*keys: str) -> list[Candidate[str]]:
    candidates = []
    for key in keys:
        parsed = parse_route_key(key)
        assert parsed is not None
        candidates.append(Candidate(parsed[0], parsed[1], key))
    return candidates


ROUTES = _routes(
    "GET /items",
    "GET /items/{id}",
    "GET /items/special",
    "ANY /items/{id}",
    "POST /items/{id}/tags/{tag}",
    "GET /{proxy+}",
    "ANY /files/{path+}",
    "GET /",
)


@pytest.mark.parametrize(
    ("method", "path", "route", "params"),
    [
        ("GET", "/items", "GET /items", {}),
        ("GET", "/items/42", "GET /items/{id}", {"id": "42"}),
        ("GET", "/items/special", "GET /items/special", {}),
        ("DELETE", "/items/42", "ANY /items/{id}", {"id": "42"}),
        ("POST", "/items/1/tags/red", "POST /items/{id}/tags/{tag}", {"id": "1", "tag": "red"}),
        ("GET", "/files/a/b/c.txt", "ANY /files/{path+}", {"path": "a/b/c.txt"}),
        ("GET", "/other/deep/path", "GET /{proxy+}", {"proxy": "other/deep/path"}),
        ("GET", "/items/42/more", "GET /{proxy+}", {"proxy": "items/42/more"}),
        ("GET", "/items/a%2Fb", "GET /items/{id}", {"id": "a/b"}),
        ("GET", "/", "GET /", {}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, route: str, params: dict[str, str]) -> None:
    match = best_match(ROUTES, method, path)
    assert match is not None
    assert (match.item, match.path_parameters) == (route, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/items"), ("PUT", "/nothing"), ("POST", "/files"), ("POST", "/items/1/tags")],
)
def test_no_match(method: str, path: str) -> None:
    assert best_match(ROUTES, method, path) is None


def test_greedy_needs_at_least_one_segment_and_params_are_not_empty() -> None:
    template = PathTemplate.parse("/{proxy+}")
    assert template.match("/") is None
    assert PathTemplate.parse("/a/{id}").match("/a/") is None
    assert template.match("/x") == {"proxy": "x"}


@pytest.mark.parametrize(
    "key", ["GET", "FETCH /a", "GET a", "GET /{proxy+}/x", "GET /a//b", "GET /a{id}", "get /a"]
)
def test_invalid_route_keys(key: str) -> None:
    with pytest.raises(ValueError):
        parse_route_key(key)


def test_default_route_key() -> None:
    assert parse_route_key("$default") is None
