"""Function URL configurations: Create/Get/Update/Delete/ListFunctionUrlConfig(s)."""

from __future__ import annotations

from typing import Any

from lambdabox.api.cors_shape import cors_shape
from lambdabox.api.lambda_.context import Call, Output
from lambdabox.api.lambda_.shapes import paginate
from lambdabox.core.function_urls import Cors, FunctionUrl, FunctionUrls
from lambdabox.errors import AwsError


def _urls(call: Call) -> FunctionUrls:
    urls = call.deps.function_urls
    if urls is None:
        raise AwsError("ServiceException", "Function URLs are not configured on this server.", 500)
    return urls


def _cors(shape: dict[str, Any] | None) -> Cors | None:
    if shape is None:
        return None

    def strings(member: str) -> tuple[str, ...] | None:
        values = shape.get(member)
        return None if values is None else tuple(values)

    return Cors(
        allow_credentials=shape.get("AllowCredentials"),
        allow_headers=strings("AllowHeaders"),
        allow_methods=strings("AllowMethods"),
        allow_origins=strings("AllowOrigins"),
        expose_headers=strings("ExposeHeaders"),
        max_age=shape.get("MaxAge"),
    )


def url_config(call: Call, url: FunctionUrl, *, modified: bool = True) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "FunctionUrl": _urls(call).public_url(url.url_id),
        "FunctionArn": call.deps.account.function_arn(url.function_name, url.qualifier),
        "AuthType": url.auth_type,
        "CreationTime": url.created,
        "InvokeMode": url.invoke_mode,
    }
    if modified:
        shape["LastModifiedTime"] = url.last_modified
    if url.cors is not None:
        shape["Cors"] = cors_shape(url.cors)
    return shape


def create_function_url_config(call: Call) -> Output:
    p = call.params
    url = _urls(call).create(call.ref(), p["AuthType"], _cors(p.get("Cors")), p.get("InvokeMode"))
    return url_config(call, url, modified=False)


def get_function_url_config(call: Call) -> Output:
    return url_config(call, _urls(call).get(call.ref()))


def update_function_url_config(call: Call) -> Output:
    p = call.params
    url = _urls(call).update(call.ref(), p.get("AuthType"), _cors(p.get("Cors")), p.get("InvokeMode"))
    return url_config(call, url)


def delete_function_url_config(call: Call) -> Output:
    _urls(call).delete(call.ref())
    return None


def list_function_url_configs(call: Call) -> Output:
    ref = call.ref(qualifier_member=None)
    if ref.qualifier is not None:
        raise AwsError(
            "InvalidParameterValueException", "Please specify an unqualified function name or ARN."
        )
    urls = _urls(call).list(ref.name)
    page, marker = paginate(urls, call.params.get("Marker"), call.params.get("MaxItems"), 50)
    output: dict[str, Any] = {"FunctionUrlConfigs": [url_config(call, url) for url in page]}
    if marker:
        output["NextMarker"] = marker
    return output
