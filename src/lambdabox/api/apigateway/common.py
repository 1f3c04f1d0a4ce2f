"""What the API Gateway control planes (v1 REST APIs, v2 HTTP APIs) share: the handler types, dates, and
the handlers of operations that only find, list, update or delete a resource named by request members.

`keys` are the request members that name a resource, parent first (`("ApiId", "RouteId")`); the core
service method takes them in that order after the service (`HttpApiService.get_route(api_id, route_id)`).
Each resource's AWS shape stays an explicit `*_shape` function next to its handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Concatenate, TypeVar

Params = dict[str, Any]
Output = dict[str, Any] | None
S = TypeVar("S")  # the core service: HttpApiService or RestApiService
M = TypeVar("M")  # a domain record: Route, Stage, RestApi, ...


def date(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def present(shape: dict[str, Any], members: Mapping[str, Any]) -> dict[str, Any]:
    """`shape` with those of `members` (in their order) whose value is not None: the optional members
    AWS leaves out of an answer rather than sending null."""
    shape.update((member, value) for member, value in members.items() if value is not None)
    return shape


def get(
    keys: tuple[str, ...], find: Callable[Concatenate[S, ...], M], shape: Callable[[M], dict[str, Any]]
) -> Callable[[S, Params], Output]:
    """Get<Resource>: the resource `keys` name, in its AWS shape."""

    def handler(service: S, params: Params) -> Output:
        return shape(find(service, *[params[key] for key in keys]))

    return handler


def items(
    member: str,
    keys: tuple[str, ...],
    find: Callable[Concatenate[S, ...], Iterable[M]],
    shape: Callable[[M], dict[str, Any]],
) -> Callable[[S, Params], Output]:
    """Get<Resources>: every resource under the parent `keys` name, as `{member: [shape, ...]}`."""

    def handler(service: S, params: Params) -> Output:
        return {member: [shape(item) for item in find(service, *[params[key] for key in keys])]}

    return handler


def update(
    keys: tuple[str, ...],
    change: Callable[Concatenate[S, ...], M],
    changes: Callable[[Params], Mapping[str, Any]],
    shape: Callable[[M], dict[str, Any]],
) -> Callable[[S, Params], Output]:
    """Update<Resource>: `change(service, *keys, changes(params))`, answered with the updated shape."""

    def handler(service: S, params: Params) -> Output:
        return shape(change(service, *[params[key] for key in keys], changes(params)))

    return handler


def delete(
    keys: tuple[str, ...], remove: Callable[Concatenate[S, ...], None]
) -> Callable[[S, Params], Output]:
    """Delete<Resource>: an empty answer (the model's 202/204 status)."""

    def handler(service: S, params: Params) -> Output:
        remove(service, *[params[key] for key in keys])
        return None

    return handler
