"""The apigateway (REST API, v1) control plane for models and request validators: handlers and shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdabox.api.apigateway.common import Output, Params, delete, get, items, present
from lambdabox.api.apigateway.patch import Field, Spec, boolean, patch_handler
from lambdabox.core.apigateway.models import RequestValidator, RestModel
from lambdabox.core.apigateway.rest_models import RestModelService

Handler = Callable[[RestModelService, Params], Output]
S = RestModelService  # the core methods the table names


def model_shape(model: RestModel) -> dict[str, Any]:
    return present(
        {"id": model.model_id, "name": model.name, "contentType": model.content_type},
        {"schema": model.schema, "description": model.description},
    )


def create_model(service: RestModelService, params: Params) -> Output:
    model = RestModel(
        model_id="",
        name=params["name"],
        content_type=params["contentType"],
        schema=params.get("schema"),
        description=params.get("description"),
    )
    return model_shape(service.create_model(params["restApiId"], model))


def validator_shape(validator: RequestValidator) -> dict[str, Any]:
    return {
        "id": validator.validator_id,
        "name": validator.name,
        "validateRequestBody": validator.validate_body,
        "validateRequestParameters": validator.validate_parameters,
    }


def create_validator(service: RestModelService, params: Params) -> Output:
    validator = RequestValidator(
        validator_id="",
        name=params.get("name", ""),
        validate_body=params.get("validateRequestBody", False),
        validate_parameters=params.get("validateRequestParameters", False),
    )
    return validator_shape(service.create_validator(params["restApiId"], validator))


_MODEL = ("restApiId", "modelName")
_VALIDATOR = ("restApiId", "requestValidatorId")
_MODEL_PATCHES: dict[str, Spec] = {
    "/schema": Field("schema"),
    "/description": Field("description", removable=True),
}
_VALIDATOR_PATCHES: dict[str, Spec] = {
    "/name": Field("name"),
    "/validateRequestBody": Field("validate_body", boolean),
    "/validateRequestParameters": Field("validate_parameters", boolean),
}

HANDLERS: dict[str, Handler] = {
    "CreateModel": create_model,
    "GetModel": get(_MODEL, S.get_model, model_shape),
    "GetModels": items("items", ("restApiId",), S.list_models, model_shape),
    "UpdateModel": patch_handler(_MODEL, S.update_model, _MODEL_PATCHES, model_shape),
    "DeleteModel": delete(_MODEL, S.delete_model),
    "CreateRequestValidator": create_validator,
    "GetRequestValidator": get(_VALIDATOR, S.get_validator, validator_shape),
    "GetRequestValidators": items("items", ("restApiId",), S.list_validators, validator_shape),
    "UpdateRequestValidator": patch_handler(
        _VALIDATOR, S.update_validator, _VALIDATOR_PATCHES, validator_shape
    ),
    "DeleteRequestValidator": delete(_VALIDATOR, S.delete_validator),
}
