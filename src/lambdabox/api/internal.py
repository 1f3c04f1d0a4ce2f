"""Lambdabox's own endpoints under /_lambdabox/: readiness, code downloads, and the endpoints other
components mount under a path prefix (`routes`, e.g. the EventBridge scheduler's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from lambdabox.aws.wire import WireRequest, WireResponse
from lambdabox.core.functions import FunctionService
from lambdabox.core.layers.service import LayerService
from lambdabox.errors import AwsError
from lambdabox.storage.interfaces import CodeStore

Route = Callable[[WireRequest], Awaitable[WireResponse]]


class InternalApi:
    def __init__(
        self,
        functions: FunctionService,
        code: CodeStore,
        health: Callable[[], dict[str, Any]],
        routes: Mapping[str, Route] | None = None,
        layers: LayerService | None = None,
    ) -> None:
        self._functions = functions
        self._code = code
        self._health = health
        self._routes = dict(routes or {})
        self._layers = layers

    async def handle(self, request: WireRequest) -> WireResponse:
        path = request.raw_path
        if path == "/_lambdabox/health" and request.method in ("GET", "HEAD"):
            return _json(200, self._health())
        if path.startswith("/_lambdabox/code/layers/") and path.count("/") == 5 and request.method == "GET":
            return self._layer_zip(path.split("/"))  # a layer version's Content.Location
        if path.startswith("/_lambdabox/code/") and request.method == "GET":
            parts = path.split("/")
            if len(parts) == 5:
                try:
                    version = self._functions.version(parts[3], parts[4].replace("%24", "$"))
                except AwsError as error:
                    return _json(error.status, {"message": error.message})
                data = self._code.zip_path(version.code).read_bytes()
                return WireResponse(200, {"Content-Type": "application/zip"}, data)
        for prefix, route in self._routes.items():
            if path == prefix or path.startswith(prefix + "/"):
                return await route(request)
        return _json(404, {"message": f"No such Lambdabox endpoint: {path}"})

    def _layer_zip(self, parts: list[str]) -> WireResponse:
        if self._layers is None or not parts[5].isdigit():
            return _json(404, {"message": "The resource you requested does not exist."})
        try:
            version = self._layers.get(parts[4], int(parts[5]))
        except AwsError as error:
            return _json(error.status, {"message": error.message})
        data = self._code.zip_path(version.code).read_bytes()
        return WireResponse(200, {"Content-Type": "application/zip"}, data)


def _json(status: int, document: dict[str, Any]) -> WireResponse:
    return WireResponse(status, {"Content-Type": "application/json"}, orjson.dumps(document))
