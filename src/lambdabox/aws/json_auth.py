"""How the JSON-family services (Lambda's rest-json, CloudWatch Logs' json) answer a request whose
signature is missing or refused.

Lambda answers every authentication failure with 403; Coral-based json services (CloudWatch Logs)
answer them with 400 (e.g. `{"__type":"UnrecognizedClientException","message":"The security token
included in the request is invalid."}` is a `400 Bad Request` from logs.<region>.amazonaws.com).
"""

from __future__ import annotations

from lambdabox.aws.sigv4 import MAX_SKEW_SECONDS, Problem, SignatureError
from lambdabox.errors import AwsError

MISSING_TOKEN = "Missing Authentication Token"
INVALID_TOKEN = "The security token included in the request is invalid."


# The rest-json control planes (Lambda, API Gateway, EventBridge Scheduler) answer 403, as Lambda does.
STATUS = {"lambda": 403, "logs": 400, "apigateway": 403, "scheduler": 403}
DEFAULT_STATUS = 400  # Coral services


def missing(service: str) -> AwsError:
    return AwsError("MissingAuthenticationTokenException", MISSING_TOKEN, STATUS.get(service, DEFAULT_STATUS))


def refused(service: str, error: SignatureError) -> AwsError:
    code, message = _wording(error)
    return AwsError(code, message, STATUS.get(service, DEFAULT_STATUS))


def _wording(error: SignatureError) -> tuple[str, str]:
    d = error.details
    problem = error.problem
    if problem in (Problem.UNKNOWN_KEY, Problem.BAD_TOKEN):
        return "UnrecognizedClientException", INVALID_TOKEN
    if problem is Problem.EXPIRED_TOKEN:
        return "ExpiredTokenException", "The security token included in the request is expired"
    if problem is Problem.BAD_DATE:
        return (
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    if problem in (Problem.MALFORMED, Problem.UNSUPPORTED, Problem.EXPIRES):
        return "IncompleteSignatureException", error.message
    if problem is Problem.CREDENTIAL_DATE:
        return (
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{d['provided']}' != '{d['expected']}', from '{d['amz_date']}'.",
        )
    if problem is Problem.REGION:
        return (
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{d['provided']}'. ",
        )
    if problem is Problem.SERVICE:
        return (
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{d['expected']}'. ",
        )
    if problem is Problem.TERMINAL:
        return (
            "InvalidSignatureException",
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{d['provided']}'. ",
        )
    minutes = MAX_SKEW_SECONDS // 60
    if problem is Problem.SKEWED:
        if d.get("later"):
            return (
                "InvalidSignatureException",
                f"Signature not yet current: {d['request_time']} is still later than {d['latest']} "
                f"({d['server_time']} + {minutes} min.)",
            )
        return (
            "InvalidSignatureException",
            f"Signature expired: {d['request_time']} is now earlier than {d['earliest']} "
            f"({d['server_time']} - {minutes} min.)",
        )
    if problem is Problem.EXPIRED:
        return "InvalidSignatureException", "Signature expired: the presigned request has expired."
    return (
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
        f"The Canonical String for this request should have been\n'{d.get('canonical_request', '')}'\n\n"
        f"The String-to-Sign should have been\n'{d.get('string_to_sign', '')}'\n",
    )
