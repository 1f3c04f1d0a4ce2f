"""HTTP requests as Lambda sees them: the event payloads API Gateway and function URLs send, and the
mapping of a function's result back to an HTTP response. No sockets here: front ends build an
`HttpRequest` from their wire request and turn the `HttpResponse` into bytes on theirs."""

from lambdabox.core.http.request import HttpRequest, HttpResponse, MalformedResponse

__all__ = ["HttpRequest", "HttpResponse", "MalformedResponse"]
