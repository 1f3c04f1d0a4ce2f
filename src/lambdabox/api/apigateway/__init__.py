"""API Gateway: the HTTP API (apigatewayv2) and REST API (apigateway v1) control planes, and the data
plane that serves their Lambda proxy integrations."""

from lambdabox.api.apigateway.control import ApiGatewayControl
from lambdabox.api.apigateway.data_plane import ExecuteApi
from lambdabox.api.apigateway.jwks import fetch_json

__all__ = ["ApiGatewayControl", "ExecuteApi", "fetch_json"]
