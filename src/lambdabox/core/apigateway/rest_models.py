"""REST API models (JSON Schema draft 4) and request validators, and the check a method's validator makes
before its integration runs: required request parameters present, the body valid against the method's
model for its content type. Every REST API starts with the models `Empty` and `Error`, as on AWS."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from urllib.parse import parse_qsl

import orjson

from lambdabox.core.apigateway.http_apis import bad_request, conflict, rest_not_found
from lambdabox.core.apigateway.models import Method, RequestValidator, Resource, RestModel
from lambdabox.core.apigateway.names import new_id
from lambdabox.core.apigateway.store import ApiGatewayStore
from lambdabox.core.http.request import HttpRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jsonschema import Draft4Validator

_DRAFT4 = "http://json-schema.org/draft-04/schema#"
_MODEL_NAME = re.compile(r"[A-Za-z0-9]+")


def default_models() -> list[RestModel]:
    """The models a new REST API has."""
    empty = {"$schema": _DRAFT4, "title": "Empty Schema", "type": "object"}
    error = {
        "$schema": _DRAFT4,
        "title": "Error Schema",
        "type": "object",
        "properties": {"message": {"type": "string"}},
    }
    return [
        RestModel(
            new_id(6),
            "Empty",
            schema=orjson.dumps(empty).decode(),
            description="This is a default empty schema model",
        ),
        RestModel(
            new_id(6),
            "Error",
            schema=orjson.dumps(error).decode(),
            description="This is a default error schema model",
        ),
    ]


class RestModelService:
    """Models and request validators of REST APIs; `api_exists(api_id)` raises for an unknown API."""

    def __init__(self, store: ApiGatewayStore, api_exists: Callable[[str], object]) -> None:
        self._store = store
        self._api_exists = api_exists

    # -- models ---------------------------------------------------------------------------------------
    def create_model(self, api_id: str, model: RestModel) -> RestModel:
        self._api_exists(api_id)
        if _MODEL_NAME.fullmatch(model.name) is None:
            raise bad_request("Model name must be alphanumeric")
        _check_schema(model.schema)
        with self._store.transaction():
            if self._store.get(RestModel, api_id, model.name) is not None:
                raise conflict("Model name already exists for this REST API")
            model = replace(model, model_id=new_id(6))
            self._store.put(api_id, model.name, model)
        return model

    def get_model(self, api_id: str, name: str) -> RestModel:
        self._api_exists(api_id)
        model = self._store.get(RestModel, api_id, name)
        if model is None:
            raise rest_not_found("Invalid model name specified")
        return model

    def list_models(self, api_id: str) -> list[RestModel]:
        self._api_exists(api_id)
        return self._store.list(RestModel, api_id)

    def update_model(self, api_id: str, name: str, change: Callable[[RestModel], RestModel]) -> RestModel:
        with self._store.transaction():
            model = change(self.get_model(api_id, name))
            _check_schema(model.schema)
            self._store.put(api_id, name, model)
        return model

    def delete_model(self, api_id: str, name: str) -> None:
        self.get_model(api_id, name)
        for resource, method in api_methods(self._store, api_id):
            if name in method.request_models.values():
                raise bad_request(
                    f"Cannot delete model '{name}', is referenced in method request: "
                    f"{resource.path}/{method.http_method}"
                )
        self._store.delete(RestModel, api_id, name)

    # -- request validators ---------------------------------------------------------------------------
    def create_validator(self, api_id: str, validator: RequestValidator) -> RequestValidator:
        self._api_exists(api_id)
        validator = replace(validator, validator_id=new_id(6))
        self._store.put(api_id, validator.validator_id, validator)
        return validator

    def get_validator(self, api_id: str, validator_id: str) -> RequestValidator:
        self._api_exists(api_id)
        validator = self._store.get(RequestValidator, api_id, validator_id)
        if validator is None:
            raise rest_not_found("Invalid Request Validator identifier specified")
        return validator

    def list_validators(self, api_id: str) -> list[RequestValidator]:
        self._api_exists(api_id)
        return self._store.list(RequestValidator, api_id)

    def update_validator(
        self, api_id: str, validator_id: str, change: Callable[[RequestValidator], RequestValidator]
    ) -> RequestValidator:
        with self._store.transaction():
            validator = change(self.get_validator(api_id, validator_id))
            self._store.put(api_id, validator_id, validator)
        return validator

    def delete_validator(self, api_id: str, validator_id: str) -> None:
        self.get_validator(api_id, validator_id)
        for resource, method in api_methods(self._store, api_id):
            if method.request_validator_id == validator_id:
                raise bad_request(
                    f"Cannot delete request validator '{validator_id}', is referenced in method: "
                    f"{resource.path}/{method.http_method}"
                )
        self._store.delete(RequestValidator, api_id, validator_id)


def check_method_references(store: ApiGatewayStore, api_id: str, method: Method) -> None:
    """A method names only validators and models its API has (PutMethod, UpdateMethod)."""
    validator_id = method.request_validator_id
    if validator_id is not None and store.get(RequestValidator, api_id, validator_id) is None:
        raise bad_request(f"Invalid Request Validator identifier specified: {validator_id}")
    for name in method.request_models.values():
        if store.get(RestModel, api_id, name) is None:
            raise bad_request(f"Invalid model identifier specified: {name}")


def api_methods(store: ApiGatewayStore, api_id: str) -> list[tuple[Resource, Method]]:
    """Every method of the API, with its resource (what may refer to an authorizer, validator or model)."""
    return [(r, m) for r in store.list(Resource, api_id) for m in r.methods.values()]


def _check_schema(schema: str | None) -> None:
    if schema is None:
        return
    from jsonschema import Draft4Validator  # loaded with the first model (~7 MB nobody else needs)
    from jsonschema.exceptions import SchemaError

    try:
        Draft4Validator.check_schema(orjson.loads(schema))
    except (orjson.JSONDecodeError, SchemaError) as error:
        raise bad_request(
            "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema "
            f"specified. Unsupported keyword(s) or invalid schema: {str(error).splitlines()[0]}]"
        ) from None


# -- the data plane's check -------------------------------------------------------------------------------
def request_problem(
    method: Method,
    validators: Sequence[RequestValidator],
    models: Sequence[RestModel],
    request: HttpRequest,
    path_parameters: Mapping[str, str],
) -> str | None:
    """What a method's request validator (one of the deployed `validators`) finds wrong with `request`
    (API Gateway's message), or None."""
    if method.request_validator_id is None:
        return None
    validator = next((v for v in validators if v.validator_id == method.request_validator_id), None)
    if validator is None:
        return None
    if validator.validate_parameters:
        query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
        missing = [
            name.rsplit(".", 1)[1]
            for name, required in method.request_parameters.items()
            if required and request_parameter(name, request, query, path_parameters) is None
        ]
        if missing:
            return f"Missing required request parameters: [{', '.join(missing)}]"
    if validator.validate_body:
        content_type = (request.header("content-type") or "application/json").split(";", 1)[0].strip().lower()
        name = method.request_models.get(content_type)
        model = next((model for model in models if model.name == name), None)
        if model is not None and model.schema is not None:
            try:
                body = orjson.loads(request.body or b"null")
            except orjson.JSONDecodeError:
                return "Invalid request body"
            if next(_validator(model.schema).iter_errors(body), None) is not None:
                return "Invalid request body"
    return None


def request_parameter(
    name: str, request: HttpRequest, query: Mapping[str, str], path_parameters: Mapping[str, str]
) -> str | None:
    """The value of `method.request.header|querystring|path.<name>` in `request` (None: absent)."""
    for prefix, get in (
        ("method.request.header.", request.header),
        ("method.request.querystring.", query.get),
        ("method.request.path.", path_parameters.get),
    ):
        if name.startswith(prefix):
            return get(name[len(prefix) :])
    return None


@lru_cache(maxsize=256)
def _validator(schema: str) -> Draft4Validator:
    from jsonschema import Draft4Validator

    return Draft4Validator(orjson.loads(schema))
